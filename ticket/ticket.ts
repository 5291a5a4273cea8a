import type { CsrMatrix } from "./csr.js";

/**
 * The Ticket: the contract between trainer, exporter and runtime. Nothing here imports tfjs.
 *
 * A GCN layer computes  out = act( Â · (H · W) + b ),  where Â is `graph` (CSR over destination
 * nodes: row v holds v's in-edges, `colIdx` the source node and `coef` the normalised coefficient
 * the message is multiplied by, self-loops included as ordinary entries), W is in × out.
 */
export const TICKET_FORMAT_VERSION = 1;

export type Activation = "relu" | "none";
export type LayerKind = "gcn";

export interface TicketGraph {
  numNodes: number;
  rowPtr: Int32Array; // numNodes + 1, over destination nodes
  colIdx: Int32Array; // source node of each kept edge
  coef: Float32Array; // per-edge coefficient, normalisation and edge-mask value baked in
}

/** Weights, in × out: dense row-major, or CSR over input rows (row i = input feature i). */
export type WeightMatrix =
  | { format: "dense"; rows: number; cols: number; data: Float32Array }
  | ({ format: "csr" } & CsrMatrix);

export interface TicketLayer {
  kind: LayerKind;
  inFeatures: number;
  outFeatures: number;
  weight: WeightMatrix;
  bias: Float32Array | null; // length outFeatures
  activation: Activation;
}

export interface TicketMeta {
  dataset: string;
  model: string; // "gcn"
  method: string; // "dense" | "oneshot" | "fastglt" | "ugs"
  seed: number;
  /** 1 − kept edges / `edgesDense` (the graph's directed edges, both directions, self-loops excluded) */
  graphSparsity: number;
  /** 1 − nonzero weights / `weightsDense` (prunable weight matrices only, biases excluded) */
  weightSparsity: number;
  edgesDense: number;
  weightsDense: number;
  macsDense: number;
  macsTicket: number;
  valAccuracy: number;
  testAccuracy: number;
  denseTestAccuracy: number;
  trainingSeconds: number;
  createdAt: string; // ISO 8601
}

export interface Ticket {
  version: number;
  numClasses: number;
  graph: TicketGraph;
  layers: TicketLayer[];
  /** optional node features (numNodes × layers[0].inFeatures) so the file is self-contained */
  features: CsrMatrix | null;
  meta: TicketMeta;
}

export function weightNnz(w: WeightMatrix): number {
  if (w.format === "csr") return w.rowPtr[w.rows];
  let n = 0;
  for (let i = 0; i < w.data.length; i++) if (w.data[i] !== 0) n++;
  return n;
}

/**
 * MACs of one full-graph forward pass (algorithms.md §5, aggregate first):
 * Σ_l [ edges · d_{l−1} + N · nnz(W_l) ].
 */
export function forwardMacs(numNodes: number, numEdges: number, layers: { inFeatures: number; weightNnz: number }[]): number {
  let macs = 0;
  for (const l of layers) macs += numEdges * l.inFeatures + numNodes * l.weightNnz;
  return macs;
}
