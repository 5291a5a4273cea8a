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
 *
 * With z seen as (R·H) × F and a as (P·H) × F, all three are sparse kernels over a fixed CSR S
 * with rows (r, k) and entries at columns (p, k): y = SDDMM_S(z, a), dz = S_dy · a and
 * da = S_dyᵀ · z (S_dy: S with the values dy), so they run the injected SparseKernels (SIMD on
 * wasm) instead of JS loops over z.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CsrHandle, SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import { asAttrs, ensureKernel, F32Output, getSparseKernels, readF32 } from "./kernel-bridge.js";

const HEAD_DOT_KERNEL = "FastgltHeadDot";
const GRAD_Z_KERNEL = "FastgltHeadDotGradZ";
const GRAD_A_KERNEL = "FastgltHeadDotGradA";

/** The fixed structure for one (rows, heads, P), built once. */
export interface PreparedHeadDot {
  readonly rows: number;
  readonly heads: number;
  readonly p: number;
  readonly kernels: SparseKernels;
  dispose(): void;
}

class Plan implements PreparedHeadDot {
  /** S: row r·H + k, entries p = 0..P−1 at column p·H + k */
  readonly s: CsrHandle;
  /** Sᵀ: row p·H + k, entries r = 0..R−1 at column r·H + k */
  readonly sT: CsrHandle;
  /** S's values / SDDMM output in S's order, Sᵀ's values in Sᵀ's order */
  readonly sValues: Float32Array;
  readonly sTValues: Float32Array;
  private disposed = false;

  constructor(
    readonly rows: number,
    readonly heads: number,
    readonly p: number,
    readonly kernels: SparseKernels,
  ) {
    const rh = rows * heads;
    const ph = p * heads;
    const nnz = rh * p;
    const rowPtr = Int32Array.from({ length: rh + 1 }, (_, i) => i * p);
    const colIdx = new Int32Array(nnz);
    for (let r = 0; r < rows; r++) for (let k = 0; k < heads; k++) for (let q = 0; q < p; q++) colIdx[(r * heads + k) * p + q] = q * heads + k;
    const tRowPtr = Int32Array.from({ length: ph + 1 }, (_, i) => i * rows);
    const tColIdx = new Int32Array(nnz);
    for (let q = 0; q < p; q++) for (let k = 0; k < heads; k++) for (let r = 0; r < rows; r++) tColIdx[(q * heads + k) * rows + r] = r * heads + k;
    this.sValues = new Float32Array(nnz);
    this.sTValues = new Float32Array(nnz);
    this.s = kernels.csr(rowPtr, colIdx, this.sValues, ph);
    this.sT = kernels.csr(tRowPtr, tColIdx, this.sTValues, rh);
  }

  checkLive(): void {
    if (this.disposed) throw new Error("headDot: the plan was disposed");
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.s.free();
    this.sT.free();
  }
}

/** Builds the kernels' structures for z of `rows` × heads·F and `p` vectors per head. */
export function prepareHeadDot(rows: number, heads: number, p: number, opts: { kernels?: SparseKernels } = {}): PreparedHeadDot {
  for (const [k, v] of Object.entries({ rows, heads, p })) if (!(Number.isInteger(v) && v >= 1)) throw new Error(`prepareHeadDot: ${k} must be a positive integer, got ${v}`);
  return new Plan(rows, heads, p, opts.kernels ?? getSparseKernels());
}

interface Attrs {
  plan: Plan;
}

/** {z [R, H·F], a [P, H, F]} → y [R, P·H] */
const forwardKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as Attrs;
  const { rows, heads, p } = plan;
  const f = inputs.a!.shape[2];
  const out = new F32Output(backend, [rows, p * heads]);
  const dots = plan.sValues;
  plan.kernels.sddmm(plan.s, readF32(backend, inputs.z!, "headDot z"), readF32(backend, inputs.a!, "headDot a"), f, dots);
  const y = out.view();
  for (let r = 0; r < rows; r++) for (let k = 0; k < heads; k++) for (let q = 0; q < p; q++) y[(r * p + q) * heads + k] = dots[(r * heads + k) * p + q];
  return out.finish();
};

/** {dy [R, P·H], a [P, H, F]} → dz [R, H·F] = S_dy · a */
const gradZKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as Attrs;
  const { rows, heads, p } = plan;
  const f = inputs.a!.shape[2];
  const out = new F32Output(backend, [rows, heads * f]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const v = plan.sValues;
  for (let r = 0; r < rows; r++) for (let k = 0; k < heads; k++) for (let q = 0; q < p; q++) v[(r * heads + k) * p + q] = dy[(r * p + q) * heads + k];
  plan.s.setValues(v);
  plan.kernels.spmm(plan.s, readF32(backend, inputs.a!, "headDot a"), f, out.view());
  return out.finish();
};

/** {dy [R, P·H], z [R, H·F]} → da [P, H, F] = S_dyᵀ · z */
const gradAKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan } = attrs as unknown as Attrs;
  const { rows, heads, p } = plan;
  const f = inputs.z!.shape[1] / heads;
  const out = new F32Output(backend, [p, heads, f]);
  const dy = readF32(backend, inputs.dy!, "headDot dy");
  const v = plan.sTValues;
  for (let r = 0; r < rows; r++) for (let q = 0; q < p; q++) for (let k = 0; k < heads; k++) v[(q * heads + k) * rows + r] = dy[(r * p + q) * heads + k];
  plan.sT.setValues(v);
  plan.kernels.spmm(plan.sT, readF32(backend, inputs.z!, "headDot z"), f, out.view());
  return out.finish();
};

if (tf.getGradient(HEAD_DOT_KERNEL) == null) {
  tf.registerGradient({
    kernelName: HEAD_DOT_KERNEL,
    inputsToSave: ["z", "a"],
    gradFunc: (dy, saved, attrs) => {
      const [z, a] = saved;
      const d = dy as tf.Tensor;
      return {
        z: () => tf.engine().runKernel(GRAD_Z_KERNEL, { dy: d, a }, attrs) as tf.Tensor,
        a: () => tf.engine().runKernel(GRAD_A_KERNEL, { dy: d, z }, attrs) as tf.Tensor,
      };
    },
  });
}

/**
 * y [R, P·H] with y[r, p·H + k] = z[r, k·F : (k+1)·F] · a[p, k, :]; z is [R, H·F], a is [P, H, F],
 * `plan` from prepareHeadDot(R, H, P). Differentiable in both.
 */
export function headDot(z: tf.Tensor2D, a: tf.Tensor3D, plan: PreparedHeadDot): tf.Tensor2D {
  if (!(plan instanceof Plan)) throw new Error("headDot: plan must come from prepareHeadDot");
  plan.checkLive();
  if (z.rank !== 2 || a.rank !== 3 || z.shape[1] !== a.shape[1] * a.shape[2]) {
    throw new Error(`headDot: z must be [R, heads·F] for a of shape [P, heads, F], got z [${z.shape.join(", ")}] and a [${a.shape.join(", ")}]`);
  }
  if (z.shape[0] !== plan.rows || a.shape[0] !== plan.p || a.shape[1] !== plan.heads) {
    throw new Error(`headDot: the plan is for z with ${plan.rows} rows and a of [${plan.p}, ${plan.heads}, F], got z [${z.shape.join(", ")}] and a [${a.shape.join(", ")}]`);
  }
  if (z.dtype !== "float32" || a.dtype !== "float32") throw new Error(`headDot: expected float32, got ${z.dtype} and ${a.dtype}`);
  ensureKernel(HEAD_DOT_KERNEL, forwardKernelFunc);
  ensureKernel(GRAD_Z_KERNEL, gradZKernelFunc);
  ensureKernel(GRAD_A_KERNEL, gradAKernelFunc);
  return tf.engine().runKernel(HEAD_DOT_KERNEL, { z, a }, asAttrs({ plan })) as tf.Tensor2D;
}
