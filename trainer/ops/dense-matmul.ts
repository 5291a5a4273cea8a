/**
 * y = A · B (dense, 2-D) whose gradient never asks for a matMul with a transposed operand:
 *
 *   dA = dy · transpose(B)      dB = transpose(A) · dy      (transposes materialised first)
 *
 * Why: on tfjs-backend-wasm a matMul with transposeA/transposeB (what tf.matMul's own gradient uses)
 * is far slower than a plain one. Measured here for the GCN hidden → output layer
 * (2708×512 · 512×7): dA 15.0 ms → 0.6 ms, dB 15.3 ms → 1.2 ms (transpose of the 2708×512 operand
 * included); for 2708×1433 features · 1433×512, dW = Xᵀ·dy takes 2.9 s with transposeA and 0.12 s
 * as transpose + plain matMul.
 *
 * The forward is the backend's own BatchMatMul kernel; gradients are registered, so tfjs only
 * computes the ones it needs. `auto` uses this on wasm and stock tf.matMul elsewhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import { ensureKernel, type OpImpl } from "./kernel-bridge.js";

const DENSE_MM_KERNEL = "FastgltDenseMatMul";

if (tf.getGradient(DENSE_MM_KERNEL) == null) {
  tf.registerGradient({
    kernelName: DENSE_MM_KERNEL,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
      const d = dy as tf.Tensor2D;
      return {
        a: () => denseMatMul(d, tf.transpose(b), { impl: "custom" }),
        b: () => denseMatMul(tf.transpose(a), d, { impl: "custom" }),
      };
    },
  });
}

function ensureDenseKernel(): void {
  const backendName = tf.getBackend();
  if (tf.getKernel(DENSE_MM_KERNEL, backendName) != null) return;
  const bmm = tf.getKernel("BatchMatMul", backendName);
  if (bmm == null) throw new Error(`denseMatMul: backend "${backendName}" has no BatchMatMul kernel`);
  ensureKernel(DENSE_MM_KERNEL, ({ inputs, backend }) =>
    bmm.kernelFunc({ inputs: { a: inputs.a, b: inputs.b }, backend, attrs: { transposeA: false, transposeB: false } }),
  );
}

function useCustomDense(impl: OpImpl): boolean {
  if (impl === "custom") return true;
  if (impl === "stock") return false;
  return tf.getBackend() === "wasm";
}

/** a (M × K) · b (K × N), differentiable in both, without transposed-operand matMuls in the gradient. */
export function denseMatMul(a: tf.Tensor2D, b: tf.Tensor2D, opts: { impl?: OpImpl } = {}): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new Error(`denseMatMul: shapes [${a.shape.join(", ")}] and [${b.shape.join(", ")}] do not multiply`);
  }
  if (a.dtype !== "float32" || b.dtype !== "float32") throw new Error(`denseMatMul: expected float32, got ${a.dtype} and ${b.dtype}`);
  if (!useCustomDense(opts.impl ?? "auto")) return tf.matMul(a, b);
  ensureDenseKernel();
  return tf.engine().runKernel(DENSE_MM_KERNEL, { a, b }) as tf.Tensor2D;
}
