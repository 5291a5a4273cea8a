import type { CsrMatrix } from "./csr.js";

/**
 * The Ticket: the contract between trainer, exporter and runtime. Nothing here imports tfjs.
 *
 * `graph` is CSR over destination nodes: row v holds v's in-edges, `colIdx` the source node and
 * `coef` a per-edge coefficient; self-loops are ordinary entries. One graph serves every layer, and
 * a ticket's layers are all of one family (GCN/GIN or GAT), which says what `coef` means:
 *
 * - `gcn` and `gin`:  out = act( Â · (H · W) + b ),  Â's entries = `coef`, W in × out.
 *   GCN: coef = normalisation × edge mask. GIN: (1+ε)·h_v + mean over kept in-edges of m_e·h_u,
 *   then the linear layer; by linearity that is the same formula with coef = m_e / kept in-degree
 *   on graph edges and 1+ε on the self-loop. The two kinds compute the same thing; the kind records
 *   what the trainer built.
 * - `gat` (multi-head graph attention, `attention` set):  Z = H · W (W in × heads·F); per head k,
 *   el[u] = a_src,k · Z[u,k,:], er[v] = a_dst,k · Z[v,k,:], s_e = LeakyReLU(el[u] + er[v]) for each
 *   in-edge e = (u → v), α_e = coef_e · exp(s_e) / Σ_{e' into v} coef_e' · exp(s_e'), and
 *   out[v,k,:] = Σ_e α_e · Z[u,k,:]. Heads are concatenated (outFeatures = heads·F) or averaged
 *   (outFeatures = F); then out = act(out + b). coef = the edge-mask value m_e ≥ 0: a pruned edge
 *   is absent, and a row whose coefficients sum to 0 aggregates to 0.
 */
export const TICKET_FORMAT_VERSION = 1;

export type Activation = "relu" | "elu" | "none";
export type LayerKind = "gcn" | "gin" | "gat";

/** A GAT layer's attention: per-head vectors, each heads × headFeatures, row-major by head. */
export interface GatAttention {
  heads: number;
  headFeatures: number;
  src: Float32Array;
  dst: Float32Array;
  /** LeakyReLU slope for negative scores (0.2 in GAT) */
  negativeSlope: number;
  /** true: heads concatenated (outFeatures = heads·headFeatures); false: averaged (outFeatures = headFeatures) */
  concat: boolean;
}

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
  /** `gat` layers only (W is then in × heads·headFeatures); absent for `gcn` and `gin` */
  attention?: GatAttention;
}

export interface TicketMeta {
  dataset: string;
  model: string; // "gcn" | "gin" | "gat"
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
 * Σ_l [ edges · d_{l−1} + N · nnz(W_l) ]. (GAT layers: `gatMacs`.)
 */
export function forwardMacs(numNodes: number, numEdges: number, layers: { inFeatures: number; weightNnz: number }[]): number {
  let macs = 0;
  for (const l of layers) macs += numEdges * l.inFeatures + numNodes * l.weightNnz;
  return macs;
}

/**
 * MACs of one full-graph forward pass of a GAT layer: N · nnz(W) for Z = H·W, 2·N·heads·F for
 * the attention scores el and er, and edges · heads · (F + 1) for the weighted aggregation (the
 * +1: one multiply by the coefficient per edge and head).
 */
export function gatMacs(numNodes: number, numEdges: number, weightNnz: number, heads: number, headFeatures: number): number {
  return numNodes * weightNnz + 2 * numNodes * heads * headFeatures + numEdges * heads * (headFeatures + 1);
}
