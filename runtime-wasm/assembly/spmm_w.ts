// Sparse weights × dense activations for hidden layers: Y = act(bias + H · W) with W pruned.
//
// XNNPACK's sparse inference design: keep activations feature-major and vectorise across nodes,
// Yᵀ = Wᵀ · Hᵀ, walking each output channel's nonzero weights with a register tile of nodes.
// `f32_spmm_w_fm` is that kernel on feature-major buffers. `f32_spmm_w_nm` gives the same loop to
// node-major callers: it transposes a 16-node tile of H into an L1-resident scratch (Hᵀ tile,
// fin × 16), runs the kernel on it, and transposes the Yᵀ tile back, so the layout change costs
// O(N·(fin+fout)) moves against N·nnz(W) MACs. `f32_spmm_w_axpy` is the node-major row-axpy
// alternative (scalar scatter, but skips zero activations, e.g. after ReLU).
//
// Weights are passed as Wᵀ in CSR: row j = output channel j, columns = input features.

import { checkRow, transpose4x4, sact } from "./util";
import { initRow, reluRow } from "./eltwise";

const NT: i32 = 16; // nodes per register tile (4 × f32x4)

/** Bytes of scratch `f32_spmm_w_nm` needs. */
export function f32_spmm_w_nm_scratch(fin: i32, fout: i32): i32 {
  return (fin + fout) * NT * 4;
}

// Yᵀ tile (fout × NT at yt) = act(bias + Wᵀ · Hᵀ tile (fin × NT at ht)).
// @ts-ignore: decorator
@inline function tileKernel(
  fout: i32, wtRowPtr: usize, wtColIdx: usize, wtValues: usize,
  ht: usize, hStride: usize, bias: usize, relu: bool, yt: usize, yStride: usize,
): void {
  let k0 = load<i32>(wtRowPtr);
  for (let j = 0; j < fout; j++) {
    const k1 = load<i32>(wtRowPtr + (<usize>(j + 1) << 2));
    const b = bias ? v128.load_splat<f32>(bias + (<usize>j << 2)) : f32x4.splat(0);
    let a0 = b, a1 = b, a2 = b, a3 = b;
    for (let k = k0; k < k1; k++) {
      const kb = <usize>k << 2;
      const w = v128.load_splat<f32>(wtValues + kb);
      const p = ht + <usize>load<i32>(wtColIdx + kb) * hStride;
      a0 = f32x4.add(a0, f32x4.mul(w, v128.load(p)));
      a1 = f32x4.add(a1, f32x4.mul(w, v128.load(p, 16)));
      a2 = f32x4.add(a2, f32x4.mul(w, v128.load(p, 32)));
      a3 = f32x4.add(a3, f32x4.mul(w, v128.load(p, 48)));
    }
    if (relu) {
      const z = f32x4.splat(0);
      a0 = f32x4.max(a0, z); a1 = f32x4.max(a1, z); a2 = f32x4.max(a2, z); a3 = f32x4.max(a3, z);
    }
    const o = yt + <usize>j * yStride;
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
    k0 = k1;
  }
}

/**
 * out (n × fout, node-major) = act(bias + H (n × fin, node-major) · W), with W given as
 * Wᵀ CSR (fout rows over fin columns). `scratch` holds f32_spmm_w_nm_scratch(fin, fout) bytes,
 * 16-byte aligned.
 */
export function f32_spmm_w_nm(
  n: i32, fin: i32, fout: i32, h: usize,
  wtRowPtr: usize, wtColIdx: usize, wtValues: usize,
  bias: usize, relu: i32, out: usize, scratch: usize,
): void {
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(wtRowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let j = 0; j < fout; j++) checkRow(wtColIdx, load<i32>(wtRowPtr + (<usize>j << 2)), load<i32>(wtRowPtr + (<usize>(j + 1) << 2)), fin);
    assert((scratch & 15) == 0, "scratch must be 16-byte aligned");
  }
  const rl = relu != 0;
  const ht = scratch;
  const yt = scratch + <usize>fin * NT * 4;
  const tileStride: usize = <usize>NT << 2; // bytes between rows of a tile
  const hStride = <usize>fin << 2;
  const oStride = <usize>fout << 2;
  const fin4 = fin & ~3;
  const fout4 = fout & ~3;
  for (let n0 = 0; n0 < n; n0 += NT) {
    const nt = min(NT, n - n0);
    const hTile = h + <usize>n0 * hStride;
    // pack Hᵀ tile
    if (nt == NT) {
      for (let r = 0; r < NT; r += 4) {
        for (let i = 0; i < fin4; i += 4) {
          transpose4x4(hTile + <usize>r * hStride + (<usize>i << 2), hStride, ht + <usize>i * tileStride + (<usize>r << 2), tileStride);
        }
        for (let i = fin4; i < fin; i++) {
          for (let q = 0; q < 4; q++) {
            store<f32>(ht + <usize>i * tileStride + (<usize>(r + q) << 2), load<f32>(hTile + <usize>(r + q) * hStride + (<usize>i << 2)));
          }
        }
      }
    } else {
      for (let i = 0; i < fin; i++) {
        for (let r = 0; r < NT; r++) {
          const v: f32 = r < nt ? load<f32>(hTile + <usize>r * hStride + (<usize>i << 2)) : 0;
          store<f32>(ht + <usize>i * tileStride + (<usize>r << 2), v);
        }
      }
    }
    tileKernel(fout, wtRowPtr, wtColIdx, wtValues, ht, tileStride, bias, rl, yt, tileStride);
    // unpack Yᵀ tile into node-major rows
    const oTile = out + <usize>n0 * oStride;
    if (nt == NT) {
      for (let j = 0; j < fout4; j += 4) {
        for (let r = 0; r < NT; r += 4) {
          transpose4x4(yt + <usize>j * tileStride + (<usize>r << 2), tileStride, oTile + <usize>r * oStride + (<usize>j << 2), oStride);
        }
      }
      for (let j = fout4; j < fout; j++) {
        for (let r = 0; r < NT; r++) {
          store<f32>(oTile + <usize>r * oStride + (<usize>j << 2), load<f32>(yt + <usize>j * tileStride + (<usize>r << 2)));
        }
      }
    } else {
      for (let r = 0; r < nt; r++) {
        for (let j = 0; j < fout; j++) {
          store<f32>(oTile + <usize>r * oStride + (<usize>j << 2), load<f32>(yt + <usize>j * tileStride + (<usize>r << 2)));
        }
      }
    }
  }
}

/**
 * Yᵀ (fout × n, feature-major) = act(bias + Wᵀ · Hᵀ), Hᵀ (fin × n) feature-major, bias per output
 * channel. Node tiles of 16, then 4, then scalar.
 */
export function f32_spmm_w_fm(
  n: i32, fin: i32, fout: i32, ht: usize,
  wtRowPtr: usize, wtColIdx: usize, wtValues: usize,
  bias: usize, relu: i32, yt: usize,
): void {
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(wtRowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let j = 0; j < fout; j++) checkRow(wtColIdx, load<i32>(wtRowPtr + (<usize>j << 2)), load<i32>(wtRowPtr + (<usize>(j + 1) << 2)), fin);
  }
  const rl = relu != 0;
  const stride = <usize>n << 2;
  let n0 = 0;
  for (; n0 + NT <= n; n0 += NT) {
    const off = <usize>n0 << 2;
    tileKernel(fout, wtRowPtr, wtColIdx, wtValues, ht + off, stride, bias, rl, yt + off, stride);
  }
  for (; n0 + 4 <= n; n0 += 4) {
    const off = <usize>n0 << 2;
    for (let j = 0; j < fout; j++) {
      const k0 = load<i32>(wtRowPtr + (<usize>j << 2));
      const k1 = load<i32>(wtRowPtr + (<usize>(j + 1) << 2));
      let a = bias ? v128.load_splat<f32>(bias + (<usize>j << 2)) : f32x4.splat(0);
      for (let k = k0; k < k1; k++) {
        const kb = <usize>k << 2;
        a = f32x4.add(a, f32x4.mul(v128.load_splat<f32>(wtValues + kb), v128.load(ht + <usize>load<i32>(wtColIdx + kb) * stride + off)));
      }
      if (rl) a = f32x4.max(a, f32x4.splat(0));
      v128.store(yt + <usize>j * stride + off, a);
    }
  }
  for (; n0 < n; n0++) {
    const off = <usize>n0 << 2;
    for (let j = 0; j < fout; j++) {
      const k0 = load<i32>(wtRowPtr + (<usize>j << 2));
      const k1 = load<i32>(wtRowPtr + (<usize>(j + 1) << 2));
      let s: f32 = bias ? load<f32>(bias + (<usize>j << 2)) : 0;
      for (let k = k0; k < k1; k++) {
        const kb = <usize>k << 2;
        s += load<f32>(wtValues + kb) * load<f32>(ht + <usize>load<i32>(wtColIdx + kb) * stride + off);
      }
      store<f32>(yt + <usize>j * stride + off, sact(s, rl));
    }
  }
}

/**
 * Node-major row-axpy: out[v, :] = act(bias + Σ_i H[v, i] · W[i, :]) with W in CSR over input rows
 * (fin × fout). Scalar scatter, but rows of H that are zero (ReLU) are skipped.
 */
export function f32_spmm_w_axpy(
  n: i32, fin: i32, fout: i32, h: usize,
  wRowPtr: usize, wColIdx: usize, wValues: usize,
  bias: usize, relu: i32, out: usize,
): void {
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(wRowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let i = 0; i < fin; i++) checkRow(wColIdx, load<i32>(wRowPtr + (<usize>i << 2)), load<i32>(wRowPtr + (<usize>(i + 1) << 2)), fout);
  }
  const hStride = <usize>fin << 2;
  const oStride = <usize>fout << 2;
  for (let v = 0; v < n; v++) {
    const o = out + <usize>v * oStride;
    initRow(o, fout, bias);
    const hr = h + <usize>v * hStride;
    for (let i = 0; i < fin; i++) {
      const x = load<f32>(hr + (<usize>i << 2));
      if (x == 0) continue;
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
