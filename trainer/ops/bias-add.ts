/**
 * y = x + b (x: R × C, b: C, broadcast over rows) whose bias gradient is a matrix product,
 * db = 1ᵀ·dy (1 × R times R × C), instead of tfjs's Sum over axis 0: on tfjs-backend-wasm that
 * reduction transposes dy first and takes ~58 ms for 2708 × 4096, the product ~2 ms.
 *
 * The forward is the backend's own Add kernel; the gradient is registered, so tfjs computes only
 * the parts it needs. `auto` uses this on wasm and stock tf.add elsewhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import { denseMatMul } from "./dense-matmul.js";
import { ensureKernel, type OpImpl } from "./kernel-bridge.js";

const BIAS_ADD_KERNEL = "FastgltBiasAdd";

if (tf.getGradient(BIAS_ADD_KERNEL) == null) {
  tf.registerGradient({
    kernelName: BIAS_ADD_KERNEL,
    inputsToSave: [],
    gradFunc: (dy) => {
      const d = dy as tf.Tensor2D;
      return {
        x: () => tf.reshape(d, d.shape),
        b: () => tf.reshape(denseMatMul(tf.ones([1, d.shape[0]]) as tf.Tensor2D, d, { impl: "custom" }), [d.shape[1]]),
      };
    },
  });
}

function ensureBiasAddKernel(): void {
  const backendName = tf.getBackend();
  if (tf.getKernel(BIAS_ADD_KERNEL, backendName) != null) return;
  const add = tf.getKernel("Add", backendName);
  if (add == null) throw new Error(`biasAdd: backend "${backendName}" has no Add kernel`);
  ensureKernel(BIAS_ADD_KERNEL, ({ inputs, backend }) => add.kernelFunc({ inputs: { a: inputs.x, b: inputs.b }, backend, attrs: {} }));
}

/** x (R × C) + b (C), differentiable in both. */
export function biasAdd(x: tf.Tensor2D, b: tf.Tensor1D, opts: { impl?: OpImpl } = {}): tf.Tensor2D {
  if (x.rank !== 2 || b.rank !== 1 || x.shape[1] !== b.shape[0]) {
    throw new Error(`biasAdd: x must be [R, C] and b [C], got [${x.shape.join(", ")}] and [${b.shape.join(", ")}]`);
  }
  if (x.dtype !== "float32" || b.dtype !== "float32") throw new Error(`biasAdd: expected float32, got ${x.dtype} and ${b.dtype}`);
  const impl = opts.impl ?? "auto";
  if (impl === "stock" || (impl === "auto" && tf.getBackend() !== "wasm")) return tf.add(x, b);
  ensureBiasAddKernel();
  return tf.engine().runKernel(BIAS_ADD_KERNEL, { x, b }) as tf.Tensor2D;
}
