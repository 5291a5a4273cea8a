import { csrToDense, type CsrMatrix } from "../../ticket/csr.js";
import type { Activation, LayerKind, Ticket, TicketLayer, WeightMatrix } from "../../ticket/ticket.js";
import { randomMeta, rng } from "./helpers.js";

/**
 * Random GCN, GIN and GAT tickets for the ONNX tests. Unlike helpers.ts's randomTicket (built to stress the
 * .glt codec with f32 extremes that overflow in a forward pass), values here are moderate, so
 * ONNX Runtime's f32 arithmetic and the f64 reference agree to rounding; the awkwardness is in
 * the structure instead.
 */
export interface OnnxLayerSpec {
  /** "gcn" unless given; a gat layer needs `gat`, and then every layer must be gat */
  kind?: LayerKind;
  /** gat: out must be heads · headFeatures when concat, else headFeatures */
  gat?: { heads: number; headFeatures: number; concat: boolean; negativeSlope?: number };
  out: number;
  /** fraction of weights kept */
  density: number;
  format: "csr" | "dense";
  bias?: boolean;
  activation?: Activation;
}

export interface OnnxTicketSpec {
  seed: number;
  numNodes: number;
  inFeatures: number;
  layers: OnnxLayerSpec[];
  /**
   * in-degree of each node: a number (mean of a skewed random degree, 20% of nodes get none), or
   * a function of the node id for exact degrees.
   */
  degree: number | ((v: number) => number);
  /** nodes with no edges at all, in or out */
  isolated?: number[];
  /** GAT tickets: nodes whose in-edges all have coefficient 0 (kept in the graph, no weight) */
  zeroCoefNodes?: number[];
  /** GAT tickets: fraction of the other edges with coefficient 0 */
  zeroCoefFraction?: number;
  /** feature density, or null: no features in the ticket */
  featureDensity: number | null;
}

function randomCsr(rand: () => number, rows: number, cols: number, density: number): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (rand() < density) {
        colIdx.push(c);
        values.push(Math.fround((rand() - 0.5) * 2) || 0.25);
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

function weight(rand: () => number, rows: number, cols: number, s: OnnxLayerSpec): WeightMatrix {
  const m = randomCsr(rand, rows, cols, s.density);
  return s.format === "csr" ? { format: "csr", ...m } : { format: "dense", ...csrToDense(m) };
}

export function onnxTicket(spec: OnnxTicketSpec): Ticket {
  const rand = rng(spec.seed);
  const n = spec.numNodes;
  const isolated = new Set(spec.isolated ?? []);
  const sources = Array.from({ length: n }, (_, v) => v).filter((v) => !isolated.has(v));
  const rowPtr = new Int32Array(n + 1);
  const src: number[] = [];
  const coef: number[] = [];
  for (let v = 0; v < n; v++) {
    let d = 0;
    if (!isolated.has(v) && sources.length) {
      if (typeof spec.degree === "function") d = spec.degree(v);
      else d = rand() < 0.2 ? 0 : Math.floor(-Math.log(1 - rand()) * spec.degree) + 1; // skewed, some hubs
    }
    for (let k = 0; k < d; k++) {
      src.push(sources[Math.floor(rand() * sources.length)]); // duplicates and self-loops happen
      let c = Math.fround(0.05 + 0.95 * rand());
      if (spec.zeroCoefNodes?.includes(v) || (spec.zeroCoefFraction !== undefined && rand() < spec.zeroCoefFraction)) c = 0;
      coef.push(c);
    }
    rowPtr[v + 1] = src.length;
  }
  const layers: TicketLayer[] = [];
  let fin = spec.inFeatures;
  for (const s of spec.layers) {
    const a = s.gat;
    const cols = a ? a.heads * a.headFeatures : s.out;
    if (a && s.out !== (a.concat ? cols : a.headFeatures)) throw new Error("onnxTicket: a gat layer's out must follow from its gat spec");
    const vec = () => Float32Array.from({ length: cols }, () => Math.fround((rand() - 0.5) * 2));
    const attention = a && { heads: a.heads, headFeatures: a.headFeatures, src: vec(), dst: vec(), negativeSlope: a.negativeSlope ?? 0.2, concat: a.concat };
    layers.push({
      kind: s.kind ?? "gcn",
      inFeatures: fin,
      outFeatures: s.out,
      weight: weight(rand, fin, cols, s),
      bias: s.bias === false ? null : Float32Array.from({ length: s.out }, () => Math.fround((rand() - 0.5) * 0.2)),
      activation: s.activation ?? "relu",
      ...(attention && { attention }),
    });
    fin = s.out;
  }
  return {
    version: 1,
    numClasses: fin,
    graph: { numNodes: n, rowPtr, colIdx: Int32Array.from(src), coef: Float32Array.from(coef) },
    layers,
    features: spec.featureDensity === null ? null : randomCsr(rand, n, spec.inFeatures, spec.featureDensity),
    meta: { ...randomMeta(rand), testAccuracy: 0, denseTestAccuracy: 0 },
  };
}

/** Dense random features (numNodes × inFeatures), for tickets that carry none. */
export function randomFeatures(ticket: Ticket, seed: number): Float32Array {
  const rand = rng(seed);
  return Float32Array.from({ length: ticket.graph.numNodes * ticket.layers[0].inFeatures }, () => (rand() < 0.3 ? Math.fround(rand()) : 0));
}

/**
 * A Cora-shaped ticket: 2708 nodes, 13,264 edges (10,556 random + one self-loop per node, GCN
 * coefficients), layers 1433 → 512 → 7, weights CSR with `weightDensity` kept, no features.
 */
export function coraShapedTicket(weightDensity: number, seed = 1): Ticket {
  const rand = rng(seed);
  const n = 2708;
  const lists: number[][] = Array.from({ length: n }, (_, v) => [v]);
  let added = 0;
  while (added < 10556) {
    const u = Math.floor(rand() * n);
    const v = Math.floor(rand() * n);
    if (u === v || lists[v].includes(u)) continue;
    lists[v].push(u);
    lists[u].push(v);
    added += 2;
  }
  const rowPtr = new Int32Array(n + 1);
  const colIdx: number[] = [];
  const coef: number[] = [];
  for (let v = 0; v < n; v++) {
    for (const u of lists[v].sort((a, b) => a - b)) {
      colIdx.push(u);
      coef.push(1 / Math.sqrt(lists[u].length * lists[v].length));
    }
    rowPtr[v + 1] = colIdx.length;
  }
  const sparseWeight = (rows: number, cols: number): WeightMatrix => {
    const m = randomCsr(rand, rows, cols, weightDensity);
    return { format: "csr", ...m };
  };
  return {
    version: 1,
    numClasses: 7,
    graph: { numNodes: n, rowPtr, colIdx: Int32Array.from(colIdx), coef: Float32Array.from(coef) },
    layers: [
      { kind: "gcn", inFeatures: 1433, outFeatures: 512, weight: sparseWeight(1433, 512), bias: new Float32Array(512).fill(0.01), activation: "relu" },
      { kind: "gcn", inFeatures: 512, outFeatures: 7, weight: sparseWeight(512, 7), bias: new Float32Array(7).fill(0.01), activation: "none" },
    ],
    features: null,
    meta: { ...randomMeta(rand), dataset: "cora-shaped", weightSparsity: 1 - weightDensity },
  };
}
