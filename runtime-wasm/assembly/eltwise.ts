// Element-wise helpers: fused bias + ReLU, zero, copy, transpose.

import { transpose4x4 } from "./util";

/** row[0..f) = bias (or 0 when bias is null). */
export function initRow(row: usize, f: i32, bias: usize): void {
  if (bias) memory.copy(row, bias, <usize>f << 2);
  else memory.fill(row, 0, <usize>f << 2);
}

/** row[0..f) = max(row, 0). */
export function reluRow(row: usize, f: i32): void {
  const z = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= f; c += 4) {
    const p = row + (<usize>c << 2);
    v128.store(p, f32x4.max(v128.load(p), z));
  }
  for (; c < f; c++) {
    const p = row + (<usize>c << 2);
    const x = load<f32>(p);
    store<f32>(p, x > 0 ? x : <f32>0);
  }
}

/** In place, x (rows × f): x[i, :] = act(x[i, :] + bias). `bias` may be null; `relu` ≠ 0 applies max(·, 0). */
export function f32_bias_act(rows: i32, f: i32, x: usize, bias: usize, relu: i32): void {
  const stride = <usize>f << 2;
  const z = f32x4.splat(0);
  const rl = relu != 0;
  for (let i = 0; i < rows; i++) {
    const row = x + <usize>i * stride;
    let c = 0;
    for (; c + 4 <= f; c += 4) {
      const off = <usize>c << 2;
      let v = v128.load(row + off);
      if (bias) v = f32x4.add(v, v128.load(bias + off));
      if (rl) v = f32x4.max(v, z);
      v128.store(row + off, v);
    }
    for (; c < f; c++) {
      const off = <usize>c << 2;
      let s = load<f32>(row + off);
      if (bias) s += load<f32>(bias + off);
      if (rl && !(s > 0)) s = 0;
      store<f32>(row + off, s);
    }
  }
}

/** dst[0..count) = 0. */
export function f32_zero(dst: usize, count: i32): void {
  memory.fill(dst, 0, <usize>count << 2);
}

/** dst[0..count) = src[0..count) (regions may overlap). */
export function f32_copy(dst: usize, src: usize, count: i32): void {
  memory.copy(dst, src, <usize>count << 2);
}

/** dst (cols × rows) = srcᵀ, src rows × cols; 4×4 SIMD blocks, scalar edges. */
export function f32_transpose(rows: i32, cols: i32, src: usize, dst: usize): void {
  const sStride = <usize>cols << 2;
  const dStride = <usize>rows << 2;
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  // 32-row bands keep the destination lines being filled in L1.
  for (let r0 = 0; r0 < r4; r0 += 32) {
    const r1 = min(r0 + 32, r4);
    for (let c = 0; c < c4; c += 4) {
      for (let r = r0; r < r1; r += 4) {
        transpose4x4(src + <usize>r * sStride + (<usize>c << 2), sStride, dst + <usize>c * dStride + (<usize>r << 2), dStride);
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    const c0 = r < r4 ? c4 : 0;
    for (let c = c0; c < cols; c++) {
      store<f32>(dst + <usize>c * dStride + (<usize>r << 2), load<f32>(src + <usize>r * sStride + (<usize>c << 2)));
    }
  }
}
