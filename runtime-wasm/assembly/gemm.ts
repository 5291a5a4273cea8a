// Dense f32 GEMM: C (m × n) = act(bias + A (m × k) · B (k × n)), row-major, with B packed once
// into 8-column panels (the weights of a layer are packed at plan time, not per call).
//
// Blocking: KC rows of B per pass (a packed panel slice, KC × 8 floats = 8 KB, stays in L1),
// MC rows of A per block (MC × KC floats = 64 KB, stays in L2); a 4×8 micro-kernel keeps eight
// f32x4 accumulators in registers. Passes after the first accumulate into C; bias is added on
// the first pass and ReLU applied on the last. Column tails (n mod 8) are zero-padded in the
// packed panel and stored lane by lane; row tails (m mod 4) use a 1×8 micro-kernel.

import { loadPartial, storePartial } from "./util";

const NR: i32 = 8;
const MR: i32 = 4;
const KC: i32 = 256;
const MC: i32 = 64;

/** Floats of packed storage for a k × n B. */
export function f32_gemm_packed_size(k: i32, n: i32): i32 {
  return ((n + NR - 1) / NR) * k * NR;
}

/** Packs B (k × n, row stride ldb floats) into panels: packed[p][kk][0..8) = B[kk, 8p..8p+8), zero-padded. */
export function f32_gemm_pack_b(k: i32, n: i32, b: usize, ldb: i32, packed: usize): void {
  const panels = (n + NR - 1) / NR;
  const bStride = <usize>ldb << 2;
  let dst = packed;
  for (let p = 0; p < panels; p++) {
    const c0 = p * NR;
    const nc = min(NR, n - c0);
    for (let kk = 0; kk < k; kk++) {
      const src = b + <usize>kk * bStride + (<usize>c0 << 2);
      if (nc == NR) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      } else {
        for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), c < nc ? load<f32>(src + (<usize>c << 2)) : 0);
      }
      dst += NR << 2;
    }
  }
}

/**
 * C (m × n, row stride ldc) = act(bias + A (m × k, row stride lda) · B), B packed by
 * f32_gemm_pack_b. `bias` is null or n floats; `relu` ≠ 0 applies max(·, 0).
 */
export function f32_gemm(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, packed: usize,
  bias: usize, relu: i32, c: usize, ldc: i32,
): void {
  const panels = (n + NR - 1) / NR;
  const aStride = <usize>lda << 2;
  const cStride = <usize>ldc << 2;
  if (k == 0) {
    // no products: C = act(bias)
    for (let r = 0; r < m; r++) {
      for (let p = 0; p < panels; p++) microKernel1(0, 0, 0, c + <usize>r * cStride + (<usize>(p * NR) << 2), n - p * NR, true, bias ? bias + (<usize>(p * NR) << 2) : 0, relu != 0);
    }
    return;
  }
  for (let kc0 = 0; kc0 < k; kc0 += KC) {
    const kcl = min(KC, k - kc0);
    const first = kc0 == 0;
    const last = kc0 + kcl >= k;
    const rl = last && relu != 0;
    for (let mc0 = 0; mc0 < m; mc0 += MC) {
      const mc1 = min(mc0 + MC, m);
      for (let p = 0; p < panels; p++) {
        const nc = n - p * NR;
        const bp = packed + ((<usize>p * <usize>k + <usize>kc0) * NR << 2);
        const bb = bias ? bias + (<usize>(p * NR) << 2) : 0;
        let r = mc0;
        for (; r + MR <= mc1; r += MR) {
          microKernel4(kcl, a + <usize>r * aStride + (<usize>kc0 << 2), aStride, bp, c + <usize>r * cStride + (<usize>(p * NR) << 2), cStride, nc, first, bb, rl);
        }
        for (; r < mc1; r++) {
          microKernel1(kcl, a + <usize>r * aStride + (<usize>kc0 << 2), bp, c + <usize>r * cStride + (<usize>(p * NR) << 2), nc, first, bb, rl);
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function initAcc(first: bool, bias: usize, cp: usize, nc: i32, hi: bool): v128 {
  const cnt = hi ? nc - 4 : nc;
  const off: usize = hi ? 16 : 0;
  if (first) return bias ? loadPartial(bias + off, cnt) : f32x4.splat(0);
  return loadPartial(cp + off, cnt);
}

// @ts-ignore: decorator
@inline function finish(v: v128, relu: bool): v128 {
  return relu ? f32x4.max(v, f32x4.splat(0)) : v;
}

/** 4 rows × 8 columns over kc steps. */
function microKernel4(kc: i32, a: usize, aStride: usize, bp: usize, c: usize, cStride: usize, nc: i32, first: bool, bias: usize, relu: bool): void {
  const c0 = c, c1 = c + cStride, c2 = c + 2 * cStride, c3 = c + 3 * cStride;
  let x00 = initAcc(first, bias, c0, nc, false), x01 = initAcc(first, bias, c0, nc, true);
  let x10 = initAcc(first, bias, c1, nc, false), x11 = initAcc(first, bias, c1, nc, true);
  let x20 = initAcc(first, bias, c2, nc, false), x21 = initAcc(first, bias, c2, nc, true);
  let x30 = initAcc(first, bias, c3, nc, false), x31 = initAcc(first, bias, c3, nc, true);
  let a0 = a, a1 = a + aStride, a2 = a + 2 * aStride, a3 = a + 3 * aStride;
  let b = bp;
  const end = a0 + (<usize>kc << 2);
  while (a0 < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const s0 = v128.load_splat<f32>(a0);
    const s1 = v128.load_splat<f32>(a1);
    const s2 = v128.load_splat<f32>(a2);
    const s3 = v128.load_splat<f32>(a3);
    x00 = f32x4.add(x00, f32x4.mul(s0, b0)); x01 = f32x4.add(x01, f32x4.mul(s0, b1));
    x10 = f32x4.add(x10, f32x4.mul(s1, b0)); x11 = f32x4.add(x11, f32x4.mul(s1, b1));
    x20 = f32x4.add(x20, f32x4.mul(s2, b0)); x21 = f32x4.add(x21, f32x4.mul(s2, b1));
    x30 = f32x4.add(x30, f32x4.mul(s3, b0)); x31 = f32x4.add(x31, f32x4.mul(s3, b1));
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    b += NR << 2;
  }
  const hi = nc - 4;
  storePartial(c0, finish(x00, relu), nc); storePartial(c0 + 16, finish(x01, relu), hi);
  storePartial(c1, finish(x10, relu), nc); storePartial(c1 + 16, finish(x11, relu), hi);
  storePartial(c2, finish(x20, relu), nc); storePartial(c2 + 16, finish(x21, relu), hi);
  storePartial(c3, finish(x30, relu), nc); storePartial(c3 + 16, finish(x31, relu), hi);
}

/** 1 row × 8 columns over kc steps. */
function microKernel1(kc: i32, a: usize, bp: usize, c: usize, nc: i32, first: bool, bias: usize, relu: bool): void {
  let x0 = initAcc(first, bias, c, nc, false), x1 = initAcc(first, bias, c, nc, true);
  let b = bp;
  for (let kk = 0; kk < kc; kk++) {
    const s = v128.load_splat<f32>(a + (<usize>kk << 2));
    x0 = f32x4.add(x0, f32x4.mul(s, v128.load(b)));
    x1 = f32x4.add(x1, f32x4.mul(s, v128.load(b, 16)));
    b += NR << 2;
  }
  storePartial(c, finish(x0, relu), nc);
  storePartial(c + 16, finish(x1, relu), nc - 4);
}
