import { denseToCsr } from "../ticket/csr.js";
import { forwardMacs, TICKET_FORMAT_VERSION, type Ticket, type TicketGraph, type TicketMeta, type WeightMatrix } from "../ticket/ticket.js";
import type { Graph } from "./data/graph.js";
import type { GcnModel } from "./models/gcn.js";
import { countNonzero } from "./prune/magnitude.js";
import { measureSparsity } from "./prune/oneshot.js";

export type TicketRunInfo = Pick<TicketMeta, "dataset" | "method" | "seed" | "valAccuracy" | "testAccuracy" | "denseTestAccuracy" | "trainingSeconds">;

/** The kept edges as CSR over destination nodes, each with its final coefficient. */
function ticketGraph(model: GcnModel): TicketGraph {
  const { src, dst, numNodes } = model.edges;
  const coefAll = model.edgeWeights();
  const coefValues = coefAll.dataSync() as Float32Array;
  coefAll.dispose();
  const kept: number[] = [];
  for (let e = 0; e < src.length; e++) if (model.edgeKeep[e] !== 0) kept.push(e);
  kept.sort((a, b) => dst[a] - dst[b] || src[a] - src[b]);
  const rowPtr = new Int32Array(numNodes + 1);
  const colIdx = new Int32Array(kept.length);
  const coef = new Float32Array(kept.length);
  kept.forEach((e, k) => {
    rowPtr[dst[e] + 1]++;
    colIdx[k] = src[e];
    coef[k] = coefValues[e];
  });
  for (let v = 0; v < numNodes; v++) rowPtr[v + 1] += rowPtr[v];
  return { numNodes, rowPtr, colIdx, coef };
}

/** Masked weights, as CSR when anything was pruned, else dense. */
function ticketWeight(values: Float32Array, mask: Float32Array, rows: number, cols: number): WeightMatrix {
  const data = new Float32Array(values.length);
  let pruned = false;
  for (let i = 0; i < data.length; i++) {
    data[i] = mask[i] !== 0 ? values[i] : 0;
    if (mask[i] === 0) pruned = true;
  }
  if (!pruned) return { format: "dense", rows, cols, data };
  return { format: "csr", ...denseToCsr({ rows, cols, data }) };
}

/** Freezes a trained, masked GCN into a Ticket (inference needs no dropout and no mask logic). */
export function buildTicket(model: GcnModel, graph: Graph, info: TicketRunInfo, opts: { includeFeatures?: boolean } = {}): Ticket {
  const g = ticketGraph(model);
  const layers = model.weights.map((w, i) => {
    const weight = ticketWeight(w.value.dataSync() as Float32Array, w.mask, w.rows, w.cols);
    return {
      kind: "gcn" as const,
      inFeatures: w.rows,
      outFeatures: w.cols,
      weight,
      bias: model.biases[i].dataSync().slice() as Float32Array,
      activation: i < model.weights.length - 1 ? ("relu" as const) : ("none" as const),
    };
  });
  const s = measureSparsity(model);
  const n = graph.numNodes;
  const macsDense = forwardMacs(n, s.edgesTotal + n, model.weights.map((w) => ({ inFeatures: w.rows, weightNnz: w.rows * w.cols })));
  const macsTicket = forwardMacs(n, s.edgesComputed, layers.map((l, i) => ({ inFeatures: l.inFeatures, weightNnz: countNonzero(model.weights[i].mask) })));
  const f = graph.features;
  const features = opts.includeFeatures === false ? null : f.kind === "csr" ? { rows: f.rows, cols: f.cols, rowPtr: f.rowPtr, colIdx: f.colIdx, values: f.values } : denseToCsr(f);
  return {
    version: TICKET_FORMAT_VERSION,
    numClasses: graph.numClasses,
    graph: g,
    layers,
    features,
    meta: {
      ...info,
      model: model.kind,
      graphSparsity: s.graph,
      weightSparsity: s.weight,
      edgesDense: s.edgesTotal,
      weightsDense: s.weightsTotal,
      macsDense,
      macsTicket,
      createdAt: new Date().toISOString(),
    },
  };
}
