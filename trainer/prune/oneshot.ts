import type { GcnModel } from "../models/gcn.js";
import { countNonzero, keepCount, topMagnitudeMask } from "./magnitude.js";

export interface SparsityTarget {
  /** fraction of weights removed from each weight matrix, by |W| per layer */
  weight: number;
  /** fraction of edges (self-loops included) removed, by |edge-mask value| */
  graph: number;
}

/** One-shot magnitude pruning of a trained model to the target sparsities (masks only; values kept). */
export function pruneOneShot(model: GcnModel, target: SparsityTarget, seed: number): void {
  for (const [i, w] of model.weights.entries()) {
    const values = w.value.dataSync() as Float32Array;
    w.mask = topMagnitudeMask(values, w.mask, keepCount(w.mask.length, target.weight), seed + 7919 * (i + 1));
  }
  const edgeValues = model.edgeMask.dataSync() as Float32Array;
  model.edgeKeep = topMagnitudeMask(edgeValues, model.edgeKeep, keepCount(model.edgeKeep.length, target.graph), seed);
  model.syncMasks();
}

/** Sparsities with their denominators: all edges incl. self-loops; all entries of the weight matrices. */
export function measureSparsity(model: GcnModel): { graph: number; weight: number; edgesKept: number; edgesTotal: number; weightsKept: number; weightsTotal: number } {
  const edgesTotal = model.edgeKeep.length;
  const edgesKept = countNonzero(model.edgeKeep);
  let weightsTotal = 0;
  let weightsKept = 0;
  for (const w of model.weights) {
    weightsTotal += w.mask.length;
    weightsKept += countNonzero(w.mask);
  }
  return { graph: 1 - edgesKept / edgesTotal, weight: 1 - weightsKept / weightsTotal, edgesKept, edgesTotal, weightsKept, weightsTotal };
}
