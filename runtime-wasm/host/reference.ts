/**
 * Plain TypeScript references for every wasm kernel, and a reference GCN forward pass over a
 * Ticket: obvious loops, no layout tricks. The tests hold the SIMD kernels and the planned model
 * to these.
 */
import type { CsrMatrix, DenseMatrix } from "../../ticket/csr.js";
import type { Ticket, TicketGraph, TicketLayer, WeightMatrix } from "../../ticket/ticket.js";
import { refAct, type ActName } from "./reference-kernels.js";
export { referenceKernels, refGatScores, refGatAggregate, refAct, ACT_CODE, type ActName } from "./reference-kernels.js";

/** Node features: CSR, dense, or a bare row-major Float32Array of numNodes × inFeatures. */
export type FeatureInput = CsrMatrix | DenseMatrix | Float32Array;

function act(x: number, relu: boolean): number {
  return relu ? (x > 0 ? x : 0) : x;
}

/** out (a.rows × f) = act(bias + A · B), B (a.cols × f). (wasm: f32_spmm_csr) */
export function refSpmmCsr(a: CsrMatrix, b: Float32Array, f: number, bias: Float32Array | null = null, relu = false): Float32Array {
  const out = new Float32Array(a.rows * f);
  for (let i = 0; i < a.rows; i++) {
    for (let c = 0; c < f; c++) {
      let s = bias ? bias[c] : 0;
      for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) s += a.values[k] * b[a.colIdx[k] * f + c];
      out[i * f + c] = act(s, relu);
    }
  }
  return out;
}

/** out[k] = dot(X[i, :], Y[colIdx[k], :]) for each stored entry k = (i, ·). (wasm: f32_sddmm_csr) */
export function refSddmmCsr(a: { rows: number; rowPtr: Int32Array; colIdx: Int32Array }, x: Float32Array, y: Float32Array, f: number): Float32Array {
  const out = new Float32Array(a.rowPtr[a.rows]);
  for (let i = 0; i < a.rows; i++) {
    for (let k = a.rowPtr[i]; k < a.rowPtr[i + 1]; k++) {
      const j = a.colIdx[k];
      let s = 0;
      for (let c = 0; c < f; c++) s += x[i * f + c] * y[j * f + c];
      out[k] = s;
    }
  }
  return out;
}

/** C (m × n) = act(bias + A (m × k) · B (k × n)). (wasm: f32_gemm with f32_gemm_pack_b) */
export function refGemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, bias: Float32Array | null = null, relu = false): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j] : 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = act(s, relu);
    }
  }
  return out;
}

/** out (n × w.cols) = act(bias + H (n × w.rows) · W), W CSR over input rows. (wasm: f32_spmm_w_nm / _axpy / _fm) */
export function refDenseTimesSparseW(h: Float32Array, n: number, w: CsrMatrix, bias: Float32Array | null = null, relu = false): Float32Array {
  const fin = w.rows;
  const fout = w.cols;
  const acc = new Float64Array(n * fout);
  for (let v = 0; v < n; v++) {
    for (let i = 0; i < fin; i++) {
      const x = h[v * fin + i];
      for (let q = w.rowPtr[i]; q < w.rowPtr[i + 1]; q++) acc[v * fout + w.colIdx[q]] += x * w.values[q];
    }
  }
  const out = new Float32Array(n * fout);
  for (let v = 0; v < n; v++) for (let j = 0; j < fout; j++) out[v * fout + j] = act(acc[v * fout + j] + (bias ? bias[j] : 0), relu);
  return out;
}

/** out (x.rows × w.cols) = act(bias + X · W), both CSR. (wasm: f32_spgemm_csr) */
export function refSpgemm(x: CsrMatrix, w: CsrMatrix, bias: Float32Array | null = null, relu = false): Float32Array {
  const fout = w.cols;
  const acc = new Float64Array(x.rows * fout);
  for (let v = 0; v < x.rows; v++) {
    for (let k = x.rowPtr[v]; k < x.rowPtr[v + 1]; k++) {
      const i = x.colIdx[k];
      for (let q = w.rowPtr[i]; q < w.rowPtr[i + 1]; q++) acc[v * fout + w.colIdx[q]] += x.values[k] * w.values[q];
    }
  }
  const out = new Float32Array(x.rows * fout);
  for (let v = 0; v < x.rows; v++) for (let j = 0; j < fout; j++) out[v * fout + j] = act(acc[v * fout + j] + (bias ? bias[j] : 0), relu);
  return out;
}

/** dW[q] = Σ_v X[v, i] · dY[v, j] for each stored q = (i, j) of W (W's values unused); dY x.rows × w.cols. (wasm: f32_spgemm_dw_csr) */
export function refSpgemmGradW(x: CsrMatrix, w: CsrMatrix, dy: Float32Array): Float32Array {
  const fout = w.cols;
  const g = new Float64Array(w.rows * fout);
  for (let v = 0; v < x.rows; v++) {
    for (let k = x.rowPtr[v]; k < x.rowPtr[v + 1]; k++) for (let j = 0; j < fout; j++) g[x.colIdx[k] * fout + j] += x.values[k] * dy[v * fout + j];
  }
  const out = new Float32Array(w.rowPtr[w.rows]);
  for (let i = 0; i < w.rows; i++) for (let q = w.rowPtr[i]; q < w.rowPtr[i + 1]; q++) out[q] = g[i * fout + w.colIdx[q]];
  return out;
}

/** x[i, :] = act(x[i, :] + bias), a new array; `act` true = ReLU, false = none. (wasm: f32_bias_act, in place) */
export function refBiasAct(rows: number, f: number, x: Float32Array, bias: Float32Array | null, act: boolean | ActName): Float32Array {
  const a: ActName = act === true ? "relu" : act === false ? "none" : act;
  const out = new Float32Array(rows * f);
  for (let i = 0; i < rows; i++) for (let c = 0; c < f; c++) out[i * f + c] = refAct(Math.fround(x[i * f + c] + (bias ? bias[c] : 0)), a);
  return out;
}

/** srcᵀ (cols × rows). (wasm: f32_transpose) */
export function refTranspose(rows: number, cols: number, src: Float32Array): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

/** A weight matrix as dense row-major in × out. */
export function weightToDense(w: WeightMatrix): Float32Array {
  if (w.format === "dense") return w.data;
  const out = new Float32Array(w.rows * w.cols);
  for (let r = 0; r < w.rows; r++) for (let k = w.rowPtr[r]; k < w.rowPtr[r + 1]; k++) out[r * w.cols + w.colIdx[k]] += w.values[k];
  return out;
}

/** Features as dense row-major numNodes × inFeatures (checks the shape). */
export function featuresToDense(x: FeatureInput, rows: number, cols: number): Float32Array {
  if (x instanceof Float32Array) {
    if (x.length !== rows * cols) throw new RangeError(`features: expected ${rows} × ${cols} = ${rows * cols} floats, got ${x.length}`);
    return x;
  }
  if (x.rows !== rows || x.cols !== cols) throw new RangeError(`features: expected ${rows} × ${cols}, got ${x.rows} × ${x.cols}`);
  if ("data" in x) return x.data;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = x.rowPtr[r]; k < x.rowPtr[r + 1]; k++) out[r * cols + x.colIdx[k]] += x.values[k];
  return out;
}

function activate(x: number, a: TicketLayer["activation"]): number {
  if (a === "relu") return x > 0 ? x : 0;
  if (a === "elu") return x > 0 ? x : Math.expm1(x);
  return x;
}

/** H · W in f64, n × W.cols. */
function denseTimesWeight(h: Float32Array, n: number, layer: TicketLayer): Float64Array {
  const fin = layer.inFeatures;
  const cols = layer.weight.cols;
  const w = weightToDense(layer.weight);
  const t = new Float64Array(n * cols);
  for (let v = 0; v < n; v++) {
    for (let i = 0; i < fin; i++) {
      const hv = h[v * fin + i];
      if (hv === 0) continue;
      for (let j = 0; j < cols; j++) t[v * cols + j] += hv * w[i * cols + j];
    }
  }
  return t;
}

/** A GCN or GIN layer: act(Â · (H · W) + b). */
function linearLayer(g: TicketGraph, h: Float32Array, layer: TicketLayer): Float32Array {
  const n = g.numNodes;
  const fout = layer.outFeatures;
  const t = denseTimesWeight(h, n, layer);
  const out = new Float32Array(n * fout);
  for (let v = 0; v < n; v++) {
    for (let j = 0; j < fout; j++) {
      let s = layer.bias ? layer.bias[j] : 0;
      for (let k = g.rowPtr[v]; k < g.rowPtr[v + 1]; k++) s += g.coef[k] * t[g.colIdx[k] * fout + j];
      out[v * fout + j] = activate(s, layer.activation);
    }
  }
  return out;
}

/** A GAT layer (ticket/ticket.ts): per-head attention softmax over each node's kept in-edges. */
function gatLayer(g: TicketGraph, h: Float32Array, layer: TicketLayer): Float32Array {
  const att = layer.attention;
  if (!att) throw new Error("referenceForward: a gat layer without attention");
  const n = g.numNodes;
  const { heads, headFeatures: f } = att;
  const width = heads * f;
  const z = denseTimesWeight(h, n, layer);
  const el = new Float64Array(n * heads);
  const er = new Float64Array(n * heads);
  for (let v = 0; v < n; v++) {
    for (let k = 0; k < heads; k++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < f; c++) {
        a += att.src[k * f + c] * z[v * width + k * f + c];
        b += att.dst[k * f + c] * z[v * width + k * f + c];
      }
      el[v * heads + k] = a;
      er[v * heads + k] = b;
    }
  }
  const fout = layer.outFeatures;
  const out = new Float32Array(n * fout);
  const agg = new Float64Array(width);
  for (let v = 0; v < n; v++) {
    agg.fill(0);
    for (let k = 0; k < heads; k++) {
      let max = -Infinity;
      for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) {
        if (g.coef[e] === 0) continue;
        const x = el[g.colIdx[e] * heads + k] + er[v * heads + k];
        max = Math.max(max, x > 0 ? x : att.negativeSlope * x);
      }
      let denom = 0;
      for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) {
        const x = el[g.colIdx[e] * heads + k] + er[v * heads + k];
        const p = g.coef[e] === 0 ? 0 : g.coef[e] * Math.exp((x > 0 ? x : att.negativeSlope * x) - max);
        denom += p;
        for (let c = 0; c < f; c++) agg[k * f + c] += p * z[g.colIdx[e] * width + k * f + c];
      }
      if (denom > 0) for (let c = 0; c < f; c++) agg[k * f + c] /= denom;
    }
    for (let j = 0; j < fout; j++) {
      let s = 0;
      if (att.concat) s = agg[j];
      else {
        for (let k = 0; k < heads; k++) s += agg[k * f + j];
        s /= heads;
      }
      out[v * fout + j] = activate(s + (layer.bias ? layer.bias[j] : 0), layer.activation);
    }
  }
  return out;
}

/**
 * The forward pass of a Ticket, layer by layer (GCN, GIN, GAT as ticket/ticket.ts defines them),
 * accumulated in f64. Returns logits, numNodes × numClasses. Uses `features` if given, else the
 * ticket's own.
 */
export function referenceForward(ticket: Ticket, features?: FeatureInput): Float32Array {
  const n = ticket.graph.numNodes;
  const x = features ?? ticket.features;
  if (!x) throw new Error("referenceForward: the ticket has no features and none were given");
  let h: Float32Array = featuresToDense(x, n, ticket.layers[0].inFeatures);
  for (const layer of ticket.layers) h = layer.kind === "gat" ? gatLayer(ticket.graph, h, layer) : linearLayer(ticket.graph, h, layer);
  return h;
}
