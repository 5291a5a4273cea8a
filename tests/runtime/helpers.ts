import type { CsrMatrix } from "../../ticket/csr.js";
import type { WasmRuntime } from "../../runtime-wasm/host/wasm-module.js";
import { Mulberry32 as TestRng } from "../../trainer/util/mulberry32.js";

/** The seeded PRNG of the test data (mulberry32, seeded as given; bench/kernels.ts uses it too). */
export { TestRng };

export function randomDense(rng: TestRng, len: number, zeroFraction = 0): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.next() < zeroFraction ? 0 : rng.sym();
  return a;
}

/**
 * A random CSR matrix: each entry kept with probability `density`; `emptyRows` of the rows are
 * forced empty (isolated nodes). Columns ascend within a row.
 */
export function randomCsr(rng: TestRng, rows: number, cols: number, density: number, emptyRows = 0): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (rng.next() >= emptyRows) {
      for (let c = 0; c < cols; c++) {
        if (rng.next() < density) {
          colIdx.push(c);
          values.push(rng.sym());
        }
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

/** max |a − e| / max |e| (0 when both are all zero). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= num)) num = d; // NaN propagates
    den = Math.max(den, Math.abs(expected[i]));
  }
  if (num === 0) return 0;
  return den === 0 ? Infinity : num / den;
}

/** Copies arrays into a runtime's heap and reads results back; frees everything on reset(). */
/** Max over rows of max_c |a − b| / max(max_c |b|, 1e-3): each node at its own logit scale. */
export function rowErr(a: Float32Array, b: Float32Array, c: number): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let r = 0; r < a.length / c; r++) {
    let d = 0;
    let s = 1e-3;
    for (let j = 0; j < c; j++) {
      d = Math.max(d, Math.abs(a[r * c + j] - b[r * c + j]));
      s = Math.max(s, Math.abs(b[r * c + j]));
    }
    if (!(d / s <= worst)) worst = d / s;
  }
  return worst;
}

export class Mem {
  private ptrs: number[] = [];
  constructor(readonly rt: WasmRuntime) {}
  f32(a: ArrayLike<number>): number {
    const p = this.rt.heap.allocF32(a);
    this.ptrs.push(p);
    return p;
  }
  i32(a: ArrayLike<number>): number {
    const p = this.rt.heap.allocI32(a);
    this.ptrs.push(p);
    return p;
  }
  /** uninitialised region of `len` floats, filled with NaN so unwritten outputs show. */
  out(len: number): number {
    const p = this.rt.heap.alloc(len * 4);
    this.rt.heap.f32(p, len).fill(NaN);
    this.ptrs.push(p);
    return p;
  }
  csr(m: CsrMatrix): { rowPtr: number; colIdx: number; values: number } {
    return { rowPtr: this.i32(m.rowPtr), colIdx: this.i32(m.colIdx), values: this.f32(m.values) };
  }
  read(ptr: number, len: number): Float32Array {
    return this.rt.heap.f32(ptr, len).slice();
  }
  reset(): void {
    for (const p of this.ptrs) this.rt.heap.free(p);
    this.ptrs = [];
  }
}

import type { Activation, Ticket, TicketGraph, TicketLayer, WeightMatrix } from "../../ticket/ticket.js";

export interface TicketSpec {
  nodes: number;
  /** widths: [inFeatures, hidden..., numClasses] */
  widths: number[];
  /** per layer: "dense" or "csr" weights */
  formats?: ("dense" | "csr")[];
  /** per layer weight density (1 = no pruning) */
  densities?: number[];
  edgeProb?: number;
  /** fraction of nodes with no edges at all (not even a self-loop) */
  isolated?: number;
  featureDensity?: number;
  withFeatures?: boolean;
  bias?: boolean;
  /** layer kind (default gcn; gin computes the same formula) */
  kind?: "gcn" | "gin";
  /** activation of the hidden layers (default relu; the last layer has none) */
  hiddenActivation?: Activation;
}

/**
 * A random graph, CSR over destinations: each node has a self-loop and in-edges with probability
 * `edgeProb`, except an `isolated` share of nodes whose rows are empty; coefficients in
 * [lo, lo + span), a `zeroCoef` share of them 0.
 */
export function randomGraph(rng: TestRng, n: number, edgeProb: number, isolated: number, lo: number, span: number, zeroCoef = 0): TicketGraph {
  const rowPtr = new Int32Array(n + 1);
  const colIdx: number[] = [];
  const coef: number[] = [];
  for (let v = 0; v < n; v++) {
    if (rng.next() >= isolated) {
      for (let u = 0; u < n; u++) {
        if (u === v || rng.next() < edgeProb) {
          colIdx.push(u);
          const c = lo + rng.next() * span;
          coef.push(zeroCoef > 0 && rng.next() < zeroCoef ? 0 : c);
        }
      }
    }
    rowPtr[v + 1] = colIdx.length;
  }
  return { numNodes: n, rowPtr, colIdx: Int32Array.from(colIdx), coef: Float32Array.from(coef) };
}

function randomWeight(rng: TestRng, fin: number, fout: number, density: number, format: "dense" | "csr"): WeightMatrix {
  const m = randomCsr(rng, fin, fout, density);
  return format === "csr"
    ? { format: "csr", ...m }
    : { format: "dense", rows: fin, cols: fout, data: csrToDenseData(m.rows, m.cols, m.rowPtr, m.colIdx, m.values) };
}

const TEST_META: Ticket["meta"] = {
  dataset: "random", model: "gcn", method: "test", seed: 0, graphSparsity: 0, weightSparsity: 0,
  edgesDense: 0, weightsDense: 0, macsDense: 0, macsTicket: 0, valAccuracy: 0, testAccuracy: 0,
  denseTestAccuracy: 0, trainingSeconds: 0, createdAt: "1970-01-01T00:00:00Z",
};

/** A random small GCN (or GIN) Ticket. */
export function randomTicket(rng: TestRng, s: TicketSpec): Ticket {
  const n = s.nodes;
  const graph = randomGraph(rng, n, s.edgeProb ?? 0.1, s.isolated ?? 0.1, 0.05, 0.5);
  const layers: TicketLayer[] = [];
  for (let l = 0; l + 1 < s.widths.length; l++) {
    const fin = s.widths[l];
    const fout = s.widths[l + 1];
    layers.push({
      kind: s.kind ?? "gcn",
      inFeatures: fin,
      outFeatures: fout,
      weight: randomWeight(rng, fin, fout, s.densities?.[l] ?? 1, s.formats?.[l] ?? "dense"),
      bias: s.bias === false ? null : randomDense(rng, fout),
      activation: l + 2 < s.widths.length ? (s.hiddenActivation ?? "relu") : "none",
    });
  }
  return {
    version: 1,
    numClasses: s.widths[s.widths.length - 1],
    graph,
    layers,
    features: s.withFeatures === false ? null : randomCsr(rng, n, s.widths[0], s.featureDensity ?? 0.1, 0.05),
    meta: { ...TEST_META, model: s.kind ?? "gcn", edgesDense: graph.colIdx.length },
  };
}

export interface GatLayerSpec {
  heads: number;
  headFeatures: number;
  concat: boolean;
  activation: Activation;
  format?: "dense" | "csr";
  /** weight density (1 = no pruning) */
  density?: number;
}

export interface GatTicketSpec {
  nodes: number;
  inFeatures: number;
  layers: GatLayerSpec[];
  edgeProb?: number;
  /** share of nodes with no in-edges at all */
  isolated?: number;
  /** share of edges whose mask coefficient is 0 */
  zeroCoef?: number;
  featureDensity?: number;
  withFeatures?: boolean;
  bias?: boolean;
  negativeSlope?: number;
}

/** A random small GAT Ticket: edge-mask coefficients in (0.1, 1], some 0; attention vectors in [-1, 1). */
export function randomGatTicket(rng: TestRng, s: GatTicketSpec): Ticket {
  const n = s.nodes;
  const graph = randomGraph(rng, n, s.edgeProb ?? 0.1, s.isolated ?? 0.1, 0.1, 0.9, s.zeroCoef ?? 0.1);
  const layers: TicketLayer[] = [];
  let fin = s.inFeatures;
  for (const ls of s.layers) {
    const width = ls.heads * ls.headFeatures;
    const fout = ls.concat ? width : ls.headFeatures;
    layers.push({
      kind: "gat",
      inFeatures: fin,
      outFeatures: fout,
      weight: randomWeight(rng, fin, width, ls.density ?? 1, ls.format ?? "dense"),
      bias: s.bias === false ? null : randomDense(rng, fout),
      activation: ls.activation,
      attention: {
        heads: ls.heads, headFeatures: ls.headFeatures, src: randomDense(rng, width), dst: randomDense(rng, width),
        negativeSlope: s.negativeSlope ?? 0.2, concat: ls.concat,
      },
    });
    fin = fout;
  }
  return {
    version: 1,
    numClasses: fin,
    graph,
    layers,
    features: s.withFeatures === false ? null : randomCsr(rng, n, s.inFeatures, s.featureDensity ?? 0.1, 0.05),
    meta: { ...TEST_META, model: "gat", edgesDense: graph.colIdx.length },
  };
}

function csrToDenseData(rows: number, cols: number, rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array): Float32Array {
  const d = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) d[r * cols + colIdx[k]] = values[k];
  return d;
}
