/**
 * y = (X ⊙ S) · W with X a constant sparse matrix (CSR, N × Fin), S a per-call factor for each
 * stored entry of X (null: all ones) and W a dense trained weight (Fin × Fout): dropout on sparse
 * input features (S = 0 or 1/keep per nonzero; zeros of X stay zero) without densifying X.
 *
 *   forward  y  = (X ⊙ S) · W           backward  dW = (X ⊙ S)ᵀ · dy
 *
 * Both are the injected SparseKernels' spmm over CSR handles of X and Xᵀ built once, whose values
 * are rewritten per call. S travels in the kernel's attributes, so the gradient uses the factors of
 * its own forward call.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CsrHandle, SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import type { CsrMatrix } from "../../ticket/csr.js";
import { Rng } from "../util/rng.js";
import { asAttrs, ensureKernel, F32Output, getSparseKernels, readF32 } from "./kernel-bridge.js";

const KERNEL = "FastgltScaledSparseMatMul";

export interface PreparedScaledSparse {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly kernels: SparseKernels;
  /** X ⊙ S (transposed: (X ⊙ S)ᵀ) as a kernel CSR handle; S null = X itself */
  csrFor(transpose: boolean, scale: Float32Array | null): CsrHandle;
  dispose(): void;
}

class Plan implements PreparedScaledSparse {
  readonly x: CsrHandle;
  readonly xT: CsrHandle;
  /** X's values in CSR order */
  readonly values: Float32Array;
  /** entry q of Xᵀ is entry perm[q] of X */
  readonly perm: Int32Array;
  /** the last values loaded into x / xT (skip setValues when unchanged) */
  private loaded: [Float32Array | null | undefined, Float32Array | null | undefined] = [undefined, undefined];
  private readonly buf: Float32Array;
  private disposed = false;

  constructor(
    m: CsrMatrix,
    readonly kernels: SparseKernels,
  ) {
    const nnz = m.rowPtr[m.rows];
    this.values = m.values.slice(0, nnz);
    const tRowPtr = new Int32Array(m.cols + 1);
    for (let k = 0; k < nnz; k++) tRowPtr[m.colIdx[k] + 1]++;
    for (let c = 0; c < m.cols; c++) tRowPtr[c + 1] += tRowPtr[c];
    const next = tRowPtr.slice(0, m.cols);
    this.perm = new Int32Array(nnz);
    const tColIdx = new Int32Array(nnz);
    for (let r = 0; r < m.rows; r++) {
      for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) {
        const q = next[m.colIdx[k]]++;
        this.perm[q] = k;
        tColIdx[q] = r;
      }
    }
    this.buf = new Float32Array(nnz);
    this.x = kernels.csr(m.rowPtr.slice(), m.colIdx.slice(0, nnz), this.values, m.cols);
    this.xT = kernels.csr(tRowPtr, tColIdx, Float32Array.from(this.perm, (k) => this.values[k]), m.rows);
    this.loaded = [null, null];
  }

  get rows(): number {
    return this.x.rows;
  }
  get cols(): number {
    return this.x.cols;
  }
  get nnz(): number {
    return this.values.length;
  }

  /** Loads X ⊙ S (transposed: (X ⊙ S)ᵀ) into its handle unless it already holds it. */
  load(transpose: boolean, scale: Float32Array | null): CsrHandle {
    const side = transpose ? 1 : 0;
    const handle = transpose ? this.xT : this.x;
    if (this.loaded[side] === scale) return handle;
    const { values, perm, buf } = this;
    if (transpose) for (let q = 0; q < buf.length; q++) buf[q] = scale ? values[perm[q]] * scale[perm[q]] : values[perm[q]];
    else for (let k = 0; k < buf.length; k++) buf[k] = scale ? values[k] * scale[k] : values[k];
    handle.setValues(buf);
    this.loaded[side] = scale;
    return handle;
  }

  checkLive(): void {
    if (this.disposed) throw new Error("scaledSparseMatMul: the matrix was disposed");
  }

  csrFor(transpose: boolean, scale: Float32Array | null): CsrHandle {
    this.checkLive();
    if (scale && scale.length !== this.nnz) throw new Error(`scaledSparseMatMul: scale must have one factor per stored entry (${this.nnz}), got ${scale.length}`);
    return this.load(transpose, scale);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.x.free();
    this.xT.free();
  }
}

/** Keeps X and Xᵀ as kernel CSR handles. The arrays are copied. */
export function prepareScaledSparse(x: CsrMatrix, opts: { kernels?: SparseKernels } = {}): PreparedScaledSparse {
  if (x.rowPtr.length !== x.rows + 1 || x.rowPtr[0] !== 0) throw new Error(`prepareScaledSparse: rowPtr must have ${x.rows + 1} entries starting at 0`);
  const nnz = x.rowPtr[x.rows];
  for (let r = 0; r < x.rows; r++) if (x.rowPtr[r + 1] < x.rowPtr[r]) throw new Error(`prepareScaledSparse: rowPtr decreases at row ${r}`);
  for (let k = 0; k < nnz; k++) {
    if (!(x.colIdx[k] >= 0 && x.colIdx[k] < x.cols)) throw new Error(`prepareScaledSparse: entry ${k} has column ${x.colIdx[k]} outside 0..${x.cols - 1}`);
  }
  return new Plan(x, opts.kernels ?? getSparseKernels());
}

interface Attrs {
  plan: Plan;
  scale: Float32Array | null;
  transpose: boolean;
}

const kernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { plan, scale, transpose } = attrs as unknown as Attrs;
  const w = inputs.w!;
  const f = w.shape[1];
  const out = new F32Output(backend, [transpose ? plan.cols : plan.rows, f]);
  plan.kernels.spmm(plan.load(transpose, scale), readF32(backend, w, "scaledSparseMatMul w"), f, out.view());
  return out.finish();
};

if (tf.getGradient(KERNEL) == null) {
  tf.registerGradient({
    kernelName: KERNEL,
    gradFunc: (dy, _saved, attrs) => {
      const a = attrs as unknown as Attrs;
      return { w: () => tf.engine().runKernel(KERNEL, { w: dy as tf.Tensor }, asAttrs({ ...a, transpose: !a.transpose })) as tf.Tensor };
    },
  });
}

/** (X ⊙ scale) · w, scale one factor per stored entry of X in CSR order (null: X itself); differentiable in w. */
export function scaledSparseMatMul(x: PreparedScaledSparse, w: tf.Tensor2D, scale: Float32Array | null): tf.Tensor2D {
  if (!(x instanceof Plan)) throw new Error("scaledSparseMatMul: x must come from prepareScaledSparse");
  x.checkLive();
  if (w.rank !== 2 || w.shape[0] !== x.cols) throw new Error(`scaledSparseMatMul: w must be [${x.cols}, Fout] for X of shape [${x.rows}, ${x.cols}], got [${w.shape.join(", ")}]`);
  if (w.dtype !== "float32") throw new Error(`scaledSparseMatMul: w must be float32, got ${w.dtype}`);
  if (scale && scale.length !== x.nnz) throw new Error(`scaledSparseMatMul: scale must have one factor per stored entry (${x.nnz}), got ${scale.length}`);
  ensureKernel(KERNEL, kernelFunc);
  return tf.engine().runKernel(KERNEL, { w }, asAttrs({ plan: x, scale, transpose: false })) as tf.Tensor2D;
}

/** Inverted-dropout factors for `n` entries: 0 with probability `rate`, else 1/(1 − rate); seeded. */
export function dropoutScale(n: number, rate: number, seed: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  const rng = new Rng(seed);
  const keep = 1 / (1 - rate);
  return Float32Array.from({ length: n }, () => (rng.next() < rate ? 0 : keep));
}
