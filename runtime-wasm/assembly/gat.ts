// Graph attention (GAT, ticket/ticket.ts): per-node attention scores, then one fused pass per
// destination row over the graph CSR: LeakyReLU scores of the row's in-edges, their max, the
// coefficient-weighted exponentials, and the weighted sum of the source rows of Z, normalised.
// Z = H·W comes from the weight kernels; it is node-major, heads·f wide, head k in columns
// [k·f, (k+1)·f). Scores el/er are node-major, `heads` per node.

import { hsum, loadPartial, storePartial, checkRow } from "./util";
import { actRow } from "./eltwise";

/** x[0..f) · y[0..f), SIMD with a partial last vector. */
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, f: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= f; c += 8) {
    const off = <usize>c << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x + off), v128.load(y + off)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(x + off, 16), v128.load(y + off, 16)));
  }
  if (c + 4 <= f) {
    const off = <usize>c << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(x + off), v128.load(y + off)));
    c += 4;
  }
  if (c < f) {
    const off = <usize>c << 2;
    a1 = f32x4.add(a1, f32x4.mul(loadPartial(x + off, f - c), loadPartial(y + off, f - c)));
  }
  return hsum(f32x4.add(a0, a1));
}

/**
 * el (rowsL × heads) and er (rowsR × heads), rowsR ≤ rowsL: el[u, k] = aSrc[k, :] · Z[u, k, :]
 * and er[v, k] = aDst[k, :] · Z[v, k, :]. Z is rowsL × heads·f; aSrc, aDst are heads × f.
 */
export function f32_gat_scores(rowsL: i32, rowsR: i32, heads: i32, f: i32, z: usize, aSrc: usize, aDst: usize, el: usize, er: usize): void {
  if (!ASC_NO_ASSERT) assert(rowsR <= rowsL, "gat scores: rowsR > rowsL");
  const hf = <usize>f << 2;
  const zStride = <usize>heads * hf;
  for (let u = 0; u < rowsL; u++) {
    const zRow = z + <usize>u * zStride;
    const sOff = <usize>u * <usize>heads << 2;
    for (let k = 0; k < heads; k++) {
      const zp = zRow + <usize>k * hf;
      const ap = <usize>k * hf;
      store<f32>(el + sOff + (<usize>k << 2), dot(zp, aSrc + ap, f));
      if (u < rowsR) store<f32>(er + sOff + (<usize>k << 2), dot(zp, aDst + ap, f));
    }
  }
}

/** Bytes of scratch f32_gat_aggregate needs for rows of at most maxDegree in-edges. */
export function f32_gat_aggregate_scratch(maxDegree: i32, heads: i32): i32 {
  return max(maxDegree, 1) * (heads + 2) * 4;
}

/**
 * For each destination row v < rows and head k, over v's in-edges e = (u → v) with coef[e] > 0:
 * s_e = LeakyReLU(el[u, k] + er[v, k]), p_e = coef[e] · exp(s_e − max_e s_e),
 * agg[v, k, :] = Σ p_e · Z[u, k, :] / Σ p_e (0 for a row without such edges). Then
 * out[v, :] = act(heads concatenated, or their mean, + bias); out is rows × (concat ? heads·f : f).
 * Z is zRows × heads·f; el zRows × heads, er rows × heads. `bias` may be null; `act` is an
 * ACT_* code. No row may have more than `maxDegree` in-edges; `scratch` holds
 * f32_gat_aggregate_scratch(maxDegree, heads) bytes.
 */
export function f32_gat_aggregate(
  rows: i32, heads: i32, f: i32, zRows: i32,
  rowPtr: usize, colIdx: usize, coef: usize,
  z: usize, el: usize, er: usize, negativeSlope: f32, concat: i32,
  bias: usize, act: i32, out: usize, scratch: usize, maxDegree: i32,
): void {
  const cat = concat != 0;
  const hf = <usize>f << 2;
  const hb = <usize>heads << 2;
  const zStride = <usize>heads * hf;
  const outW = cat ? heads * f : f;
  const outStride = <usize>outW << 2;
  const cap = <usize>max(maxDegree, 1);
  // scratch: per kept edge j of the row, its source row of Z, its coefficient, and its heads'
  // scores (then weights), edge-major
  const zpArr = scratch;
  const cArr = zpArr + (cap << 2);
  const sArr = cArr + (cap << 2);
  const h4 = heads & ~3;
  const slope = f32x4.splat(negativeSlope);
  const zero = f32x4.splat(0);
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(rowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let i = 0; i < rows; i++) {
      const k0 = load<i32>(rowPtr + (<usize>i << 2));
      const k1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
      checkRow(colIdx, k0, k1, zRows);
      assert(k1 - k0 <= maxDegree, "gat: a row has more in-edges than maxDegree");
      for (let e = k0; e < k1; e++) assert(load<f32>(coef + (<usize>e << 2)) >= 0, "gat: negative edge coefficient");
    }
  }
  for (let v = 0; v < rows; v++) {
    const k0 = load<i32>(rowPtr + (<usize>v << 2));
    const k1 = load<i32>(rowPtr + (<usize>(v + 1) << 2));
    const outRow = out + <usize>v * outStride;
    const erRow = er + <usize>v * hb;
    // scores of the kept edges, all heads at once (el and er rows are contiguous over heads)
    let cnt: usize = 0;
    for (let e = k0; e < k1; e++) {
      const eb = <usize>e << 2;
      const c = load<f32>(coef + eb);
      if (!(c > 0)) continue;
      const u = <usize>load<i32>(colIdx + eb);
      store<u32>(zpArr + (cnt << 2), <u32>(z + u * zStride));
      store<f32>(cArr + (cnt << 2), c);
      const elRow = el + u * hb;
      const sRow = sArr + cnt * hb;
      let k = 0;
      for (; k < h4; k += 4) {
        const kb = <usize>k << 2;
        let sv = f32x4.add(v128.load(elRow + kb), v128.load(erRow + kb));
        sv = v128.bitselect(sv, f32x4.mul(sv, slope), f32x4.gt(sv, zero));
        v128.store(sRow + kb, sv);
      }
      for (; k < heads; k++) {
        const kb = <usize>k << 2;
        let sc = load<f32>(elRow + kb) + load<f32>(erRow + kb);
        sc = sc > 0 ? sc : negativeSlope * sc;
        store<f32>(sRow + kb, sc);
      }
      cnt++;
    }
    for (let k = 0; k < heads; k++) {
      const kb = <usize>k << 2;
      let m = -Infinity as f32;
      for (let j: usize = 0; j < cnt; j++) m = max(m, load<f32>(sArr + j * hb + kb));
      let denom: f32 = 0;
      for (let j: usize = 0; j < cnt; j++) {
        const q = sArr + j * hb + kb;
        const p = load<f32>(cArr + (j << 2)) * Mathf.exp(load<f32>(q) - m);
        store<f32>(q, p);
        denom += p;
      }
      const d = f32x4.splat(denom > 0 ? denom : 1);
      const dst = cat ? outRow + <usize>k * hf : outRow;
      const zk = <usize>k * hf;
      const accumulate = !cat && k > 0;
      let c = 0;
      for (; c + 16 <= f; c += 16) {
        const off = <usize>c << 2;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let j: usize = 0; j < cnt; j++) {
          const p = v128.load_splat<f32>(sArr + j * hb + kb);
          const zp = <usize>load<u32>(zpArr + (j << 2)) + zk + off;
          a0 = f32x4.add(a0, f32x4.mul(p, v128.load(zp)));
          a1 = f32x4.add(a1, f32x4.mul(p, v128.load(zp, 16)));
          a2 = f32x4.add(a2, f32x4.mul(p, v128.load(zp, 32)));
          a3 = f32x4.add(a3, f32x4.mul(p, v128.load(zp, 48)));
        }
        a0 = f32x4.div(a0, d); a1 = f32x4.div(a1, d); a2 = f32x4.div(a2, d); a3 = f32x4.div(a3, d);
        const o = dst + off;
        if (accumulate) {
          a0 = f32x4.add(a0, v128.load(o)); a1 = f32x4.add(a1, v128.load(o, 16));
          a2 = f32x4.add(a2, v128.load(o, 32)); a3 = f32x4.add(a3, v128.load(o, 48));
        }
        v128.store(o, a0);
        v128.store(o, a1, 16);
        v128.store(o, a2, 32);
        v128.store(o, a3, 48);
      }
      if (c + 8 <= f) {
        const off = <usize>c << 2;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
        for (let j: usize = 0; j < cnt; j++) {
          const p = v128.load_splat<f32>(sArr + j * hb + kb);
          const zp = <usize>load<u32>(zpArr + (j << 2)) + zk + off;
          a0 = f32x4.add(a0, f32x4.mul(p, v128.load(zp)));
          a1 = f32x4.add(a1, f32x4.mul(p, v128.load(zp, 16)));
        }
        a0 = f32x4.div(a0, d); a1 = f32x4.div(a1, d);
        const o = dst + off;
        if (accumulate) {
          a0 = f32x4.add(a0, v128.load(o)); a1 = f32x4.add(a1, v128.load(o, 16));
        }
        v128.store(o, a0);
        v128.store(o, a1, 16);
        c += 8;
      }
      for (; c < f; c += 4) {
        const off = <usize>c << 2;
        const n = min(f - c, 4);
        let a0 = f32x4.splat(0);
        for (let j: usize = 0; j < cnt; j++) {
          const zp = <usize>load<u32>(zpArr + (j << 2)) + zk + off;
          a0 = f32x4.add(a0, f32x4.mul(v128.load_splat<f32>(sArr + j * hb + kb), loadPartial(zp, n)));
        }
        a0 = f32x4.div(a0, d);
        const o = dst + off;
        if (accumulate) a0 = f32x4.add(a0, loadPartial(o, n));
        storePartial(o, a0, n);
      }
    }
    // mean over heads, bias, activation
    const hv = f32x4.splat(<f32>heads);
    const mean = !cat && heads > 1;
    let c = 0;
    for (; c + 4 <= outW; c += 4) {
      const off = <usize>c << 2;
      let x = v128.load(outRow + off);
      if (mean) x = f32x4.div(x, hv);
      if (bias) x = f32x4.add(x, v128.load(bias + off));
      v128.store(outRow + off, x);
    }
    for (; c < outW; c++) {
      const off = <usize>c << 2;
      let x = load<f32>(outRow + off);
      if (mean) x = x / <f32>heads;
      if (bias) x += load<f32>(bias + off);
      store<f32>(outRow + off, x);
    }
    actRow(outRow, outW, act);
  }
}
