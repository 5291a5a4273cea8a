/**
 * The sparse kernels the trainer's custom ops call (and the runtime builds on). Two
 * implementations share this interface: the plain TypeScript reference (reference-kernels.ts) and
 * the AssemblyScript SIMD one (wasm-kernels.ts). Matrices are row-major Float32Arrays.
 */
export interface CsrHandle {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  /** replaces the stored values (same structure), e.g. new edge weights each epoch */
  setValues(values: Float32Array): void;
  free(): void;
}

export interface SparseKernels {
  readonly name: string;
  /** Keeps a CSR structure (and values) for repeated use. */
  csr(rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, cols: number): CsrHandle;
  /** out (a.rows × f) = A · B, with B (a.cols × f). */
  spmm(a: CsrHandle, b: Float32Array, f: number, out: Float32Array): void;
  /** out[k] = dot(X[i, :], Y[j, :]) for each stored entry k = (i, j) of A; X is a.rows × f, Y is a.cols × f. */
  sddmm(a: CsrHandle, x: Float32Array, y: Float32Array, f: number, out: Float32Array): void;
  /** out (x.rows × w.cols) = X · W, both CSR (sparse features × sparse weights). */
  spgemm(x: CsrHandle, w: CsrHandle, out: Float32Array): void;
  /**
   * The gradient of X · W at W's stored entries: out[q] = Σ_v X[v, i] · dY[v, j] for each stored
   * q = (i, j) of W; dY is x.rows × w.cols, out has w.nnz entries (W's values are not read).
   */
  spgemmGradW(x: CsrHandle, w: CsrHandle, dy: Float32Array, out: Float32Array): void;
}
