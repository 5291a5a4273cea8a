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

/** Bytes per kept edge of f32_gat_aggregate's scratch. */
const REC: usize = 12;

/** Bytes of scratch f32_gat_aggregate needs for rows of at most maxDegree in-edges. */
export function f32_gat_aggregate_scratch(maxDegree: i32): i32 {
  return max(maxDegree, 1) * <i32>REC;
}

/**
 * For each destination row v < rows and head k, over v's in-edges e = (u → v) with coef[e] > 0:
 * s_e = LeakyReLU(el[u, k] + er[v, k]), p_e = coef[e] · exp(s_e − max_e s_e),
 * agg[v, k, :] = Σ p_e · Z[u, k, :] / Σ p_e (0 for a row without such edges). Then
 * out[v, :] = act(heads concatenated, or their mean, + bias); out is rows × (concat ? heads·f : f).
 * Z is zRows × heads·f; el zRows × heads, er rows × heads. `bias` may be null; `act` is an
 * ACT_* code. `scratch` holds f32_gat_aggregate_scratch(max in-degree) bytes.
 */
export function f32_gat_aggregate(
  rows: i32, heads: i32, f: i32, zRows: i32,
  rowPtr: usize, colIdx: usize, coef: usize,
  z: usize, el: usize, er: usize, negativeSlope: f32, concat: i32,
  bias: usize, act: i32, out: usize, scratch: usize,
): void {
  const cat = concat != 0;
  const hf = <usize>f << 2;
  const zStride = <usize>heads * hf;
  const outW = cat ? heads * f : f;
  const outStride = <usize>outW << 2;
  if (!ASC_NO_ASSERT) {
    assert(load<i32>(rowPtr) == 0, "CSR rowPtr[0] must be 0");
    for (let i = 0; i < rows; i++) {
      const k0 = load<i32>(rowPtr + (<usize>i << 2));
      const k1 = load<i32>(rowPtr + (<usize>(i + 1) << 2));
      checkRow(colIdx, k0, k1, zRows);
      for (let e = k0; e < k1; e++) assert(load<f32>(coef + (<usize>e << 2)) >= 0, "gat: negative edge coefficient");
    }
  }
  for (let v = 0; v < rows; v++) {
    const k0 = load<i32>(rowPtr + (<usize>v << 2));
    const k1 = load<i32>(rowPtr + (<usize>(v + 1) << 2));
    const outRow = out + <usize>v * outStride;
    const sRow = <usize>v * <usize>heads << 2;
    for (let k = 0; k < heads; k++) {
      const kOff = <usize>k << 2;
      const erv = load<f32>(er + sRow + kOff);
      // the row's kept edges, compacted into REC-byte records: score (then weight), Z row pointer, coefficient
      let cnt = 0;
      let m = -Infinity as f32;
      for (let e = k0; e < k1; e++) {
        const eb = <usize>e << 2;
        const c = load<f32>(coef + eb);
        if (!(c > 0)) continue;
        const u = load<i32>(colIdx + eb);
        let s = load<f32>(el + (<usize>u * <usize>heads << 2) + kOff) + erv;
        s = s > 0 ? s : negativeSlope * s;
        m = max(m, s);
        const q = scratch + <usize>cnt * REC;
        store<f32>(q, s);
        store<u32>(q, <u32>(z + <usize>u * zStride + <usize>k * hf), 4);
        store<f32>(q, c, 8);
        cnt++;
      }
      let denom: f32 = 0;
      for (let j = 0; j < cnt; j++) {
        const q = scratch + <usize>j * REC;
        const p = load<f32>(q, 8) * Mathf.exp(load<f32>(q) - m);
        store<f32>(q, p);
        denom += p;
      }
      const d = f32x4.splat(denom > 0 ? denom : 1);
      const dst = cat ? outRow + <usize>k * hf : outRow;
      const accumulate = !cat && k > 0;
      let c = 0;
      for (; c + 16 <= f; c += 16) {
        const off = <usize>c << 2;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        for (let j = 0; j < cnt; j++) {
          const q = scratch + <usize>j * REC;
          const p = v128.load_splat<f32>(q);
          const zp = <usize>load<u32>(q, 4) + off;
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
        for (let j = 0; j < cnt; j++) {
          const q = scratch + <usize>j * REC;
          const p = v128.load_splat<f32>(q);
          const zp = <usize>load<u32>(q, 4) + off;
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
        for (let j = 0; j < cnt; j++) {
          const q = scratch + <usize>j * REC;
          a0 = f32x4.add(a0, f32x4.mul(v128.load_splat<f32>(q), loadPartial(<usize>load<u32>(q, 4) + off, n)));
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
