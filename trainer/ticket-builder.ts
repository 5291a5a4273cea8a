import { denseToCsr } from "../ticket/csr.js";
import { TICKET_FORMAT_VERSION, type Ticket, type TicketGraph, type TicketMeta } from "../ticket/ticket.js";
import type { Graph } from "./data/graph.js";
import type { PrunableModel } from "./models/prunable.js";
import { countNonzero } from "./prune/magnitude.js";
import { measureSparsity } from "./prune/oneshot.js";

export type TicketRunInfo = Pick<TicketMeta, "dataset" | "method" | "seed" | "valAccuracy" | "testAccuracy" | "denseTestAccuracy" | "trainingSeconds">;

/** The kept edges as CSR over destination nodes, each with its final coefficient. */
function ticketGraph(model: PrunableModel): TicketGraph {
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

/** Freezes a trained, masked model (GCN, GIN, GAT) into a Ticket (inference needs no dropout and no mask logic). */
export function buildTicket(model: PrunableModel, graph: Graph, info: TicketRunInfo, opts: { includeFeatures?: boolean } = {}): Ticket {
  const g = ticketGraph(model);
  const layers = model.ticketLayers();
  const s = measureSparsity(model);
  const n = graph.numNodes;
  const macsDense = model.forwardMacs(s.edgesTotal + n, model.weights.map((w) => w.rows * w.cols));
  const macsTicket = model.forwardMacs(s.edgesComputed, model.weights.map((w) => countNonzero(w.mask)));
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
