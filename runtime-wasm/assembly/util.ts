// Shared helpers for the kernel families. Pointers are byte offsets into linear memory (usize);
// matrices are f32, row-major unless a kernel says otherwise; CSR index arrays are i32.

/** A zero vector. */
// @ts-ignore: decorator
@inline export function vzero(): v128 {
  return f32x4.splat(0);
}

/** max(v, 0) lane-wise when `relu` is set, otherwise v. */
// @ts-ignore: decorator
@inline export function vact(v: v128, relu: bool): v128 {
  return relu ? f32x4.max(v, f32x4.splat(0)) : v;
}

/** max(x, 0) when `relu` is set, otherwise x. */
// @ts-ignore: decorator
@inline export function sact(x: f32, relu: bool): f32 {
  return relu ? (x > 0 ? x : <f32>0) : x;
}

/** Loads 4 floats at `ptr`, or the bias-less zero vector when `ptr` is null. */
// @ts-ignore: decorator
@inline export function vbias(ptr: usize, offset: usize): v128 {
  return ptr ? v128.load(ptr + offset) : f32x4.splat(0);
}

/** Loads one float at `ptr + offset`, or 0 when `ptr` is null. */
// @ts-ignore: decorator
@inline export function sbias(ptr: usize, offset: usize): f32 {
  return ptr ? load<f32>(ptr + offset) : <f32>0;
}

/** Horizontal sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Stores the first `count` (0..4) lanes of `v` at `ptr`. */
// @ts-ignore: decorator
@inline export function storePartial(ptr: usize, v: v128, count: i32): void {
  if (count >= 4) {
    v128.store(ptr, v);
  } else {
    if (count > 0) store<f32>(ptr, f32x4.extract_lane(v, 0));
    if (count > 1) store<f32>(ptr, f32x4.extract_lane(v, 1), 4);
    if (count > 2) store<f32>(ptr, f32x4.extract_lane(v, 2), 8);
  }
}

/** Loads the first `count` (0..4) floats at `ptr`; the other lanes are zero. */
// @ts-ignore: decorator
@inline export function loadPartial(ptr: usize, count: i32): v128 {
  if (count >= 4) return v128.load(ptr);
  let v = f32x4.splat(0);
  if (count > 0) v = f32x4.replace_lane(v, 0, load<f32>(ptr));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(ptr, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(ptr, 8));
  return v;
}

/** Debug-build check that a CSR row pointer range is sane and its columns are below `cols`. */
// @ts-ignore: decorator
@inline export function checkRow(colIdx: usize, k0: i32, k1: i32, cols: i32): void {
  if (ASC_NO_ASSERT) return;
  assert(k0 >= 0 && k1 >= k0, "CSR rowPtr is not non-decreasing");
  for (let k = k0; k < k1; k++) {
    const j = load<i32>(colIdx + (<usize>k << 2));
    assert(j >= 0 && j < cols, "CSR column index out of range");
  }
}

/**
 * Transposes the 4×4 block at `src` (rows `srcStride` bytes apart) into `dst` (rows `dstStride`
 * bytes apart): dst[q][r] = src[r][q].
 */
// @ts-ignore: decorator
@inline export function transpose4x4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const v0 = v128.load(src);
  const v1 = v128.load(src + srcStride);
  const v2 = v128.load(src + 2 * srcStride);
  const v3 = v128.load(src + 3 * srcStride);
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}
