// f32 CSR SpMM, node-major: out[i, :] = act(bias + Σ_k values[k] · B[colIdx[k], :]).
// Used for graph aggregation Â·H (values = edge coefficients) and for sparse features × dense
// weights X·W. SIMD across features: a 16-wide register tile per row walks the row's entries,
// then 4-wide tiles, then scalar lanes for F mod 4. Features are processed in column blocks so
// the gathered slice of B stays in L2 for large F.

import { vbias, vact, sbias, sact, checkRow } from "./util";

/** Column block (floats): B[:, block] for a Cora-size graph (2708 × 128 × 4 B ≈ 1.4 MB) streams from L2/L3. */
const COL_BLOCK: i32 = 256;

/**
 * out (rows × f) = act(bias + A · B), A in CSR (rows × bRows), B (bRows × f) row-major.
 * `bias` is null (0) or f floats; `relu` ≠ 0 applies max(·, 0). Empty rows give act(bias).
 */
export function f32_spmm_csr(
  rows: i32, f: i32, bRows: i32,
  rowPtr: usize, colIdx: usize, values: usize,
  b: usize, bias: usize, relu: i32, out: usize,
): void {
  const rl = relu != 0;
  const stride = <usize>f << 2;
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(rowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let i = 0; i < rows; i++) checkRow(colIdx, load<i32>(rowPtr + (<usize>i << 2)), load<i32>(rowPtr + (<usize>(i + 1) << 2)), bRows);
  }
  for (let c0 = 0; c0 < f; c0 += COL_BLOCK) {
    const c1 = min(c0 + COL_BLOCK, f);
    for (let i = 0; i < rows; i++) {
      const k0 = load<i32>(rowPtr + (<usize>i << 2));
      const k1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
      const outRow = out + <usize>i * stride;
      let c = c0;
      for (; c + 16 <= c1; c += 16) {
        const off = <usize>c << 2;
        let a0 = vbias(bias, off);
        let a1 = vbias(bias, off + 16);
        let a2 = vbias(bias, off + 32);
        let a3 = vbias(bias, off + 48);
        for (let k = k0; k < k1; k++) {
          const kb = <usize>k << 2;
          const p = b + <usize>load<i32>(colIdx + kb) * stride + off;
          const v = v128.load_splat<f32>(values + kb);
          a0 = f32x4.add(a0, f32x4.mul(v, v128.load(p)));
          a1 = f32x4.add(a1, f32x4.mul(v, v128.load(p, 16)));
          a2 = f32x4.add(a2, f32x4.mul(v, v128.load(p, 32)));
          a3 = f32x4.add(a3, f32x4.mul(v, v128.load(p, 48)));
        }
        const o = outRow + off;
        v128.store(o, vact(a0, rl));
        v128.store(o, vact(a1, rl), 16);
        v128.store(o, vact(a2, rl), 32);
        v128.store(o, vact(a3, rl), 48);
      }
      for (; c + 4 <= c1; c += 4) {
        const off = <usize>c << 2;
        let a0 = vbias(bias, off);
        for (let k = k0; k < k1; k++) {
          const kb = <usize>k << 2;
          const p = b + <usize>load<i32>(colIdx + kb) * stride + off;
          a0 = f32x4.add(a0, f32x4.mul(v128.load_splat<f32>(values + kb), v128.load(p)));
        }
        v128.store(outRow + off, vact(a0, rl));
      }
      for (; c < c1; c++) {
        const off = <usize>c << 2;
        let s = sbias(bias, off);
        for (let k = k0; k < k1; k++) {
          const kb = <usize>k << 2;
          s += load<f32>(values + kb) * load<f32>(b + <usize>load<i32>(colIdx + kb) * stride + off);
        }
        store<f32>(outRow + off, sact(s, rl));
      }
    }
  }
}
