// Element-wise helpers: fused bias + activation (ReLU, ELU), zero, copy, transpose.

import { transpose4x4, loadPartial, storePartial } from "./util";

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

/** Activation codes of f32_bias_act and f32_gat_aggregate (1 = ReLU, so a 0/1 `relu` flag is one). */
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_ELU: i32 = 2;

/**
 * expm1 on four lanes, for x ≤ 0 (ELU's negative side): x = n·ln2 + t with |t| ≤ ln2/2 (ln2 in
 * two parts, so t is exact), eᵗ − 1 by its Taylor series to t⁷ (truncation < 2⁻²⁶ relative),
 * then expm1(x) = 2ⁿ·(eᵗ − 1) + (2ⁿ − 1), exact for n = 0 so small |x| keep full relative
 * precision. Below −17.5 the result is −1 in f32.
 */
// @ts-ignore: decorator
@inline function vexpm1Neg(x: v128): v128 {
  const z = f32x4.max(x, f32x4.splat(-17.5));
  const n = f32x4.nearest(f32x4.mul(z, f32x4.splat(1.44269504)));
  const t = f32x4.add(f32x4.sub(z, f32x4.mul(n, f32x4.splat(0.693359375))), f32x4.mul(n, f32x4.splat(2.12194440e-4)));
  let q = f32x4.splat(<f32>(1.0 / 5040));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(1.0 / 720)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(1.0 / 120)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(1.0 / 24)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(<f32>(1.0 / 6)));
  q = f32x4.add(f32x4.mul(q, t), f32x4.splat(0.5));
  const p = f32x4.add(t, f32x4.mul(f32x4.mul(t, t), q));
  const s = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.add(f32x4.mul(s, p), f32x4.sub(s, f32x4.splat(1)));
}

/** ELU (α = 1) on four lanes: x for x > 0, else eˣ − 1. */
// @ts-ignore: decorator
@inline export function velu(x: v128): v128 {
  return v128.bitselect(x, vexpm1Neg(x), f32x4.gt(x, f32x4.splat(0)));
}

/** row[0..f) = act(row), act an ACT_* code. */
export function actRow(row: usize, f: i32, act: i32): void {
  if (act == ACT_RELU) reluRow(row, f);
  else if (act == ACT_ELU) {
    let c = 0;
    for (; c + 4 <= f; c += 4) {
      const p = row + (<usize>c << 2);
      v128.store(p, velu(v128.load(p)));
    }
    if (c < f) {
      const p = row + (<usize>c << 2);
      storePartial(p, velu(loadPartial(p, f - c)), f - c);
    }
  }
}

/**
 * In place, x (rows × f): x[i, :] = act(x[i, :] + bias). `bias` may be null; `act`: 0 none,
 * 1 ReLU, 2 ELU (ACT_*).
 */
export function f32_bias_act(rows: i32, f: i32, x: usize, bias: usize, act: i32): void {
  const stride = <usize>f << 2;
  const z = f32x4.splat(0);
  const rl = act == ACT_RELU;
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
    if (act == ACT_ELU) actRow(row, f, act);
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

/**
 * CSR of a dense row-major src (rows × cols), if it has at most maxNnz nonzeros: writes rowPtr
 * (rows + 1), colIdx and values (room for maxNnz each) and returns the number stored; returns -1,
 * writing nothing, when there are more. Columns whose byte in `used` is 0 are left out (`used`
 * may be null: keep all). The count pass is SIMD and stops early.
 */
export function f32_csr_from_dense(rows: i32, cols: i32, src: usize, maxNnz: i32, used: usize, rowPtr: usize, colIdx: usize, values: usize): i32 {
  const total = <usize>rows * <usize>cols;
  const z = f32x4.splat(0);
  let cnt = i32x4.splat(0);
  let i: usize = 0;
  // count, 64 floats at a time, checking the limit between blocks
  let counted: i32 = 0;
  while (i + 64 <= total) {
    for (let q: usize = 0; q < 64; q += 4) {
      cnt = i32x4.sub(cnt, f32x4.ne(v128.load(src + ((i + q) << 2)), z)); // lanes are -1 where ≠ 0
    }
    i += 64;
    counted = i32x4.extract_lane(cnt, 0) + i32x4.extract_lane(cnt, 1) + i32x4.extract_lane(cnt, 2) + i32x4.extract_lane(cnt, 3);
    if (counted > maxNnz) return -1;
  }
  for (; i < total; i++) if (load<f32>(src + (i << 2)) != 0) counted++;
  if (counted > maxNnz) return -1;
  // fill
  let k = 0;
  store<i32>(rowPtr, 0);
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>r * stride;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = v128.load(row + (<usize>c << 2));
      if (!v128.any_true(f32x4.ne(v, z))) continue;
      for (let q = 0; q < 4; q++) {
        const x = load<f32>(row + (<usize>(c + q) << 2));
        if (x != 0 && (!used || load<u8>(used + <usize>(c + q)))) {
          store<i32>(colIdx + (<usize>k << 2), c + q);
          store<f32>(values + (<usize>k << 2), x);
          k++;
        }
      }
    }
    for (; c < cols; c++) {
      const x = load<f32>(row + (<usize>c << 2));
      if (x != 0 && (!used || load<u8>(used + <usize>c))) {
        store<i32>(colIdx + (<usize>k << 2), c);
        store<f32>(values + (<usize>k << 2), x);
        k++;
      }
    }
    store<i32>(rowPtr + (<usize>(r + 1) << 2), k);
  }
  return k;
}
