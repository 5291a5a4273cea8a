// f32 SDDMM: out[k] = dot(X[i, :], Y[colIdx[k], :]) for every stored entry k = (i, colIdx[k]) of a
// CSR pattern (rows × yRows). X is rows × f and Y is yRows × f, row-major. SIMD across features
// with four independent accumulators, horizontal sum, scalar tail for F mod 4.

import { hsum, checkRow } from "./util";

export function f32_sddmm_csr(
  rows: i32, f: i32, yRows: i32,
  rowPtr: usize, colIdx: usize,
  x: usize, y: usize, out: usize,
): void {
  const stride = <usize>f << 2;
  const f16 = f & ~15;
  const f4 = f & ~3;
  for (let i = 0; i < rows; i++) {
    const k0 = load<i32>(rowPtr + (<usize>i << 2));
    const k1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
    checkRow(colIdx, k0, k1, yRows);
    const xr = x + <usize>i * stride;
    for (let k = k0; k < k1; k++) {
      const yr = y + <usize>load<i32>(colIdx + (<usize>k << 2)) * stride;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      let c = 0;
      for (; c < f16; c += 16) {
        const off = <usize>c << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xr + off), v128.load(yr + off)));
        a1 = f32x4.add(a1, f32x4.mul(v128.load(xr + off, 16), v128.load(yr + off, 16)));
        a2 = f32x4.add(a2, f32x4.mul(v128.load(xr + off, 32), v128.load(yr + off, 32)));
        a3 = f32x4.add(a3, f32x4.mul(v128.load(xr + off, 48), v128.load(yr + off, 48)));
      }
      for (; c < f4; c += 4) {
        const off = <usize>c << 2;
        a0 = f32x4.add(a0, f32x4.mul(v128.load(xr + off), v128.load(yr + off)));
      }
      let s = hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
      for (; c < f; c++) {
        const off = <usize>c << 2;
        s += load<f32>(xr + off) * load<f32>(yr + off);
      }
      store<f32>(out + (<usize>k << 2), s);
    }
  }
}
