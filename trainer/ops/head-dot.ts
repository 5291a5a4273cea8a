/**
 * Per-head dot products of the rows of z with P vectors per head (GAT's attention scores: P = 2,
 * el[u, k] = a_src[k] · Z[u, k, :] and er[u, k] = a_dst[k] · Z[u, k, :] in one pass over Z):
 *
 *   y[r, p·H + k] = Σ_c z[r, k·F + c] · a[p, k, c]        z: R × (H·F), a: P × H × F, y: R × (P·H)
 *
 * Gradients:  dz[r, k·F + c] = Σ_p dy[r, p·H + k] · a[p, k, c]      da[p, k, c] = Σ_r dy[r, p·H + k] · z[r, k·F + c]
 *
 * Since y = z · A with A block-diagonal, headDot(W, a) is W·A: a GAT's scores of H·W are then
 * H · headDot(W, a), cheaper when W has fewer rows than H (Cora's first layer: 1433 vs 2708).
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
  const [p, heads, f] = inputs.a!.shape;
  const ph = p * heads;
  const out = new F32Output(backend, [rows, ph]);
  const z = readF32(backend, inputs.z!, "headDot z");
  const a = readF32(backend, inputs.a!, "headDot a");
  const y = out.view();
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < heads; k++) {
      const zk = r * width + k * f;
      for (let q = 0; q < p; q++) {
        const aq = (q * heads + k) * f;
        let s = 0;
        for (let c = 0; c < f; c++) s += z[zk + c] * a[aq + c];
        y[r * ph + q * heads + k] = s;
      }
    }
  }
  return out.finish();
};

/** {dy [R, P·H], a [P, H, F]} → dz [R, H·F] */
const gradZKernelFunc: tf.KernelFunc = ({ inputs, backend }) => {
  const rows = inputs.dy!.shape[0];
  const [p, heads, f] = inputs.a!.shape;
  const ph = p * heads;
  const width = heads * f;
  const out = new F32Output(backend, [rows, width]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const a = readF32(backend, inputs.a!, "headDot a");
  const dz = out.view();
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < heads; k++) {
      const o = r * width + k * f;
      const d0 = dy[r * ph + k];
      const a0 = k * f;
      for (let c = 0; c < f; c++) dz[o + c] = d0 * a[a0 + c];
      for (let q = 1; q < p; q++) {
        const d = dy[r * ph + q * heads + k];
        const aq = (q * heads + k) * f;
        for (let c = 0; c < f; c++) dz[o + c] += d * a[aq + c];
      }
    }
  }
  return out.finish();
};

/** {dy [R, P·H], z [R, H·F]} → da [P, H, F] */
const gradAKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const [rows, ph] = inputs.dy!.shape;
  const width = inputs.z!.shape[1];
  const { p, heads } = attrs as unknown as { p: number; heads: number };
  const f = width / heads;
  const out = new F32Output(backend, [p, heads, f]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const z = readF32(backend, inputs.z!, "headDot z");
  const acc = new Float64Array(p * width);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < heads; k++) {
      const zk = r * width + k * f;
      for (let q = 0; q < p; q++) {
        const d = dy[r * ph + q * heads + k];
        if (d === 0) continue;
        const o = (q * heads + k) * f;
        for (let c = 0; c < f; c++) acc[o + c] += d * z[zk + c];
      }
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
        a: () => tf.engine().runKernel(GRAD_A_KERNEL, { dy: d, z }, { p: a.shape[0]!, heads: a.shape[1]! }) as tf.Tensor,
      };
    },
  });
}

/** y [R, P·H] with y[r, p·H + k] = z[r, k·F : (k+1)·F] · a[p, k, :]; z is [R, H·F], a is [P, H, F]. Differentiable in both. */
export function headDot(z: tf.Tensor2D, a: tf.Tensor3D): tf.Tensor2D {
  if (z.rank !== 2 || a.rank !== 3 || z.shape[1] !== a.shape[1] * a.shape[2]) {
    throw new Error(`headDot: z must be [R, heads·F] for a of shape [P, heads, F], got z [${z.shape.join(", ")}] and a [${a.shape.join(", ")}]`);
  }
  if (z.dtype !== "float32" || a.dtype !== "float32") throw new Error(`headDot: expected float32, got ${z.dtype} and ${a.dtype}`);
  ensureKernel(HEAD_DOT_KERNEL, forwardKernelFunc);
  ensureKernel(GRAD_Z_KERNEL, gradZKernelFunc);
  ensureKernel(GRAD_A_KERNEL, gradAKernelFunc);
  return tf.engine().runKernel(HEAD_DOT_KERNEL, { z, a }) as tf.Tensor2D;
}
