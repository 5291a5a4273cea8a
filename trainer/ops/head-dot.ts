/**
 * Per-head dot products of the rows of z with one vector per head (GAT's attention scores
 * el = Σ_c a_src[k, c] · Z[u, k, c]):
 *
 *   y[r, k] = Σ_c z[r, k·F + c] · a[k, c]        z: R × (H·F), a: H × F, y: R × H
 *
 * Gradients:  dz[r, k·F + c] = dy[r, k] · a[k, c]      da[k, c] = Σ_r dy[r, k] · z[r, k·F + c]
 *
 * One JS pass over z each (the stock reshape → mul → sum and its broadcast gradients make several
 * passes and allocate z-sized intermediates).
 */
import * as tf from "@tensorflow/tfjs-core";
import { ensureKernel, F32Output, readF32 } from "./kernel-bridge.js";

const HEAD_DOT_KERNEL = "FastgltHeadDot";
const GRAD_Z_KERNEL = "FastgltHeadDotGradZ";
const GRAD_A_KERNEL = "FastgltHeadDotGradA";

const forwardKernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const [rows, width] = inputs.z!.shape;
  const [heads, f] = inputs.a!.shape;
  const out = new F32Output(backend, [rows, heads]);
  const z = readF32(backend, inputs.z!, "headDot z");
  const a = readF32(backend, inputs.a!, "headDot a");
  const y = out.view();
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let k = 0; k < heads; k++) {
      let s = 0;
      const zk = base + k * f;
      const ak = k * f;
      for (let c = 0; c < f; c++) s += z[zk + c] * a[ak + c];
      y[r * heads + k] = s;
    }
  }
  return out.finish();
};

/** {dy [R, H], a [H, F]} → dz [R, H·F] */
const gradZKernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const [rows, heads] = inputs.dy!.shape;
  const f = inputs.a!.shape[1];
  const width = heads * f;
  const out = new F32Output(backend, [rows, width]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const a = readF32(backend, inputs.a!, "headDot a");
  const dz = out.view();
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < heads; k++) {
      const d = dy[r * heads + k];
      const o = r * width + k * f;
      const ak = k * f;
      for (let c = 0; c < f; c++) dz[o + c] = d * a[ak + c];
    }
  }
  return out.finish();
};

/** {dy [R, H], z [R, H·F]} → da [H, F] */
const gradAKernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const [rows, heads] = inputs.dy!.shape;
  const width = inputs.z!.shape[1];
  const f = width / heads;
  const out = new F32Output(backend, [heads, f]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const z = readF32(backend, inputs.z!, "headDot z");
  const acc = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    for (let k = 0; k < heads; k++) {
      const d = dy[r * heads + k];
      if (d === 0) continue;
      const o = k * f;
      for (let c = 0; c < f; c++) acc[o + c] += d * z[base + o + c];
    }
  }
  out.view().set(acc);
  return out.finish();
};

if (tf.getGradient(HEAD_DOT_KERNEL) == null) {
  tf.registerGradient({
    kernelName: HEAD_DOT_KERNEL,
    inputsToSave: ["z", "a"],
    gradFunc: (dy, saved) => {
      const [z, a] = saved;
      const d = dy as tf.Tensor;
      return {
        z: () => tf.engine().runKernel(GRAD_Z_KERNEL, { dy: d, a }) as tf.Tensor,
        a: () => tf.engine().runKernel(GRAD_A_KERNEL, { dy: d, z }) as tf.Tensor,
      };
    },
  });
}

/** y [R, H] with y[r, k] = z[r, k·F : (k+1)·F] · a[k, :]; z is [R, H·F], a is [H, F]. Differentiable in both. */
export function headDot(z: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D {
  if (z.rank !== 2 || a.rank !== 2 || z.shape[1] !== a.shape[0] * a.shape[1]) {
    throw new Error(`headDot: z must be [R, heads·F] for a of shape [heads, F], got z [${z.shape.join(", ")}] and a [${a.shape.join(", ")}]`);
  }
  if (z.dtype !== "float32" || a.dtype !== "float32") throw new Error(`headDot: expected float32, got ${z.dtype} and ${a.dtype}`);
  ensureKernel(HEAD_DOT_KERNEL, forwardKernelFunc);
  ensureKernel(GRAD_Z_KERNEL, gradZKernelFunc);
  ensureKernel(GRAD_A_KERNEL, gradAKernelFunc);
  return tf.engine().runKernel(HEAD_DOT_KERNEL, { z, a }) as tf.Tensor2D;
}
