/**
 * The wasm backend's Identity kernel, sharing its input's memory instead of copying it.
 *
 * tfjs-core clones every tensor it saves for the backward pass (Engine.saveTensorsForBackwardMode
 * keeps `clone(t)`), and a clone runs the Identity kernel, which tfjs-backend-wasm implements as a
 * copy of the whole buffer; the cpu backend shares the data instead (and wasm's own Reshape does).
 * A GAT epoch on Cora saves several 2708 × 4096 activations: the copies were ~6% of its time.
 *
 * Sharing is sound because no tensor's memory is ever written after its kernel returns: tfjs
 * kernels write only their fresh outputs, ours too (trainer/ops/kernel-bridge.ts: inputs are read,
 * outputs allocated; FusedAdam assigns a new tensor to the variable, never writes it in place).
 */
import * as tf from "@tensorflow/tfjs-core";

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

let installedOn: tf.KernelFunc | null = null;

/** Replaces the registered wasm Identity kernel by one that shares memory (idempotent). */
export function shareIdentityOnWasm(): void {
  const stock = tf.getKernel("Identity", "wasm");
  if (stock == null) throw new Error("shareIdentityOnWasm: the wasm backend is not loaded (no Identity kernel registered)");
  if (stock.kernelFunc === installedOn) return;
  const copy = stock.kernelFunc;
  const share: tf.KernelFunc = (args) => {
    const x = args.inputs.x!;
    // strings live in JS, not on the heap: the stock kernel handles them
    if (x.dtype === "string") return copy(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({ kernelName: "Identity", backendName: "wasm", kernelFunc: share });
  installedOn = share;
}
