/** A compressed-sparse-row matrix: row i's entries are at [rowPtr[i], rowPtr[i+1]). */
export interface CsrMatrix {
  rows: number;
  cols: number;
  rowPtr: Int32Array; // length rows + 1
  colIdx: Int32Array; // length nnz, ascending within each row
  values: Float32Array; // length nnz
}

/** A row-major dense matrix. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float32Array; // length rows * cols
}

export function csrNnz(m: CsrMatrix): number {
  return m.rowPtr[m.rows];
}

/** Builds a CSR matrix from a dense one, dropping exact zeros. */
export function denseToCsr(m: DenseMatrix): CsrMatrix {
  let nnz = 0;
  for (let i = 0; i < m.data.length; i++) if (m.data[i] !== 0) nnz++;
  const rowPtr = new Int32Array(m.rows + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[r * m.cols + c];
      if (v !== 0) {
        colIdx[k] = c;
        values[k] = v;
        k++;
      }
    }
    rowPtr[r + 1] = k;
  }
  return { rows: m.rows, cols: m.cols, rowPtr, colIdx, values };
}

export function csrToDense(m: CsrMatrix): DenseMatrix {
  const data = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) data[r * m.cols + m.colIdx[k]] += m.values[k];
  }
  return { rows: m.rows, cols: m.cols, data };
}

/** The transpose, again in CSR form (column ids ascending within each row). */
export function csrTranspose(m: CsrMatrix): CsrMatrix {
  const nnz = csrNnz(m);
  const rowPtr = new Int32Array(m.cols + 1);
  for (let k = 0; k < nnz; k++) rowPtr[m.colIdx[k] + 1]++;
  for (let c = 0; c < m.cols; c++) rowPtr[c + 1] += rowPtr[c];
  const next = rowPtr.slice(0, m.cols);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) {
      const dst = next[m.colIdx[k]]++;
      colIdx[dst] = r;
      values[dst] = m.values[k];
    }
  }
  return { rows: m.cols, cols: m.rows, rowPtr, colIdx, values };
}
