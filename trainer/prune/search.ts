/**
 * What the iterative ticket searches (FastGLT, UGS) share: run control (progress, interruption,
 * checkpoints), sparsity bookkeeping with stated denominators, and the result record.
 */
import { silentProgress, type Progress } from "../util/progress.js";
import type { PrunableModel } from "../models/prunable.js";
import { countNonzero } from "./magnitude.js";
import { readCheckpoint, writeCheckpoint, type Checkpoint } from "./checkpoint.js";

export type PruneTarget = "graph" | "weight" | "both";
export const PRUNE_TARGETS: readonly PruneTarget[] = ["graph", "weight", "both"];

export function prunesGraph(p: PruneTarget): boolean {
  return p !== "weight";
}

export function prunesWeights(p: PruneTarget): boolean {
  return p !== "graph";
}

export interface SearchControl {
  progress?: Progress;
  log?: (msg: string) => void;
  /** checked between epochs: when aborted, a checkpoint is written (if `checkpointPath`) and the run returns `interrupted` */
  signal?: AbortSignal;
  /** stop as if interrupted once this many epochs of the whole run are done (tests, time-boxed runs) */
  stopAtEpoch?: number;
  /** where checkpoints go (written atomically); none when unset */
  checkpointPath?: string;
  /** continue from this checkpoint (same options, same seed) instead of starting afresh */
  resume?: Checkpoint;
  /** what else defines the run (dataset, model size…): stored in checkpoints, must match on resume */
  context?: Record<string, unknown>;
  /** called after every epoch's evaluation (learning curves: `fastglt prune --history`) */
  onEpoch?: (r: EpochRecord) => void;
}

/** The record of an epoch from its evaluation and the masks' sparsities. */
export function epochRecord(epoch: number, phase: string, loss: number, ev: { trainAccuracy: number; valAccuracy: number; testAccuracy: number }, counts: SparsityCounts, seconds: number): EpochRecord {
  const { trainAccuracy, valAccuracy, testAccuracy } = ev;
  return { epoch, phase, loss, trainAccuracy, valAccuracy, testAccuracy, graphSparsity: counts.graph, graphSparsityWithSelfLoops: counts.graphWithSelfLoops, weightSparsity: counts.weight, seconds };
}

/** One epoch of a search, after its step and evaluation. */
export interface EpochRecord {
  /** 1-based over the whole run (all sessions; UGS: over all rounds) */
  epoch: number;
  /** FastGLT: pretrain | denoise | retrain; UGS: "round k mask" | "round k fix" */
  phase: string;
  /** the training loss of the epoch's step (FastGLT graph runs: with the edge-mask regularisers) */
  loss: number;
  trainAccuracy: number;
  valAccuracy: number;
  testAccuracy: number;
  /** sparsities of the masks the epoch was evaluated with, denominators as in SparsityCounts */
  graphSparsity: number;
  graphSparsityWithSelfLoops: number;
  weightSparsity: number;
  /** training wall-clock since the start of the run */
  seconds: number;
}

/**
 * Sparsities of a model's binary masks, each with its denominator:
 * - `graph`: 1 − kept / directed graph edges, self-loops excluded (the project's definition, UGS's
 *   denominator: 10,556 on Cora);
 * - `graphWithSelfLoops`: 1 − kept / (graph edges + one self-loop per node) (FastGLT's GCN
 *   denominator: 13,264 on Cora; equal to `graph` when self-loops are never pruned, up to the
 *   denominator);
 * - `weight`: 1 − nonzero / all entries of the weight matrices (biases excluded).
 */
export interface SparsityCounts {
  graph: number;
  graphWithSelfLoops: number;
  weight: number;
  edgesKept: number;
  edgesTotal: number;
  edgesKeptWithSelfLoops: number;
  edgesTotalWithSelfLoops: number;
  weightsKept: number;
  weightsTotal: number;
}

export function sparsityCounts(model: PrunableModel): SparsityCounts {
  const e = model.edges.numGraphEdges;
  const edgesKept = countNonzero(model.edgeKeep.subarray(0, e));
  const edgesKeptWithSelfLoops = countNonzero(model.edgeKeep);
  const edgesTotalWithSelfLoops = model.edgeKeep.length;
  let weightsKept = 0;
  let weightsTotal = 0;
  for (const w of model.weights) {
    weightsKept += countNonzero(w.mask);
    weightsTotal += w.mask.length;
  }
  return {
    graph: 1 - edgesKept / e,
    graphWithSelfLoops: 1 - edgesKeptWithSelfLoops / edgesTotalWithSelfLoops,
    weight: 1 - weightsKept / weightsTotal,
    edgesKept,
    edgesTotal: e,
    edgesKeptWithSelfLoops,
    edgesTotalWithSelfLoops,
    weightsKept,
    weightsTotal,
  };
}

/** The selected ticket: test accuracy at the best validation epoch. */
export interface BestRecord {
  epoch: number;
  phase: string;
  valAccuracy: number;
  testAccuracy: number;
  trainAccuracy: number;
  graphSparsity: number;
  graphSparsityWithSelfLoops: number;
  weightSparsity: number;
  /** training wall-clock from the start of the run to this epoch (all sessions) */
  seconds: number;
}

export interface SearchResult {
  method: "fastglt" | "ugs";
  status: "done" | "interrupted";
  /** epochs run so far (all sessions) and planned */
  epochs: number;
  totalEpochs: number;
  /** null if no epoch met the target sparsity */
  best: BestRecord | null;
  /** training wall-clock of the whole run (all sessions), evaluation included */
  seconds: number;
  checkpointPath: string | null;
  /** FastGLT: prune-and-regrow steps done on each pruned tensor */
  denoiseSteps?: Record<string, number>;
}

/** Wall clock across sessions: seconds stored in the checkpoint plus this session's. */
export class RunClock {
  private readonly start = performance.now();
  constructor(private readonly before: number) {}
  seconds(): number {
    return this.before + (performance.now() - this.start) / 1000;
  }
}

/** Lets pending signals (Ctrl-C) and I/O run between epochs. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export function shouldStop(ctl: SearchControl, epochsDone: number): boolean {
  return Boolean(ctl.signal?.aborted) || (ctl.stopAtEpoch !== undefined && epochsDone >= ctl.stopAtEpoch);
}

export async function saveCheckpoint(ctl: SearchControl, make: () => Checkpoint): Promise<void> {
  if (!ctl.checkpointPath) return;
  await writeCheckpoint(ctl.checkpointPath, make());
}

export { readCheckpoint };

export function progressOf(ctl: SearchControl): Progress {
  return ctl.progress ?? silentProgress;
}

/** Options must match the checkpoint's exactly (a different lr would not continue the same run). */
export function checkSameOptions(stored: unknown, given: unknown, method: string): void {
  const a = stored as Record<string, unknown>;
  const b = given as Record<string, unknown>;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
      throw new Error(`the checkpoint's ${method} run has ${k} = ${JSON.stringify(a[k])}, this one ${JSON.stringify(b[k])}: resume with the options of the interrupted run`);
    }
  }
}
