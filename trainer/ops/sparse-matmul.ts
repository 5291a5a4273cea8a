/**
 * y = X · W with X a constant sparse matrix (CSR, N × Fin; e.g. bag-of-words node features) and W a
 * dense trained weight (Fin × Fout).
 *
 *   forward  y  = X · W      cost nnz(X) · Fout
 *   backward dW = Xᵀ · dy    cost nnz(X) · Fout (Xᵀ is built once, at prepare time)
 *
 * X gets no gradient. On the wasm and cpu backends both products run the injected SparseKernels'
 * spmm; on other backends (native TensorFlow) X is densified once and the stock tf.matMul is used.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CsrHandle, SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import { csrTranspose, type CsrMatrix } from "../../ticket/csr.js";
import { asAttrs, ensureKernel, F32Output, getSparseKernels, readF32, useCustom, type OpImpl } from "./kernel-bridge.js";

const SPMM_KERNEL = "FastgltSparseMatMul";

export interface PreparedSparseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly kernels: SparseKernels;
  /** X (or Xᵀ) as a kernel CSR handle (no per-call factors: `scale` must be null) */
  csrFor(transpose: boolean, scale: Float32Array | null): CsrHandle;
  /** frees the kernel handles and the dense copy (if one was made for the stock path) */
  dispose(): void;
}

class PreparedSparse implements PreparedSparseMatrix {
  readonly x: CsrHandle;
  readonly xT: CsrHandle;
  private dense: tf.Tensor2D | null = null;
  private disposed = false;

  constructor(
    readonly m: CsrMatrix,
    readonly kernels: SparseKernels,
  ) {
    this.x = kernels.csr(m.rowPtr, m.colIdx, m.values, m.cols);
    const t = csrTranspose(m);
    this.xT = kernels.csr(t.rowPtr, t.colIdx, t.values, t.cols);
  }
  get rows(): number {
    return this.m.rows;
  }
  get cols(): number {
    return this.m.cols;
  }
  get nnz(): number {
    return this.m.rowPtr[this.m.rows];
  }
  checkLive(): void {
    if (this.disposed) throw new Error("sparseMatMul: the matrix was disposed");
  }
  csrFor(transpose: boolean, scale: Float32Array | null): CsrHandle {
    if (scale) throw new Error("sparseMatMul: a matrix from prepareSparseMatrix takes no per-entry factors (use prepareScaledSparse)");
    this.checkLive();
    return transpose ? this.xT : this.x;
  }
  /** X as a dense tensor, for the stock path; made on first use, kept until dispose */
  denseTensor(): tf.Tensor2D {
    if (!this.dense) {
      const { rows, cols, rowPtr, colIdx, values } = this.m;
      const d = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) d[r * cols + colIdx[k]] += values[k];
      this.dense = tf.keep(tf.tensor2d(d, [rows, cols]));
    }
    return this.dense;
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.x.free();
    this.xT.free();
    this.dense?.dispose();
  }
}

/**
 * Keeps X (and its transpose) as kernel CSR handles. Checks the structure. The arrays are copied.
 * `kernels` defaults to the ones set with setSparseKernels (the reference kernels).
 */
export function prepareSparseMatrix(x: CsrMatrix, opts: { kernels?: SparseKernels } = {}): PreparedSparseMatrix {
  const { rows, cols, rowPtr, colIdx, values } = x;
  if (rowPtr.length !== rows + 1 || rowPtr[0] !== 0) throw new Error(`prepareSparseMatrix: rowPtr must have ${rows + 1} entries starting at 0`);
  const nnz = rowPtr[rows];
  if (colIdx.length < nnz || values.length < nnz) throw new Error(`prepareSparseMatrix: rowPtr says ${nnz} entries but colIdx/values are shorter`);
  for (let r = 0; r < rows; r++) if (rowPtr[r + 1] < rowPtr[r]) throw new Error(`prepareSparseMatrix: rowPtr decreases at row ${r}`);
  for (let k = 0; k < nnz; k++) {
    if (colIdx[k] < 0 || colIdx[k] >= cols) throw new Error(`prepareSparseMatrix: entry ${k} has column ${colIdx[k]} outside 0..${cols - 1}`);
  }
  const m: CsrMatrix = { rows, cols, rowPtr: rowPtr.slice(), colIdx: colIdx.slice(0, nnz), values: values.slice(0, nnz) };
  return new PreparedSparse(m, opts.kernels ?? getSparseKernels());
}

/** y = X · w (transpose false, rows = X.rows) or Xᵀ · w (transpose true, rows = X.cols); input {w}. */
const spmmKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const x = (attrs as unknown as { x: PreparedSparse }).x;
  const transpose = (attrs as unknown as { transpose: boolean }).transpose;
  const w = inputs.w!;
  const f = w.shape[1];
  const out = new F32Output(backend, [transpose ? x.cols : x.rows, f]);
  x.kernels.spmm(transpose ? x.xT : x.x, readF32(backend, w, "sparseMatMul w"), f, out.view());
  return out.finish();
};

if (tf.getGradient(SPMM_KERNEL) == null) {
  tf.registerGradient({
    kernelName: SPMM_KERNEL,
    gradFunc: (dy, _saved, attrs) => {
      const x = (attrs as unknown as { x: PreparedSparse }).x;
      const transpose = (attrs as unknown as { transpose: boolean }).transpose;
      return {
        w: () => tf.engine().runKernel(SPMM_KERNEL, { w: dy as tf.Tensor }, asAttrs({ x, transpose: !transpose })) as tf.Tensor,
      };
    },
  });
}

/** X · w with X prepared by prepareSparseMatrix; differentiable in w only. */
export function sparseMatMul(x: PreparedSparseMatrix, w: tf.Tensor2D, opts: { impl?: OpImpl } = {}): tf.Tensor2D {
  if (!(x instanceof PreparedSparse)) throw new Error("sparseMatMul: x must come from prepareSparseMatrix");
  x.checkLive();
  if (w.rank !== 2 || w.shape[0] !== x.cols) {
    throw new Error(`sparseMatMul: w must be [${x.cols}, Fout] for X of shape [${x.rows}, ${x.cols}], got [${w.shape.join(", ")}]`);
  }
  if (w.dtype !== "float32") throw new Error(`sparseMatMul: w must be float32, got ${w.dtype}`);
  if (!useCustom(opts.impl)) return tf.matMul(x.denseTensor(), w);
  ensureKernel(SPMM_KERNEL, spmmKernelFunc);
  return tf.engine().runKernel(SPMM_KERNEL, { w }, asAttrs({ x, transpose: false })) as tf.Tensor2D;
}

/** Alias of prepareSparseMatrix. */
export const prepareSparseMatMul = prepareSparseMatrix;
