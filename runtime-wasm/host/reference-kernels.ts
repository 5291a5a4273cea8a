import type { CsrHandle, SparseKernels } from "./kernel-api.js";

class ReferenceCsr implements CsrHandle {
  constructor(
    readonly rowPtr: Int32Array,
    readonly colIdx: Int32Array,
    public values: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {}
  get nnz(): number {
    return this.colIdx.length;
  }
  setValues(values: Float32Array): void {
    if (values.length !== this.nnz) throw new Error(`setValues: expected ${this.nnz} values, got ${values.length}`);
    this.values = values.slice();
  }
  free(): void {}
}

/** Plain, obviously-correct loops: what every fast kernel is tested against. */
export const referenceKernels: SparseKernels = {
  name: "reference",
  csr(rowPtr, colIdx, values, cols) {
    return new ReferenceCsr(rowPtr.slice(), colIdx.slice(), values.slice(), rowPtr.length - 1, cols);
  },
  spmm(a, b, f, out) {
    const m = a as ReferenceCsr;
    out.fill(0, 0, m.rows * f);
    for (let i = 0; i < m.rows; i++) {
      for (let k = m.rowPtr[i]; k < m.rowPtr[i + 1]; k++) {
        const v = m.values[k];
        const j = m.colIdx[k];
        for (let c = 0; c < f; c++) out[i * f + c] += v * b[j * f + c];
      }
    }
  },
  sddmm(a, x, y, f, out) {
    const m = a as ReferenceCsr;
    for (let i = 0; i < m.rows; i++) {
      for (let k = m.rowPtr[i]; k < m.rowPtr[i + 1]; k++) {
        const j = m.colIdx[k];
        let s = 0;
        for (let c = 0; c < f; c++) s += x[i * f + c] * y[j * f + c];
        out[k] = s;
      }
    }
  },
  spgemm(x, w, out) {
    const a = x as ReferenceCsr;
    const b = w as ReferenceCsr;
    if (a.cols !== b.rows) throw new Error(`spgemm: X has ${a.cols} columns but W ${b.rows} rows`);
    const f = b.cols;
    out.fill(0, 0, a.rows * f);
    for (let v = 0; v < a.rows; v++) {
      for (let k = a.rowPtr[v]; k < a.rowPtr[v + 1]; k++) {
        const i = a.colIdx[k];
        for (let q = b.rowPtr[i]; q < b.rowPtr[i + 1]; q++) out[v * f + b.colIdx[q]] += a.values[k] * b.values[q];
      }
    }
  },
  spgemmGradW(x, w, dy, out) {
    const a = x as ReferenceCsr;
    const b = w as ReferenceCsr;
    if (a.cols !== b.rows) throw new Error(`spgemmGradW: X has ${a.cols} columns but W ${b.rows} rows`);
    const f = b.cols;
    for (let i = 0; i < b.rows; i++) {
      for (let q = b.rowPtr[i]; q < b.rowPtr[i + 1]; q++) {
        const j = b.colIdx[q];
        let s = 0;
        for (let v = 0; v < a.rows; v++) {
          for (let k = a.rowPtr[v]; k < a.rowPtr[v + 1]; k++) if (a.colIdx[k] === i) s += a.values[k] * dy[v * f + j];
        }
        out[q] = s;
      }
    }
  },
};

/** Activation codes of the wasm kernels f32_bias_act and f32_gat_aggregate. */
export const ACT_CODE = { none: 0, relu: 1, elu: 2 } as const;
export type ActName = keyof typeof ACT_CODE;

/** act(x) in f64: ReLU max(x, 0), ELU x > 0 ? x : eˣ − 1, or x. */
export function refAct(x: number, act: ActName): number {
  if (act === "relu") return x > 0 ? x : 0;
  if (act === "elu") return x > 0 ? x : Math.expm1(x);
  return x;
}

/**
 * GAT attention scores, f64 sums: el[u, k] = aSrc[k, :] · Z[u, k, :] for u < rowsL,
 * er[v, k] = aDst[k, :] · Z[v, k, :] for v < rowsR; Z rowsL × heads·f. (wasm: f32_gat_scores)
 */
export function refGatScores(rowsL: number, rowsR: number, heads: number, f: number, z: Float32Array, aSrc: Float32Array, aDst: Float32Array): { el: Float32Array; er: Float32Array } {
  const el = new Float32Array(rowsL * heads);
  const er = new Float32Array(rowsR * heads);
  for (let u = 0; u < rowsL; u++) {
    for (let k = 0; k < heads; k++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < f; c++) {
        const x = z[u * heads * f + k * f + c];
        a += aSrc[k * f + c] * x;
        b += aDst[k * f + c] * x;
      }
      el[u * heads + k] = a;
      if (u < rowsR) er[u * heads + k] = b;
    }
  }
  return { el, er };
}

/**
 * GAT softmax + aggregation over a CSR graph (row v = v's in-edges, values = coefficients), f64:
 * for each row and head, over in-edges with coefficient > 0, α_e = c_e·exp(s_e)/Σ c·exp(s) with
 * s_e = LeakyReLU(el[u, k] + er[v, k]); agg = Σ α_e Z[u, k, :] (0 without such edges); heads
 * concatenated or averaged, + bias, activation. Returns rows × (concat ? heads·f : f).
 * (wasm: f32_gat_aggregate)
 */
export function refGatAggregate(
  g: { rows: number; rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array },
  heads: number, f: number, z: Float32Array, el: Float32Array, er: Float32Array,
  negativeSlope: number, concat: boolean, bias: Float32Array | null, act: ActName,
): Float32Array {
  const width = heads * f;
  const outW = concat ? width : f;
  const out = new Float32Array(g.rows * outW);
  for (let v = 0; v < g.rows; v++) {
    const agg = new Float64Array(width);
    for (let k = 0; k < heads; k++) {
      const kept: number[] = [];
      const score: number[] = [];
      for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) {
        if (!(g.values[e] > 0)) continue;
        const x = el[g.colIdx[e] * heads + k] + er[v * heads + k];
        kept.push(e);
        score.push(x > 0 ? x : negativeSlope * x);
      }
      if (kept.length === 0) continue;
      let m = -Infinity;
      for (const x of score) m = Math.max(m, x);
      const w = kept.map((e, i) => g.values[e] * Math.exp(score[i] - m));
      const denom = w.reduce((s, x) => s + x, 0);
      kept.forEach((e, i) => {
        for (let c = 0; c < f; c++) agg[k * f + c] += (w[i] / denom) * z[g.colIdx[e] * width + k * f + c];
      });
    }
    for (let j = 0; j < outW; j++) {
      let s = 0;
      if (concat) s = agg[j];
      else {
        for (let k = 0; k < heads; k++) s += agg[k * f + j];
        s /= heads;
      }
      out[v * outW + j] = refAct(s + (bias ? bias[j] : 0), act);
    }
  }
  return out;
}
