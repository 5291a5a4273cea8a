import type { CsrHandle, SparseKernels } from "./kernel-api.js";

class ReferenceCsr implements CsrHandle {
  constructor(
    readonly rowPtr: Int32Array,
    readonly colIdx: Int32Array,
    public values: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {}
  get nnz(): number {
    return this.colIdx.length;
  }
  setValues(values: Float32Array): void {
    if (values.length !== this.nnz) throw new Error(`setValues: expected ${this.nnz} values, got ${values.length}`);
    this.values = values.slice();
  }
  free(): void {}
}

/** Plain, obviously-correct loops: what every fast kernel is tested against. */
export const referenceKernels: SparseKernels = {
  name: "reference",
  csr(rowPtr, colIdx, values, cols) {
    return new ReferenceCsr(rowPtr.slice(), colIdx.slice(), values.slice(), rowPtr.length - 1, cols);
  },
  spmm(a, b, f, out) {
    const m = a as ReferenceCsr;
    out.fill(0, 0, m.rows * f);
    for (let i = 0; i < m.rows; i++) {
      for (let k = m.rowPtr[i]; k < m.rowPtr[i + 1]; k++) {
        const v = m.values[k];
        const j = m.colIdx[k];
        for (let c = 0; c < f; c++) out[i * f + c] += v * b[j * f + c];
      }
    }
  },
  sddmm(a, x, y, f, out) {
    const m = a as ReferenceCsr;
    for (let i = 0; i < m.rows; i++) {
      for (let k = m.rowPtr[i]; k < m.rowPtr[i + 1]; k++) {
        const j = m.colIdx[k];
        let s = 0;
        for (let c = 0; c < f; c++) s += x[i * f + c] * y[j * f + c];
        out[k] = s;
      }
    }
  },
};
