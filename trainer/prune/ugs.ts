/**
 * UGS, the Unified GNN Sparsification of Chen et al. (ICML 2021), as its official code does it
 * (github.com/VITA-Group/Unified-LTH-GNN, NodeClassification/{main_pruning_imp,pruning,net}.py;
 * ../shared/docs/algorithms.md §2). Iterative magnitude pruning of soft masks, with rewinding:
 *
 *   θ0 ← the initial weights; binary masks M_g (edges), M_θ (weights) ← 1
 *   for each round k:
 *     mask phase (maskEpochs, 200): θ ← θ0; soft masks m ← M·(1 + U(−1e−5, 1e−5)); train θ and m
 *       jointly: Adam on CE with grad(m_g) += s1·sign(m_g), grad(m_θ) += s2·sign(m_θ) (the L1
 *       sub-gradients), weight decay on everything, masks included. W_eff = W ⊙ m_θ ⊙ M_θ;
 *       Â = D̃^-1/2 (A ⊙ m_g ⊙ M_g + I) D̃^-1/2 renormalised on the soft masked matrix.
 *       At every validation improvement the candidate masks are taken from the current soft masks.
 *     prune: of the edges still active, the p_g = 5% of smallest |m_g|; of the weights still
 *       active, the p_θ = 20% of smallest |m_θ| with ONE threshold over all weight matrices together.
 *     fix phase (fixEpochs, 200): θ ← θ0, masks binary and frozen, fresh Adam; record the test
 *       accuracy at the best validation epoch and the sparsities.
 *   after k rounds: graph sparsity ≈ 1 − 0.95^k, weight sparsity ≈ 1 − 0.8^k.
 *
 * Where this differs from the official code:
 * - Per-round counts: the official threshold is the sorted |m| at index ⌊R·p⌋ with "keep |m| >
 *   threshold", which prunes ⌊R·p⌋ + 1 entries (plus any ties); here exactly ⌊R·p⌋ + 1, ties broken
 *   by the lower index. So sparsity after k rounds is 1 − 0.95^k (resp. 0.8^k) up to ~k entries.
 * - The GCN keeps this project's biases (UGS's linears have none) and its Glorot-uniform init;
 *   the adjacency is an edge list with one mask value per directed edge (UGS: a dense N×N matrix
 *   whose non-zero entries are the same edges), self-loops never masked (UGS adds I after masking).
 * - `prune: "graph"` / `"weight"` prune one family only and then train only that family's soft
 *   masks (UGS always trains both; it has no such modes).
 * - The candidate masks are stored at each validation improvement and pruned once at the end of
 *   the phase (same result as recomputing them at every improvement). If validation never rises
 *   above 0 the last epoch's soft masks are used (the official code would crash).
 * - Dropout seeds restart each phase (as UGS's setup_seed per phase); our RNG, not PyTorch's.
 *
 * Measured on Cora (seed 0). Until 2026-11-25 the renormalisation summed each node's *out*-edge
 * masks; UGS sums the row of A⊙m + I, i.e. the masks of the edges a node aggregates (its in-edges).
 * Equal on the unmasked graph, not on trained masks: rounds 1–3 went from 82.5 / 74.9 / 74.5% to
 * 80.6 / 80.2 / 78.8% with the fix. Still worth knowing:
 * - Under Adam the L1 term moves every soft mask down by ~lr per epoch whatever its CE gradient: at
 *   the best-validation epoch (~40) all weight masks lie within 0.003 of 0.672 (6,618 distinct
 *   values over 737,280 entries), and after ~120 epochs edge masks turn negative, D̃ ≤ 0 and the
 *   loss explodes (harmless to the candidates, taken at the best-validation epoch, but the rest of
 *   the mask phase is wasted).
 * - Edge pruning costs more than weight pruning: graph-only rounds 80.8 / 79.1 / 77.8% at 5 / 9.8 /
 *   14.3% of the edges (before the fix, with the fixed normalisation 77.6 / 77.2 and the kept-graph
 *   renormalisation 80.3 / 80.0 at rounds 1–2), weight-only rounds 82.5 / 82.3% at 20 / 36%.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import type { ModelKind, PrunableModel } from "../models/prunable.js";
import { FusedAdam } from "../ops/fused-adam.js";
import { dropoutSeed, evaluate, lossAndGradients, trainTargets } from "../train.js";
import { Rng } from "../util/rng.js";
import {
  copyMasks,
  getAdam,
  getMasks,
  getVariables,
  installMasks,
  putAdam,
  putMasks,
  putVariables,
  readVariables,
  writeVariables,
  type Checkpoint,
  type CheckpointArray,
  type VariableValues,
} from "./checkpoint.js";
import { topK } from "./select.js";
import {
  checkSameOptions,
  epochRecord,
  progressOf,
  prunesGraph,
  prunesWeights,
  RunClock,
  saveCheckpoint,
  shouldStop,
  sparsityCounts,
  yieldToEventLoop,
  type BestRecord,
  type PruneTarget,
  type SearchControl,
  type SearchResult,
} from "./search.js";

export interface UgsOptions {
  prune: PruneTarget;
  /** rounds to run (at most, when targets are given) */
  rounds: number;
  /** stop after the first round whose graph sparsity (graph edges, self-loops excluded) reaches this */
  targetGraph: number | null;
  /** … and whose weight sparsity reaches this */
  targetWeight: number | null;
  /** p_g: fraction of the remaining edges pruned per round */
  pruneRateGraph: number;
  /** p_θ: fraction of the remaining weights pruned per round (global threshold) */
  pruneRateWeight: number;
  maskEpochs: number;
  fixEpochs: number;
  lr: number;
  weightDecay: number;
  /** L1 sub-gradient scale on the edge mask */
  s1: number;
  /** L1 sub-gradient scale on the weight masks */
  s2: number;
  /** soft masks start at M·(1 + U(−c, c)) */
  maskNoise: number;
  seed: number;
}

type UgsRun = Pick<UgsOptions, "lr" | "weightDecay" | "s1" | "s2">;

/** The commands of UGS's README per backbone (algorithms.md §2.3); unknown datasets take Cora's. */
const UGS_RUNS: Record<ModelKind, Record<string, UgsRun>> = {
  gcn: {
    cora: { lr: 0.008, weightDecay: 8e-5, s1: 1e-2, s2: 1e-2 },
    citeseer: { lr: 0.01, weightDecay: 5e-4, s1: 1e-2, s2: 1e-2 },
    pubmed: { lr: 0.01, weightDecay: 5e-4, s1: 1e-6, s2: 1e-3 },
  },
  gin: {
    cora: { lr: 0.008, weightDecay: 8e-5, s1: 1e-3, s2: 1e-3 },
    citeseer: { lr: 0.01, weightDecay: 5e-4, s1: 1e-5, s2: 1e-5 },
    pubmed: { lr: 0.01, weightDecay: 5e-4, s1: 1e-5, s2: 1e-5 },
  },
  gat: {
    cora: { lr: 0.008, weightDecay: 8e-5, s1: 1e-3, s2: 1e-3 },
    citeseer: { lr: 0.01, weightDecay: 5e-4, s1: 1e-7, s2: 1e-3 },
    pubmed: { lr: 0.01, weightDecay: 5e-4, s1: 1e-2, s2: 1e-2 },
  },
};

export function ugsDefaults(dataset: string, model: ModelKind = "gcn"): UgsOptions {
  const runs = UGS_RUNS[model];
  const run = runs[dataset.toLowerCase()] ?? runs.cora;
  return {
    prune: "both",
    rounds: 20,
    targetGraph: null,
    targetWeight: null,
    pruneRateGraph: 0.05,
    pruneRateWeight: 0.2,
    maskEpochs: 200,
    fixEpochs: 200,
    ...run,
    maskNoise: 1e-5,
    seed: 0,
  };
}

/** Entries pruned in a round from `remaining` active ones at rate p (UGS's threshold rule, no ties). */
export function ugsPruneCount(remaining: number, p: number): number {
  return p > 0 ? Math.min(remaining, Math.floor(remaining * p) + 1) : 0;
}

/** Active entries left after `rounds` rounds starting from `total`. */
export function ugsRemaining(total: number, p: number, rounds: number): number {
  let r = total;
  for (let k = 0; k < rounds; k++) r -= ugsPruneCount(r, p);
  return r;
}

/** Rounds needed to reach the targets (null: not pruned), at most 200. */
export function ugsRoundsFor(o: Pick<UgsOptions, "prune" | "targetGraph" | "targetWeight" | "pruneRateGraph" | "pruneRateWeight">, edges: number, weights: number): number {
  let k = 0;
  const reached = (): boolean =>
    (!prunesGraph(o.prune) || o.targetGraph === null || 1 - ugsRemaining(edges, o.pruneRateGraph, k) / edges >= o.targetGraph - 1e-12) &&
    (!prunesWeights(o.prune) || o.targetWeight === null || 1 - ugsRemaining(weights, o.pruneRateWeight, k) / weights >= o.targetWeight - 1e-12);
  while (!reached()) {
    k++;
    if (k > 200) throw new Error("ugs: the targets are not reached within 200 rounds");
  }
  return k;
}

export function validateUgsOptions(o: UgsOptions): void {
  const bad = (msg: string): never => {
    throw new Error(`ugs: ${msg}`);
  };
  for (const k of ["rounds", "maskEpochs", "fixEpochs"] as const) if (!Number.isInteger(o[k]) || o[k] < 1) bad(`${k} must be an integer ≥ 1, got ${o[k]}`);
  for (const k of ["pruneRateGraph", "pruneRateWeight"] as const) if (!(o[k] > 0 && o[k] < 1)) bad(`${k} must be in (0, 1), got ${o[k]}`);
  for (const k of ["targetGraph", "targetWeight"] as const) if (o[k] !== null && !(o[k]! > 0 && o[k]! < 1)) bad(`${k} must be in (0, 1), got ${o[k]}`);
  if (!(o.lr > 0) || !(o.weightDecay >= 0) || !(o.s1 >= 0) || !(o.s2 >= 0) || !(o.maskNoise >= 0)) bad("lr must be > 0 and weightDecay, s1, s2, maskNoise ≥ 0");
}

/** The outcome of one round: the fixed-mask retraining's test accuracy at its best validation epoch. */
export interface UgsRound {
  round: number;
  /** over the graph edges (self-loops are never pruned); `…WithSelfLoops` over edges + self-loops */
  graphSparsity: number;
  graphSparsityWithSelfLoops: number;
  weightSparsity: number;
  edgesKept: number;
  weightsKept: number;
  valAccuracy: number;
  testAccuracy: number;
  trainAccuracy: number;
  /** best-validation epoch of the fix phase (0-based) and of the mask phase */
  bestEpoch: number;
  maskBestEpoch: number;
  /** wall-clock of the round, and of the run up to its end */
  roundSeconds: number;
  seconds: number;
}

export interface UgsResult extends SearchResult {
  rounds: UgsRound[];
}

type Phase = "mask" | "fix";

interface Cursor {
  round: number;
  phase: Phase;
  /** next epoch of the phase */
  epoch: number;
  phaseBestVal: number;
  phaseBestTest: number;
  phaseBestTrain: number;
  phaseBestEpoch: number;
  /** the current round's mask-phase best epoch */
  maskBestEpoch: number;
  roundStartSeconds: number;
  epochsDone: number;
}

/**
 * The soft masks at their best-validation epoch: edge-mask values (graph edges) and the
 * trainable weight masks, or null before any.
 */
interface Candidate {
  edge: Float32Array | null;
  weights: Float32Array[] | null;
}

/** Binary masks pruned from the soft masks (exported for tests): p_g of active edges, p_θ of active weights (one global threshold). */
export function ugsPrune(model: PrunableModel, soft: { edge: Float32Array | null; weights: Float32Array[] | null }, o: Pick<UgsOptions, "prune" | "pruneRateGraph" | "pruneRateWeight">): void {
  if (prunesGraph(o.prune) && soft.edge) {
    const e = model.edges.numGraphEdges;
    const keep = model.edgeKeep;
    const active = Int32Array.from({ length: e }, (_, i) => i).filter((i) => keep[i] !== 0);
    const kept = topK(soft.edge, active, active.length - ugsPruneCount(active.length, o.pruneRateGraph), { abs: true });
    const next = keep.slice();
    for (const i of active) next[i] = 0;
    for (const i of kept) next[i] = 1;
    model.edgeKeep = next;
  }
  if (prunesWeights(o.prune) && soft.weights) {
    // one global ranking: the matrices' entries laid end to end
    const sizes = model.weights.map((w) => w.mask.length);
    const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const totalSize = sizes.reduce((a, b) => a + b, 0);
    const score = new Float64Array(totalSize);
    const activeList: number[] = [];
    model.weights.forEach((w, l) => {
      const s = soft.weights![l];
      for (let i = 0; i < w.mask.length; i++) {
        score[offsets[l] + i] = Math.abs(s[i]);
        if (w.mask[i] !== 0) activeList.push(offsets[l] + i);
      }
    });
    const active = Int32Array.from(activeList);
    const kept = topK(score, active, active.length - ugsPruneCount(active.length, o.pruneRateWeight));
    const next = model.weights.map((w) => new Float32Array(w.mask.length));
    let l = 0;
    for (const g of kept) {
      while (g >= offsets[l] + sizes[l]) l++;
      next[l][g - offsets[l]] = 1;
    }
    model.weights.forEach((w, i) => {
      w.mask = next[i];
    });
  }
  model.syncMasks();
}

const CHECKPOINT_KIND = "ugs";

/**
 * Runs UGS on `model` (freshly built with the run's seed, `normalisation: "renormalised"` for the
 * faithful GCN). At the end the model holds the last round's ticket: its masks and the variables of
 * its fix phase's best-validation epoch.
 */
export async function runUgs(model: PrunableModel, graph: Graph, o: UgsOptions, ctl: SearchControl = {}): Promise<UgsResult> {
  validateUgsOptions(o);
  const progress = progressOf(ctl);
  const log = ctl.log ?? (() => {});
  const perRound = o.maskEpochs + o.fixEpochs;
  const targets = trainTargets(graph);
  const numGraphEdges = model.edges.numGraphEdges;

  let cursor: Cursor = { round: 0, phase: "mask", epoch: 0, phaseBestVal: 0, phaseBestTest: 0, phaseBestTrain: 0, phaseBestEpoch: -1, maskBestEpoch: -1, roundStartSeconds: 0, epochsDone: 0 };
  let rounds: UgsRound[] = [];
  let candidate: Candidate = { edge: null, weights: null };
  let phaseBestVars: VariableValues | null = null;
  let theta0: VariableValues = readVariables(model);
  let clockBefore = 0;
  let optimizer: FusedAdam | null = null;
  let vars: tf.Variable[] = [];
  let trainNamed = new Map<string, tf.Variable>();
  let resumeAdam: { arrays: Map<string, CheckpointArray>; steps: Record<string, number> } | null = null;
  let phaseResumeValues: VariableValues | null = null;

  if (ctl.resume) {
    const h = ctl.resume.header as { kind: string; options: UgsOptions; cursor: Cursor; rounds: UgsRound[]; seconds: number; adamSteps: Record<string, number>; candidate: { edge: boolean; weights: boolean } };
    if (h.kind !== CHECKPOINT_KIND) throw new Error(`the checkpoint is a ${h.kind} run, not a ugs run`);
    checkSameOptions(h.options, o, "ugs");
    checkSameOptions((ctl.resume.header.context ?? {}) as Record<string, unknown>, ctl.context ?? {}, "interrupted");
    const a = ctl.resume.arrays;
    cursor = h.cursor;
    rounds = h.rounds;
    theta0 = getVariables(a, "theta0/");
    installMasks(model, getMasks(a, "mask/", model.weights.length));
    const edge = a.get("cand/edge");
    candidate = {
      edge: h.candidate.edge && edge instanceof Float32Array ? edge : null,
      weights: h.candidate.weights ? model.weights.map((w) => a.get(`cand/${w.name}`) as Float32Array) : null,
    };
    const bestVars = getVariables(a, "best/");
    phaseBestVars = bestVars.size > 0 ? bestVars : null;
    clockBefore = h.seconds;
    if (cursor.epoch > 0) resumeAdam = { arrays: a, steps: h.adamSteps };
    log(`ugs: resuming round ${cursor.round + 1}, ${cursor.phase} phase, epoch ${cursor.epoch}`);
    // the variables of a phase in progress are restored once the phase is set up (below)
    if (cursor.epoch > 0) phaseResumeValues = getVariables(a, "cur/");
  }

  const clock = new RunClock(clockBefore);
  const plannedRounds = o.rounds;
  const totalEpochs = plannedRounds * perRound;
  const startEpochs = cursor.epochsDone;

  const makeCheckpoint = (): Checkpoint => {
    const arrays = new Map<string, CheckpointArray>();
    putVariables(arrays, "theta0/", theta0);
    putMasks(arrays, "mask/", copyMasks(model));
    putVariables(arrays, "cur/", readVariables(model));
    const adamSteps = optimizer && cursor.epoch > 0 ? putAdam(arrays, "adam/", optimizer, trainNamed) : {};
    if (candidate.edge) arrays.set("cand/edge", candidate.edge);
    if (candidate.weights) model.weights.forEach((w, i) => arrays.set(`cand/${w.name}`, candidate.weights![i]));
    if (phaseBestVars) putVariables(arrays, "best/", phaseBestVars);
    return {
      header: { kind: CHECKPOINT_KIND, version: 1, context: ctl.context ?? {}, options: o, cursor, rounds, seconds: clock.seconds(), adamSteps, candidate: { edge: candidate.edge !== null, weights: candidate.weights !== null } },
      arrays,
    };
  };

  /** Model configuration and optimizer of a phase; `fresh` also sets the phase's initial values. */
  const enterPhase = (phase: Phase, fresh: boolean): void => {
    if (phase === "mask") {
      if (prunesWeights(o.prune)) model.enableTrainableWeightMasks();
      model.trainWeightMasks = prunesWeights(o.prune);
      model.trainEdgeMask = prunesGraph(o.prune);
    } else {
      model.disableTrainableWeightMasks();
      model.trainEdgeMask = false;
    }
    if (fresh) {
      // rewind to θ0; soft masks = binary masks × (1 + U(−c, c)) (mask phase) or the binary masks (fix phase)
      writeVariables(model, new Map([...theta0].filter(([k]) => !k.includes("maskTrain") && k !== "edgeMask")));
      const rng = new Rng((o.seed ^ 0x0c5) >>> 0); // UGS re-seeds every phase: the same noise each round
      const edge = new Float32Array(model.edgeKeep.length).fill(1);
      if (phase === "mask" && prunesGraph(o.prune)) {
        for (let i = 0; i < numGraphEdges; i++) edge[i] = model.edgeKeep[i] * (1 + (2 * rng.next() - 1) * o.maskNoise);
      }
      tf.tidy(() => model.edgeMask.assign(tf.tensor1d(edge)));
      if (phase === "mask") {
        for (const w of model.weights) {
          if (!w.maskTrain) continue;
          const m = new Float32Array(w.mask.length);
          for (let i = 0; i < m.length; i++) m[i] = w.mask[i] * (1 + (2 * rng.next() - 1) * o.maskNoise);
          tf.tidy(() => w.maskTrain!.assign(tf.tensor2d(m, [w.rows, w.cols])));
        }
      }
      cursor.phaseBestVal = 0;
      cursor.phaseBestTest = 0;
      cursor.phaseBestTrain = 0;
      cursor.phaseBestEpoch = -1;
      if (phase === "mask") candidate = { edge: null, weights: null };
      phaseBestVars = null;
    }
    vars = model.trainableVariables();
    const named = model.namedVariables();
    trainNamed = new Map([...named].filter(([, v]) => vars.includes(v)));
    (optimizer as FusedAdam | null)?.dispose();
    optimizer = new FusedAdam({ learningRate: o.lr, weightDecay: o.weightDecay });
  };

  let stopped = false;
  try {
    while (cursor.round < plannedRounds) {
      const phase = cursor.phase;
      const epochs = phase === "mask" ? o.maskEpochs : o.fixEpochs;
      if (cursor.epoch === 0) {
        if (phase === "mask") cursor.roundStartSeconds = clock.seconds();
        enterPhase(phase, true);
      } else {
        enterPhase(phase, false);
        if (phaseResumeValues) writeVariables(model, phaseResumeValues);
        phaseResumeValues = null;
        if (resumeAdam) getAdam(resumeAdam.arrays, "adam/", optimizer!, trainNamed, resumeAdam.steps);
        resumeAdam = null;
      }
      const counts = sparsityCounts(model);
      for (let ep = cursor.epoch; ep < epochs; ep++) {
        const { loss, grads } = lossAndGradients(model, targets, vars, dropoutSeed(o.seed, ep));
        try {
          if (phase === "mask") {
            // the L1 sub-gradients s·sign(m)
            const ei = vars.indexOf(model.edgeMask);
            if (ei >= 0 && grads[ei]) {
              const g = grads[ei]!.dataSync().slice() as Float32Array;
              const m = model.edgeMask.dataSync();
              for (let i = 0; i < numGraphEdges; i++) g[i] += o.s1 * Math.sign(m[i]);
              grads[ei]!.dispose();
              grads[ei] = tf.tensor1d(g);
            }
            for (const w of model.weights) {
              const wi = w.maskTrain ? vars.indexOf(w.maskTrain) : -1;
              if (wi < 0 || !grads[wi]) continue;
              const next = tf.tidy(() => tf.add(grads[wi]!, tf.mul(tf.sign(w.maskTrain!), o.s2)));
              grads[wi]!.dispose();
              grads[wi] = next;
            }
          }
          optimizer!.applyGradients(vars, grads);
        } finally {
          tf.dispose(grads.filter((g): g is tf.Tensor => g !== null));
        }
        if (!Number.isFinite(loss)) throw new Error(`ugs: loss became ${loss} (round ${cursor.round + 1}, ${phase} epoch ${ep}); lower the learning rate`);
        const ev = evaluate(model, graph);
        if (ev.valAccuracy > cursor.phaseBestVal) {
          cursor.phaseBestVal = ev.valAccuracy;
          cursor.phaseBestTest = ev.testAccuracy;
          cursor.phaseBestTrain = ev.trainAccuracy;
          cursor.phaseBestEpoch = ep;
          if (phase === "mask") {
            candidate = {
              edge: prunesGraph(o.prune) ? (model.edgeMask.dataSync().slice() as Float32Array) : null,
              weights: prunesWeights(o.prune) ? model.weights.map((w) => w.maskTrain!.dataSync().slice() as Float32Array) : null,
            };
          } else {
            phaseBestVars = readVariables(model);
          }
        }
        cursor.epoch = ep + 1;
        cursor.epochsDone++;
        ctl.onEpoch?.(epochRecord(cursor.epochsDone, `round ${cursor.round + 1} ${phase}`, loss, ev, counts, clock.seconds()));
        progress.update("ugs", cursor.epochsDone - startEpochs, totalEpochs - startEpochs, {
          phase: `round ${cursor.round + 1} ${phase}`,
          epoch: `${ep + 1}/${epochs}`,
          loss,
          val: ev.valAccuracy,
          graph: counts.graph,
          weight: counts.weight,
        });
        if (shouldStop(ctl, cursor.epochsDone)) {
          stopped = true;
          break;
        }
        await yieldToEventLoop();
      }
      if (stopped) break;

      if (phase === "mask") {
        cursor.maskBestEpoch = cursor.phaseBestEpoch;
        if (!candidate.edge && !candidate.weights) {
          candidate = {
            edge: prunesGraph(o.prune) ? (model.edgeMask.dataSync().slice() as Float32Array) : null,
            weights: prunesWeights(o.prune) ? model.weights.map((w) => w.maskTrain!.dataSync().slice() as Float32Array) : null,
          };
        }
        ugsPrune(model, candidate, o);
        candidate = { edge: null, weights: null };
        cursor.phase = "fix";
        cursor.epoch = 0;
      } else {
        const s = sparsityCounts(model);
        const now = clock.seconds();
        const r: UgsRound = {
          round: cursor.round + 1,
          graphSparsity: s.graph,
          graphSparsityWithSelfLoops: s.graphWithSelfLoops,
          weightSparsity: s.weight,
          edgesKept: s.edgesKept,
          weightsKept: s.weightsKept,
          valAccuracy: cursor.phaseBestVal,
          testAccuracy: cursor.phaseBestTest,
          trainAccuracy: cursor.phaseBestTrain,
          bestEpoch: cursor.phaseBestEpoch,
          maskBestEpoch: cursor.maskBestEpoch,
          roundSeconds: now - cursor.roundStartSeconds,
          seconds: now,
        };
        rounds.push(r);
        log(`ugs: round ${r.round}: graph sparsity ${pct(r.graphSparsity)}, weight sparsity ${pct(r.weightSparsity)}, test ${pct(r.testAccuracy)} at best val ${pct(r.valAccuracy)} (epoch ${r.bestEpoch}), ${r.roundSeconds.toFixed(1)} s`);
        const reached =
          (o.targetGraph !== null || o.targetWeight !== null) &&
          (!prunesGraph(o.prune) || o.targetGraph === null || r.graphSparsity >= o.targetGraph - 1e-12) &&
          (!prunesWeights(o.prune) || o.targetWeight === null || r.weightSparsity >= o.targetWeight - 1e-12);
        if (reached || cursor.round + 1 >= plannedRounds) {
          cursor.round = plannedRounds; // done
          break;
        }
        cursor.round++;
        cursor.phase = "mask";
        cursor.epoch = 0;
        phaseBestVars = null;
        await saveCheckpoint(ctl, makeCheckpoint);
      }
    }
    if (stopped) {
      await saveCheckpoint(ctl, makeCheckpoint);
      progress.end();
      return { method: "ugs", status: "interrupted", epochs: cursor.epochsDone, totalEpochs, best: lastRecord(rounds), seconds: clock.seconds(), checkpointPath: ctl.checkpointPath ?? null, rounds };
    }
  } finally {
    targets.dispose();
    (optimizer as FusedAdam | null)?.dispose();
  }
  progress.end();
  // the ticket: the last round's masks with its fix phase's best-validation variables
  model.disableTrainableWeightMasks();
  if (phaseBestVars) writeVariables(model, phaseBestVars);
  tf.tidy(() => model.edgeMask.assign(tf.ones([model.edgeKeep.length])));
  model.trainEdgeMask = false;
  model.syncMasks();
  return { method: "ugs", status: "done", epochs: cursor.epochsDone, totalEpochs: cursor.epochsDone, best: lastRecord(rounds), seconds: clock.seconds(), checkpointPath: ctl.checkpointPath ?? null, rounds };
}

function lastRecord(rounds: UgsRound[]): BestRecord | null {
  const r = rounds[rounds.length - 1];
  if (!r) return null;
  return {
    epoch: r.bestEpoch,
    phase: `round ${r.round} fix`,
    valAccuracy: r.valAccuracy,
    testAccuracy: r.testAccuracy,
    trainAccuracy: r.trainAccuracy,
    graphSparsity: r.graphSparsity,
    graphSparsityWithSelfLoops: r.graphSparsityWithSelfLoops,
    weightSparsity: r.weightSparsity,
    seconds: r.seconds,
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
