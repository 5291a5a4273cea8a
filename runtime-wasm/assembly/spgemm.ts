// Sparse input features × sparse weights (layer 1): out = act(bias + X · W), X CSR (rows × fin,
// bag-of-words features are ~1% dense) and W CSR over input rows (fin × fout). Gustavson's
// row-by-row product with a dense output row as accumulator: for each stored x = X[v, i], scatter
// x · W[i, :] into out[v, :]. MACs = Σ_v Σ_{i ∈ X[v]} nnz(W[i, :]). (Sparse × dense weights is
// f32_spmm_csr with B = W.)

import { checkRow } from "./util";
import { initRow, reluRow } from "./eltwise";

/** Debug builds: both CSR structures are well formed and chain (X: rows × fin, W: fin × fout). */
function checkOperands(rows: i32, fin: i32, fout: i32, xRowPtr: usize, xColIdx: usize, wRowPtr: usize, wColIdx: usize): void {
  assert(load<i32>(xRowPtr) == 0 && load<i32>(wRowPtr) == 0, "CSR rowPtr[0] must be 0");
  for (let v = 0; v < rows; v++) checkRow(xColIdx, load<i32>(xRowPtr + (<usize>v << 2)), load<i32>(xRowPtr + (<usize>(v + 1) << 2)), fin);
  for (let i = 0; i < fin; i++) checkRow(wColIdx, load<i32>(wRowPtr + (<usize>i << 2)), load<i32>(wRowPtr + (<usize>(i + 1) << 2)), fout);
}

export function f32_spgemm_csr(
  rows: i32, fin: i32, fout: i32,
  xRowPtr: usize, xColIdx: usize, xValues: usize,
  wRowPtr: usize, wColIdx: usize, wValues: usize,
  bias: usize, relu: i32, out: usize,
): void {
  if (!ASC_NO_ASSERT) checkOperands(rows, fin, fout, xRowPtr, xColIdx, wRowPtr, wColIdx);
  const oStride = <usize>fout << 2;
  for (let v = 0; v < rows; v++) {
    const o = out + <usize>v * oStride;
    initRow(o, fout, bias);
    const k1 = load<i32>(xRowPtr + (<usize>(v + 1) << 2));
    for (let k = load<i32>(xRowPtr + (<usize>v << 2)); k < k1; k++) {
      const kb = <usize>k << 2;
      const x = load<f32>(xValues + kb);
      const i = load<i32>(xColIdx + kb);
      const q1 = load<i32>(wRowPtr + (<usize>(i + 1) << 2));
      for (let q = load<i32>(wRowPtr + (<usize>i << 2)); q < q1; q++) {
        const qb = <usize>q << 2;
        const p = o + (<usize>load<i32>(wColIdx + qb) << 2);
        store<f32>(p, load<f32>(p) + x * load<f32>(wValues + qb));
      }
    }
    if (relu) reluRow(o, fout);
  }
}

/**
 * The weight gradient of out = X · W restricted to W's stored entries (the trainer's masked
 * sparse-weight matmul): dW[q] = Σ_v Σ_{i ∈ X[v]} X[v, i] · dY[v, wColIdx[q]] for each stored q of
 * W's row i. Row by row of X, so dY's row v (fout floats) is read from L1 for all of v's features;
 * dW (nnz(W) floats) is the accumulator. MACs = the forward's.
 */
export function f32_spgemm_dw_csr(
  rows: i32, fin: i32, fout: i32,
  xRowPtr: usize, xColIdx: usize, xValues: usize,
  wRowPtr: usize, wColIdx: usize,
  dy: usize, dw: usize,
): void {
  if (!ASC_NO_ASSERT) checkOperands(rows, fin, fout, xRowPtr, xColIdx, wRowPtr, wColIdx);
  memory.fill(dw, 0, <usize>load<i32>(wRowPtr + (<usize>fin << 2)) << 2);
  const stride = <usize>fout << 2;
  for (let v = 0; v < rows; v++) {
    const d = dy + <usize>v * stride;
    const k1 = load<i32>(xRowPtr + (<usize>(v + 1) << 2));
    for (let k = load<i32>(xRowPtr + (<usize>v << 2)); k < k1; k++) {
      const kb = <usize>k << 2;
      const x = load<f32>(xValues + kb);
      const i = load<i32>(xColIdx + kb);
      const q1 = load<i32>(wRowPtr + (<usize>(i + 1) << 2));
      for (let q = load<i32>(wRowPtr + (<usize>i << 2)); q < q1; q++) {
        const qb = <usize>q << 2;
        const p = dw + qb;
        store<f32>(p, load<f32>(p) + x * load<f32>(d + (<usize>load<i32>(wColIdx + qb) << 2)));
      }
    }
  }
}
