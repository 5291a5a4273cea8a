/**
 * FastGLT (Yan et al., AAAI 2025) on the GCN, as its official code does it
 * (github.com/yanweiyue/FastGLT, FastGLT_gcn/{main,pruning,utils}.py; ../shared/docs/algorithms.md §1):
 *
 *   epochs 0 … E−1        dense pre-training (the edge mask is trained in graph runs)
 *   epoch E               one-shot pruning of every pruned tensor to its target: top |value| when
 *                         E > 0, a random mask when E = 0 (graph runs first multiply the edge mask
 *                         by 1 + U(−1e−4, 1e−4) to break ties)
 *   epochs E … E+D−1      denoising: scheduler step t = 1 … D, one per epoch. When t % delta = 0 a
 *                         prune-and-regrow step replaces that epoch's Adam step; otherwise Adam runs
 *                         on the masked gradient and the weights are re-masked.
 *   epochs E+D … E+D+R−1  rewind every variable to its initial value θ0, install the best mask so
 *                         far, retrain with it fixed (same optimizer: Adam's moments carry on)
 *
 * A denoising step, per pruned tensor (the edge mask, each weight matrix: uniform sparsity S):
 *   drop = alpha/2·(1 + cos(π·t/D));  n_grow = ⌊n_active·drop⌋;  n_prune = n_grow (+ ramp term)
 *   keep the n_active − n_prune entries of largest |value|; regrow the n_grow entries outside that
 *   set (just-dropped ones included) of largest score: weights |G|, edges (d_u·d_v)^(−3/2) + |G|,
 *   G = the gradient of the unmasked loss averaged over the last acc_n backward passes, d = active
 *   out-degree on the current sparse graph (0 → d^-1 = 1.21, d^-1/2 = 1.1). Newly grown weights
 *   start at 0, newly grown edges at the mean active mask value; regrown entries that were active
 *   keep their value. Ramp (beta < 1, warmupSteps W > 0): S starts at target·beta and is multiplied
 *   by k = beta^(−1/W) at each of the first W steps, pruning ⌊(k−1)·S·n⌋ more.
 *
 * Graph runs add 0.1·exp(−0.5·mean|m_i − m_j|) (not on PubMed) and 0.1·(−log var(m)) to the loss in
 * every epoch and 1e−4·sign(m) to the edge-mask gradient while denoising. Adam's weight decay
 * applies to every variable, the edge mask included. The ticket is the best-validation epoch among
 * those whose sparsity is within 1 point of the target (≥ target − 0.01 per pruned family), over
 * the denoising and the retraining phase; `seconds` of the best record is the wall-clock to it.
 *
 * Where this differs from the official code:
 * - **Joint mode** (`prune: "both"`): the official code prunes edges or weights in separate runs;
 *   here both families are pruned in one run, each tensor by the same rules, each family on its own
 *   schedule (`edgeDelta`, `edgeAccumulationN`) and the edge mask with its own learning rate
 *   (`edgeLr`); an epoch with any prune-and-regrow step has no Adam step; a best epoch must meet
 *   both targets. Joint defaults (our choice, the paper has no joint command): the weight runs'
 *   schedule (lr 0.01, delta 3, acc_n 2, E 30, D 400, R 200) for the weights and the graph runs'
 *   delta, acc_n and lr for the edge mask. With the weight runs' lr and delta on the edge mask too,
 *   Cora (35% / 93%) collapsed: the regularisers spread the mask values to [−0.7, 2.8] and val
 *   accuracy fell to 15%.
 * - **Our options** (off in graph and weight runs unless asked for; measured on Cora GCN, seeds 0–2):
 *   `oneShotEdgeScore: "saliency"` (one-shot edges by |m·∂L/∂m| after pre-training),
 *   `weightAllocation: "erk"`, `rewindTo: "pretrained"`, and the GCN's `normalisation: "kept"`
 *   (models/gcn.ts). Graph tickets at 35% of the graph's edges: faithful 73.7% (seed 0); self-loops
 *   kept 77.3%; + kept renormalisation 79.9 / 80.3 / 80.0 (random start, as the paper); + saliency
 *   start after 30 pre-training epochs 80.6 / 80.3 / 79.0. Weight tickets at 95%: uniform 80.5 /
 *   81.1 / 80.3; ERK 80.0 / 79.5 / 80.0; rewinding to the pre-trained weights 80.0 / 81.3 / 80.6;
 *   delta 10, acc_n 9 (the graph runs' schedule) 81.5 / 81.0 / 80.9; the same with D 800
 *   82.1 / 80.5 / 80.6, with R 400 79.9 / 81.0 / 81.0; alpha 0.1 80.3 / 80.4 / 81.1; E 100
 *   79.8 / 80.3 / 80.2; lr 5e-3 80.0 / 81.0 / 80.8; D 800 80.9 / 81.1 / 81.3; D 1200
 *   80.5 / 80.6 / 80.2; D 600 + R 400 80.8 / 81.0 / 80.7; D 800 + R 400 80.9 / 81.4 / 81.3 (the
 *   bench's "long" variant, the best mean: 0.5 below the dense 81.7). Joint runs use JOINT's
 *   settings. Rerun on 2026-12-06 with seeds 0–5 (dense 81.4): at 95%, paper settings 80.8,
 *   "long" 81.1, delta 10 / acc_n 9 80.9, + D 800 81.0, + D 800 + R 400 81.3, + ramp (beta 0.5,
 *   10 steps) 80.9, + E 200 81.5, + E 200 + rewinding to the pre-trained weights 81.1. The ones
 *   picked on those seeds, checked on seeds never looked at: delta 10 + D 800 81.0 vs dense 81.9
 *   (seeds 6–11); delta 10 + E 200 81.0 vs 81.9 (6–11) and 81.1 vs 81.9 (12–23): over seeds 0–23,
 *   81.2 vs the dense 81.8. Every schedule lands ~0.6 below the dense mean at 95%: the spread
 *   between 6-seed sets (the dense mean moves by 0.5) is larger than any gain a schedule gave. The
 *   best validation epoch comes soon after the one-shot pruning (delta 10: within ~20 epochs at 93%)
 *   more often with fewer swaps: a swap every 3 epochs disturbs the freshly pruned model.
 * - **Self-loops are pruned** (as FastGLT's GCN, whose edge mask covers the self-loops that
 *   dgl.add_self_loop appends); the one-shot pipeline never prunes them. The graph target is
 *   therefore a sparsity over all mask entries, graph edges + one self-loop per node (13,264 on
 *   Cora), FastGLT's denominator; reports give both that and the project's graph sparsity over the
 *   graph edges alone (10,556 on Cora). `pruneSelfLoops: false` keeps them all and makes the graph
 *   edges alone the denominator.
 * - The model is this project's GCN: Glorot-uniform init (official: Xavier normal), biases added
 *   after aggregation without the in-degree scaling, dropout on the hidden layer only (the official
 *   layer also drops out the output logits: `--output-dropout 0.5`), our seeded RNG (so seeds do
 *   not match PyTorch's). Logit dropout helps the dense model more than the tickets (Cora, seeds
 *   0–2): dense 81.7 → 83.1% (seeds 0–5: 81.4 → 82.4), weight tickets at 95% 80.6 → 80.9, at 98%
 *   80.1 → 80.7 (the PyTorch reference's 80.8), the faithful graph ticket at 35% 73.7 → 76.2 (seed
 *   0). The default stays Kipf's layer, for the dense baseline and the tickets alike.
 * - Open: the faithful graph run (random start, self-loops pruned) gains less from denoising than
 *   the issue's PyTorch re-implementation: seed 0 72.6% with alpha 0 (the random mask, never
 *   denoised) → 73.7% denoised; the reference 74.5 → 78.2% (mean of 3 seeds). What closes it: the
 *   same faithful run with `normalisation: "kept"` (self-loops still pruned) gives 78.9 / 78.8 /
 *   76.7 = 78.1%, the reference's number; without the edge regularisers 74.6% (seed 0). So the
 *   reference behaves as if it renormalised on the kept graph, against algorithms.md §1.6's reading
 *   of layer_gcn.py (degrees of the unpruned graph): worth checking in the official code.
 * - Retraining installs the best mask at the rewind itself (the official code's first retraining
 *   forward pass still runs the unmasked θ0; the mask is applied after its first Adam step).
 * - Selection ties (equal |value| or score) go to the lower index (torch.topk: unspecified); the
 *   drop ranking is taken over the active entries (officially over all, where pruned ones are 0).
 * - The scheduler's `step ≤ T_end` and the accumulation window (`delta − (t−1) mod delta ≤ acc_n`,
 *   reset otherwise) are the official ones; the retraining phase accumulates nothing.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import type { ModelKind, PrunableModel } from "../models/prunable.js";
import { FusedAdam } from "../ops/fused-adam.js";
import { dropoutSeed, evaluate, lossAndGradients, trainTargets, type Evaluation } from "../train.js";
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
  type MaskSet,
  type VariableValues,
} from "./checkpoint.js";
import { edgeMaskRegulariser } from "./regularisers.js";
import { edgeSaliency } from "./edge-saliency.js";
import { randomMask, topK, topKWhere } from "./select.js";
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

export interface FastGltOptions {
  prune: PruneTarget;
  /** target sparsity of the edge mask (1 − remain), over the entries it may prune (see pruneSelfLoops) */
  targetGraph: number;
  /** target sparsity of every weight matrix (FastGLT's uniform allocation) */
  targetWeight: number;
  lr: number;
  /** learning rate of the edge mask (null: lr); joint runs use the graph runs' (see fastgltDefaults) */
  edgeLr: number | null;
  weightDecay: number;
  /** weight decay of the edge mask (null: weightDecay, as FastGLT) */
  edgeWeightDecay: number | null;
  /** E: dense pre-training epochs (0: random one-shot mask) */
  pretrainEpochs: number;
  /** D: denoising epochs (the scheduler's T_end) */
  denoiseEpochs: number;
  /** R: retraining epochs after the rewind (0: none) */
  retrainEpochs: number;
  /** a prune-and-regrow step every `delta` denoising epochs */
  delta: number;
  /** gradients averaged over this many backward passes before a step (0 < acc_n < delta) */
  accumulationN: number;
  /** the edge mask's own delta and acc_n (null: delta, accumulationN); joint runs use the graph runs' */
  edgeDelta: number | null;
  edgeAccumulationN: number | null;
  /** initial swap fraction, cosine-decayed to 0 over the denoising phase */
  alpha: number;
  /** initial fraction of the target sparsity (ramp; 1 = none) */
  beta: number;
  /** ramp steps (0 = none; needed when beta < 1) */
  warmupSteps: number;
  /**
   * after pre-training, rank edges for the one-shot mask by |mask value| (FastGLT) or by the
   * first-order saliency |m·∂L/∂m| of a self-distillation loss (edge-saliency.ts; ours)
   */
  oneShotEdgeScore: "magnitude" | "saliency";
  /**
   * what the retraining phase rewinds to: the initial values θ0 (FastGLT, lottery-ticket style) or
   * the values at the end of dense pre-training, just before the one-shot pruning (ours: "late
   * rewinding", Frankle et al. 2020; the same as init when E = 0)
   */
  rewindTo: "init" | "pretrained";
  /** how the weight target is spread over the matrices: uniform (FastGLT) or erk (ours; see weightSparsities) */
  weightAllocation: "uniform" | "erk";
  /** prune self-loops too (FastGLT's GCN: yes) */
  pruneSelfLoops: boolean;
  /** exp-diversity edge-mask regulariser (FastGLT leaves it out on PubMed) */
  diversityLoss: boolean;
  /** the edge-mask regularisers at all (exp diversity, log variance, and the r1 term); FastGLT: on */
  edgeRegularisers: boolean;
  seed: number;
  /** a checkpoint every this many denoising steps (and every delta·this epochs outside denoising) */
  checkpointEvery: number;
}

type Run = Partial<FastGltOptions>;

/**
 * The commands of FastGLT's README per backbone (algorithms.md §1.5) over args.py's defaults
 * (GCN: D 400, E 30, R 200; GIN: D 500, E 0, R 200; GAT: D 600, E 0, R 0). The GAT's graph
 * targets (70–77%) were reached with the official layer, where a pruned edge stays in the softmax;
 * ours removes it, so they are targets, not promises.
 */
const RUNS: Record<ModelKind, { graph: Record<string, Run>; weight: Record<string, Run> }> = {
  gcn: {
    graph: {
      cora: { targetGraph: 0.35, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 0, denoiseEpochs: 400, retrainEpochs: 200 },
      pubmed: { targetGraph: 0.4, lr: 1e-3, delta: 20, accumulationN: 3, pretrainEpochs: 50, denoiseEpochs: 400, retrainEpochs: 0 },
    },
    weight: {
      cora: { targetWeight: 0.93, lr: 1e-2, delta: 3, accumulationN: 2, pretrainEpochs: 30, denoiseEpochs: 400, retrainEpochs: 200 },
      citeseer: { targetWeight: 0.95, lr: 1e-2, delta: 3, accumulationN: 2, pretrainEpochs: 30, denoiseEpochs: 400, retrainEpochs: 200 },
      pubmed: { targetWeight: 0.99, lr: 1e-2, delta: 3, accumulationN: 2, pretrainEpochs: 30, denoiseEpochs: 400, retrainEpochs: 200 },
    },
  },
  gin: {
    graph: {
      cora: { targetGraph: 0.25, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 0, denoiseEpochs: 500, retrainEpochs: 200 },
      citeseer: { targetGraph: 0.45, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 0, denoiseEpochs: 500, retrainEpochs: 200 },
      pubmed: { targetGraph: 0.6, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 50, denoiseEpochs: 500, retrainEpochs: 200 },
    },
    weight: {
      cora: { targetWeight: 0.9, lr: 5e-3, delta: 3, accumulationN: 2, pretrainEpochs: 0, denoiseEpochs: 500, retrainEpochs: 200 },
      citeseer: { targetWeight: 0.98, lr: 5e-3, delta: 3, accumulationN: 2, pretrainEpochs: 0, denoiseEpochs: 500, retrainEpochs: 200 },
      pubmed: { targetWeight: 0.98, lr: 5e-3, delta: 3, accumulationN: 2, pretrainEpochs: 50, denoiseEpochs: 500, retrainEpochs: 200 },
    },
  },
  gat: {
    graph: {
      cora: { targetGraph: 0.75, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 0, denoiseEpochs: 600, retrainEpochs: 0 },
      citeseer: { targetGraph: 0.77, lr: 1e-3, delta: 3, accumulationN: 2, pretrainEpochs: 50, denoiseEpochs: 400, retrainEpochs: 200 },
      pubmed: { targetGraph: 0.7, lr: 1e-3, delta: 10, accumulationN: 9, pretrainEpochs: 30, denoiseEpochs: 400, retrainEpochs: 200, beta: 0.5, warmupSteps: 8 },
    },
    weight: {
      cora: { targetWeight: 0.985, lr: 5e-3, delta: 10, accumulationN: 2, pretrainEpochs: 0, denoiseEpochs: 600, retrainEpochs: 0 },
      citeseer: { targetWeight: 0.99, lr: 1e-3, delta: 3, accumulationN: 2, pretrainEpochs: 50, denoiseEpochs: 400, retrainEpochs: 200 },
      pubmed: { targetWeight: 0.99, lr: 5e-3, delta: 10, accumulationN: 9, pretrainEpochs: 0, denoiseEpochs: 600, retrainEpochs: 0 },
    },
  },
};

/**
 * What a joint run (ours; the paper has none) changes beyond the schedules: on Cora GCN at 35% graph /
 * 93% weight, seeds 0–2, the faithful joint settings gave 70–73%. Keeping the self-loops, the
 * saliency one-shot (after the 30 pre-training epochs) and, for the GCN, the kept-graph
 * renormalisation (`--normalisation kept`, the CLI's joint default) gave 79.4 / 79.2 / 76.8 with the
 * edge-mask regularisers and weight decay on, 79.3 / 78.8 / 79.1 with both off (these defaults).
 */
const JOINT: Partial<FastGltOptions> = { pruneSelfLoops: false, oneShotEdgeScore: "saliency", edgeRegularisers: false, edgeWeightDecay: 0 };

/**
 * Per-backbone, per-dataset defaults: the README command for the dataset and pruned family; a
 * dataset without a command for that family (GCN CiteSeer graph runs, unknown datasets) takes
 * Cora's; joint runs take the weight-run schedule and both targets.
 */
export function fastgltDefaults(dataset: string, prune: PruneTarget, model: ModelKind = "gcn"): FastGltOptions {
  const name = dataset.toLowerCase();
  const runs = RUNS[model];
  const graphRun = runs.graph[name] ?? runs.graph.cora;
  const weightRun = runs.weight[name] ?? runs.weight.cora;
  const schedule = prune === "graph" ? graphRun : weightRun;
  return {
    prune,
    targetGraph: graphRun.targetGraph!,
    targetWeight: weightRun.targetWeight!,
    lr: schedule.lr!,
    // joint runs: the weight runs' lr (1e-2) on the edge mask, with the regularisers pushing its
    // variance up, spreads the mask values to [−0.7, 2.8] within 400 epochs on Cora and validation
    // accuracy collapses (15%); the graph runs' lr keeps it where FastGLT's graph runs have it
    edgeLr: prune === "both" ? graphRun.lr! : null,
    weightDecay: 5e-4,
    edgeWeightDecay: null,
    pretrainEpochs: schedule.pretrainEpochs!,
    denoiseEpochs: schedule.denoiseEpochs!,
    retrainEpochs: schedule.retrainEpochs!,
    delta: schedule.delta!,
    accumulationN: schedule.accumulationN!,
    // joint runs: each family keeps the schedule of its own paper runs (every 3 epochs with a 30%
    // swap fraction, the edge mask barely moves between steps and the swaps churn the graph)
    edgeDelta: prune === "both" ? graphRun.delta! : null,
    edgeAccumulationN: prune === "both" ? graphRun.accumulationN! : null,
    alpha: 0.3,
    oneShotEdgeScore: "magnitude",
    weightAllocation: "uniform",
    rewindTo: "init",
    beta: schedule.beta ?? 1,
    warmupSteps: schedule.warmupSteps ?? 0,
    // FastGLT's GCN prunes the self-loops dgl.add_self_loop appends; GIN's self term and GAT's
    // self-attention are not edges of its graph. Joint runs (ours) keep them: JOINT, above.
    pruneSelfLoops: model === "gcn",
    diversityLoss: name !== "pubmed",
    edgeRegularisers: true,
    ...(prune === "both" ? JOINT : {}),
    seed: 0,
    // a Cora checkpoint is ~19 MB and takes ~0.25 s to write (checksum, fsync): every 75 epochs at delta 3
    checkpointEvery: 25,
  };
}

export function validateFastGltOptions(o: FastGltOptions): void {
  const bad = (msg: string): never => {
    throw new Error(`fastglt: ${msg}`);
  };
  for (const k of ["pretrainEpochs", "denoiseEpochs", "retrainEpochs", "delta", "accumulationN", "warmupSteps", "checkpointEvery"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) bad(`${k} must be an integer ≥ 0, got ${o[k]}`);
  }
  if (o.delta < 1) bad(`delta must be ≥ 1, got ${o.delta}`);
  if (!(o.accumulationN > 0 && o.accumulationN < o.delta)) bad(`accumulationN must satisfy 0 < acc_n < delta (got ${o.accumulationN}, delta ${o.delta})`);
  const ed = o.edgeDelta ?? o.delta;
  const ea = o.edgeAccumulationN ?? o.accumulationN;
  if (!Number.isInteger(ed) || !Number.isInteger(ea) || !(ea > 0 && ea < ed)) bad(`the edge mask's acc_n must satisfy 0 < acc_n < delta (got ${ea}, delta ${ed})`);
  if (o.denoiseEpochs < 1) bad("denoiseEpochs must be ≥ 1");
  if (prunesGraph(o.prune) && !(o.targetGraph > 0 && o.targetGraph < 1)) bad(`targetGraph must be in (0, 1), got ${o.targetGraph}`);
  if (prunesWeights(o.prune) && !(o.targetWeight > 0 && o.targetWeight < 1)) bad(`targetWeight must be in (0, 1), got ${o.targetWeight}`);
  if (!(o.alpha >= 0 && o.alpha <= 1)) bad(`alpha must be in [0, 1], got ${o.alpha}`);
  if (!(o.beta > 0 && o.beta <= 1)) bad(`beta must be in (0, 1], got ${o.beta}`);
  if (o.beta < 1 && o.warmupSteps === 0) bad("beta < 1 needs warmupSteps > 0 (otherwise the target is never reached)");
  if (!(o.lr > 0) || !(o.weightDecay >= 0)) bad("lr must be > 0 and weightDecay ≥ 0");
  if (o.edgeLr !== null && !(o.edgeLr > 0)) bad(`edgeLr must be > 0 (or null), got ${o.edgeLr}`);
  if (o.edgeWeightDecay !== null && !(o.edgeWeightDecay >= 0)) bad(`edgeWeightDecay must be ≥ 0 (or null), got ${o.edgeWeightDecay}`);
}

/**
 * Whether the denoising epoch after scheduler step t adds its gradient of `p` to the regrowth window
 * (the official hook: within acc_n epochs of the next prune-and-regrow step, and not past T_end).
 */
function accumulates(p: Pruned, t: number, total: number): boolean {
  return t < total && p.delta - (t % p.delta) <= p.accumulationN;
}

/** Swap fraction of the denoising step at scheduler step t (cosine decay from alpha to 0 at t = D). */
export function dropFraction(alpha: number, t: number, total: number): number {
  return (alpha / 2) * (1 + Math.cos((Math.PI * t) / total));
}

/**
 * FastGLT's degree importance of every edge on the current sparse graph: (d_u·d_v)^(−3/2) with
 * d = out-degree over active edges (`compute_edge_score_from_edge_index`, GCN fill values for
 * degree 0: d^-1 = 1.21, d^-1/2 = 1.1).
 */
export function edgeDegreeScore(src: Int32Array, dst: Int32Array, active: ArrayLike<number>, numNodes: number): Float64Array {
  const deg = new Float64Array(numNodes);
  for (let e = 0; e < src.length; e++) if (active[e] !== 0) deg[src[e]] += 1;
  const inv = new Float64Array(numNodes);
  const invSqrt = new Float64Array(numNodes);
  for (let v = 0; v < numNodes; v++) {
    inv[v] = deg[v] === 0 ? 1.21 : 1 / deg[v];
    invSqrt[v] = deg[v] === 0 ? 1.1 : 1 / Math.sqrt(deg[v]);
  }
  const score = new Float64Array(src.length);
  for (let e = 0; e < src.length; e++) score[e] = invSqrt[src[e]] * inv[src[e]] * invSqrt[dst[e]] * inv[dst[e]];
  return score;
}

/** One pruned tensor of the scheduler (the edge mask, or one weight matrix). */
export interface Pruned {
  kind: "edge" | "weight";
  /** weight index (weights) */
  index: number;
  name: string;
  variable: tf.Variable;
  /** it may prune entries 0 … limit−1: all, or the graph edges when self-loops are kept (they come last) */
  limit: number;
  /** current target sparsity (ramped when beta < 1) */
  S: number;
  /** its schedule: a step every `delta` epochs, gradients averaged over `accumulationN` */
  delta: number;
  accumulationN: number;
  /** prune-and-regrow steps done on it (the ramp counts these) */
  steps: number;
  /** averaged gradient of the current accumulation window, or null */
  acc: Float32Array | null;
}

/** What one denoising step did to one tensor. */
export interface DenoiseStats {
  name: string;
  activeBefore: number;
  activeAfter: number;
  dropped: number;
  grown: number;
  /** grown entries that were pruned before the step (new connections) */
  newConnections: number;
}

function maskOf(model: PrunableModel, p: Pruned): Float32Array {
  return p.kind === "edge" ? model.edgeKeep : model.weights[p.index].mask;
}

function setMaskOf(model: PrunableModel, p: Pruned, m: Float32Array): void {
  if (p.kind === "edge") model.edgeKeep = m;
  else model.weights[p.index].mask = m;
}

function prunedTensors(model: PrunableModel, o: FastGltOptions): Pruned[] {
  const out: Pruned[] = [];
  // the official order: parameters (the edge mask) first, then the linear layers
  if (prunesGraph(o.prune)) {
    const n = o.pruneSelfLoops ? model.edgeKeep.length : model.edges.numGraphEdges;
    out.push({ kind: "edge", index: -1, name: "edgeMask", variable: model.edgeMask, limit: n, S: o.targetGraph * o.beta, delta: o.edgeDelta ?? o.delta, accumulationN: o.edgeAccumulationN ?? o.accumulationN, steps: 0, acc: null });
  }
  if (prunesWeights(o.prune)) {
    const S = weightSparsities(model.weights, o.targetWeight, o.weightAllocation);
    model.weights.forEach((w, i) => out.push({ kind: "weight", index: i, name: w.name, variable: w.value, limit: w.mask.length, S: S[i] * o.beta, delta: o.delta, accumulationN: o.accumulationN, steps: 0, acc: null }));
  }
  return out;
}

/**
 * Per-matrix target sparsities whose total is `target`:
 * - `uniform` (FastGLT): every matrix at `target`;
 * - `erk` (Erdős–Rényi-Kernel, RigL's allocation; ours): density of a rows × cols matrix ∝
 *   (rows + cols) / (rows · cols), matrices that would exceed density 1 kept dense and the rest
 *   rescaled, so small matrices (the GCN's 512 × 7 output layer) keep more of their weights.
 */
export function weightSparsities(weights: { rows: number; cols: number }[], target: number, allocation: "uniform" | "erk"): number[] {
  if (allocation === "uniform") return weights.map(() => target);
  const sizes = weights.map((w) => w.rows * w.cols);
  const keepTotal = (1 - target) * sizes.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (w.rows + w.cols) / (w.rows * w.cols));
  const dense = new Set<number>();
  for (;;) {
    let budget = keepTotal;
    let weighted = 0;
    sizes.forEach((n, i) => {
      if (dense.has(i)) budget -= n;
      else weighted += raw[i] * n;
    });
    const eps = budget / weighted;
    const over = raw.findIndex((r, i) => !dense.has(i) && eps * r > 1);
    if (over < 0) return raw.map((r, i) => (dense.has(i) ? 0 : 1 - eps * r));
    dense.add(over);
  }
}

/** Sparsity of a family over its own domain (FastGLT's getS): edges, weights (all matrices together). */
function familySparsity(model: PrunableModel, tensors: Pruned[], kind: "edge" | "weight"): number {
  let total = 0;
  let zeros = 0;
  for (const p of tensors) {
    if (p.kind !== kind) continue;
    const m = maskOf(model, p);
    for (let i = 0; i < p.limit; i++) if (m[i] === 0) zeros++;
    total += p.limit;
  }
  return total === 0 ? 0 : zeros / total;
}

/** The one-shot ticket at the start of denoising: top |value| (E > 0) or random (E = 0), per tensor. */
function oneShot(model: PrunableModel, tensors: Pruned[], o: FastGltOptions): void {
  const rng = new Rng((o.seed ^ 0x5eed) >>> 0);
  if (prunesGraph(o.prune)) {
    // add_trainable_mask_noise(c = 1e-4): m ← m + m·U(−c, c)
    const m = model.edgeMask.dataSync().slice() as Float32Array;
    for (let i = 0; i < m.length; i++) m[i] += m[i] * (2 * rng.next() - 1) * 1e-4;
    tf.tidy(() => model.edgeMask.assign(tf.tensor1d(m)));
  }
  for (const p of tensors) {
    const n = p.limit;
    const zeros = Math.floor(p.S * n);
    const mask = maskOf(model, p).slice();
    if (o.pretrainEpochs > 0) {
      const values = p.kind === "edge" && o.oneShotEdgeScore === "saliency" ? edgeSaliency(model, n) : p.variable.dataSync();
      const keep = topKWhere(values, n, mask, true, n - zeros, { abs: true });
      mask.fill(0, 0, n);
      for (let j = 0; j < keep.length; j++) mask[keep[j]] = 1;
    } else {
      mask.set(randomMask(n, zeros, rng), 0);
    }
    setMaskOf(model, p, mask);
  }
  model.syncMasks();
  model.zeroPruned();
}

/**
 * One prune-and-regrow step on each of `tensors` (exported for tests). `t` is the scheduler step;
 * a tensor's first warmupSteps steps also ramp its sparsity.
 */
export function denoiseStep(model: PrunableModel, tensors: Pruned[], o: Pick<FastGltOptions, "alpha" | "denoiseEpochs" | "beta" | "warmupSteps">, t: number): DenoiseStats[] {
  const fraction = dropFraction(o.alpha, t, o.denoiseEpochs);
  const k = o.warmupSteps > 0 ? Math.pow(o.beta, -1 / o.warmupSteps) : 1;
  const stats: DenoiseStats[] = [];
  for (const p of tensors) {
    const mask = maskOf(model, p);
    const values = p.variable.dataSync() as Float32Array; // a copy (modified below for edges)
    const nTotal = p.limit;
    let nOnes = 0;
    for (let i = 0; i < nTotal; i++) if (mask[i] !== 0) nOnes++;
    const active = new Int32Array(nOnes);
    for (let i = 0, j = 0; i < nTotal; i++) if (mask[i] !== 0) active[j++] = i;
    const nGrow = Math.floor(nOnes * fraction);
    let nPrune = nGrow;
    if (p.steps < o.warmupSteps) {
      nPrune += Math.floor((k - 1) * p.S * nTotal);
      p.S *= k;
      if (nPrune >= nTotal) throw new Error("fastglt: the ramp prunes more than the tensor holds: raise beta or warmupSteps, or lower alpha");
    }
    const nKeep = Math.max(0, nOnes - nPrune);
    const keep = topK(values, active, nKeep, { abs: true });
    const newMask = mask.slice();
    newMask.fill(0, 0, nTotal);
    for (let j = 0; j < keep.length; j++) newMask[keep[j]] = 1;
    let score: ArrayLike<number>;
    const g = p.acc;
    if (p.kind === "edge") {
      const s = edgeDegreeScore(model.edges.src, model.edges.dst, mask, model.edges.numNodes);
      if (g) for (let i = 0; i < s.length; i++) s[i] = Math.abs(s[i]) + Math.abs(g[i]);
      score = s;
    } else {
      score = g ?? new Float32Array(values.length);
    }
    const grow = topKWhere(score, nTotal, newMask, false, Math.min(nGrow, nTotal - keep.length), { abs: true, count: nTotal - keep.length });
    let growValue = 0;
    if (p.kind === "edge") {
      let sum = 0;
      let count = 0;
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] !== 0) {
          sum += values[i];
          count++;
        }
      }
      growValue = count > 0 ? Math.fround(sum / count) : 1;
    }
    let newConnections = 0;
    for (let j = 0; j < grow.length; j++) {
      const i = grow[j];
      newMask[i] = 1;
      if (mask[i] === 0) {
        values[i] = growValue;
        newConnections++;
      }
    }
    if (p.kind === "edge") {
      for (let i = 0; i < values.length; i++) if (newMask[i] === 0) values[i] = 0;
      tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape)));
    }
    // weights: pruned entries are 0 already, so W ⊙ new mask (zeroPruned, below) gives grown
    // entries 0, dropped entries 0 and every kept entry its value
    setMaskOf(model, p, newMask);
    const after = keep.length + grow.length;
    p.steps++;
    stats.push({ name: p.name, activeBefore: nOnes, activeAfter: after, dropped: nOnes - keep.length, grown: grow.length, newConnections });
  }
  model.syncMasks();
  model.zeroPruned();
  return stats;
}

/** The scheduler's pruned tensors of a model (for tests that call denoiseStep directly). */
export function fastgltTensors(model: PrunableModel, o: FastGltOptions): Pruned[] {
  return prunedTensors(model, o);
}

interface Cursor {
  /** next epoch to run (0-based over E + D + R) */
  epoch: number;
  /** scheduler step t (denoising epochs done) */
  t: number;
  /** denoising (prune-and-regrow) steps done */
  denoiseSteps: number;
  S: number[];
  /** per pruned tensor: prune-and-regrow steps done */
  steps: number[];
}

interface Best {
  record: BestRecord;
  variables: VariableValues;
  masks: MaskSet;
}

const CHECKPOINT_KIND = "fastglt";

/**
 * Runs FastGLT on `model` (freshly built with the run's seed; FastGLT's GCN uses the fixed normalisation).
 * At the end (status "done") the model holds the selected ticket: the variables and masks of the
 * best-validation epoch that meets the targets (or, if none did, of the last epoch).
 */
export async function runFastGlt(model: PrunableModel, graph: Graph, o: FastGltOptions, ctl: SearchControl = {}): Promise<SearchResult> {
  validateFastGltOptions(o);
  if (o.pruneSelfLoops && prunesGraph(o.prune) && !model.selfLoopsPrunable) throw new Error(`fastglt: a ${model.kind.toUpperCase()} never prunes its self-loops (set pruneSelfLoops: false)`);
  const progress = progressOf(ctl);
  const log = ctl.log ?? (() => {});
  const E = o.pretrainEpochs;
  const D = o.denoiseEpochs;
  const R = o.retrainEpochs;
  const total = E + D + R;

  model.maskMode = "zeroed";
  model.trainEdgeMask = prunesGraph(o.prune);
  const vars = model.trainableVariables();
  const named = model.namedVariables();
  const trainNamed = new Map([...named].filter(([, v]) => vars.includes(v)));
  // two Adam instances only so that the edge mask can have its own learning rate (Adam is per
  // entry: with equal rates this is exactly one optimizer)
  const optimizer = new FusedAdam({ learningRate: o.lr, weightDecay: o.weightDecay });
  const edgeOptimizer = new FusedAdam({ learningRate: o.edgeLr ?? o.lr, weightDecay: o.edgeWeightDecay ?? o.weightDecay });
  const weightNamed = new Map([...trainNamed].filter(([, v]) => v !== model.edgeMask));
  const edgeNamed = new Map([...trainNamed].filter(([, v]) => v === model.edgeMask));
  const step = (grads: (tf.Tensor | null)[], masks?: (Float32Array | null)[]): void => {
    const e = vars.indexOf(model.edgeMask);
    const idx = vars.map((_, i) => i).filter((i) => i !== e);
    optimizer.applyGradients(idx.map((i) => vars[i]), idx.map((i) => grads[i]), masks ? idx.map((i) => masks[i]) : undefined);
    if (e >= 0) edgeOptimizer.applyGradients([vars[e]], [grads[e]], masks ? [masks[e]] : undefined);
  };
  const tensors = prunedTensors(model, o);
  const targets = trainTargets(graph);

  let cursor: Cursor = { epoch: 0, t: 0, denoiseSteps: 0, S: tensors.map((p) => p.S), steps: tensors.map(() => 0) };
  let best: Best | null = null;
  let theta0: VariableValues = readVariables(model);
  let clockBefore = 0;

  if (ctl.resume) {
    const h = ctl.resume.header as { kind: string; options: FastGltOptions; cursor: Cursor; best: BestRecord | null; seconds: number; adamSteps: Record<string, number>; acc: string[] };
    if (h.kind !== CHECKPOINT_KIND) throw new Error(`the checkpoint is a ${h.kind} run, not a fastglt run`);
    checkSameOptions(h.options, o, "fastglt");
    checkSameOptions((ctl.resume.header.context ?? {}) as Record<string, unknown>, ctl.context ?? {}, "interrupted");
    const a = ctl.resume.arrays;
    cursor = h.cursor;
    tensors.forEach((p, i) => {
      p.S = cursor.S[i];
      p.steps = cursor.steps[i];
      const acc = a.get(`acc/${p.name}`);
      p.acc = h.acc.includes(p.name) && acc instanceof Float32Array ? acc.slice() : null;
    });
    writeVariables(model, getVariables(a, "cur/"));
    installMasks(model, getMasks(a, "mask/", model.weights.length));
    theta0 = getVariables(a, "theta0/");
    getAdam(a, "adam/", optimizer, weightNamed, h.adamSteps);
    getAdam(a, "adamEdge/", edgeOptimizer, edgeNamed, h.adamSteps);
    if (h.best) best = { record: h.best, variables: getVariables(a, "best/"), masks: getMasks(a, "bestmask/", model.weights.length) };
    clockBefore = h.seconds;
    log(`fastglt: resuming at epoch ${cursor.epoch} of ${total}`);
  }

  const clock = new RunClock(clockBefore);
  const makeCheckpoint = (): Checkpoint => {
    const arrays = new Map<string, CheckpointArray>();
    putVariables(arrays, "cur/", readVariables(model));
    putMasks(arrays, "mask/", copyMasks(model));
    putVariables(arrays, "theta0/", theta0);
    const adamSteps = { ...putAdam(arrays, "adam/", optimizer, weightNamed), ...putAdam(arrays, "adamEdge/", edgeOptimizer, edgeNamed) };
    const acc: string[] = [];
    for (const p of tensors) {
      const a = accValues(p);
      if (a) {
        arrays.set(`acc/${p.name}`, a);
        acc.push(p.name);
      }
    }
    if (best) {
      putVariables(arrays, "best/", best.variables);
      putMasks(arrays, "bestmask/", best.masks);
    }
    return {
      header: { kind: CHECKPOINT_KIND, version: 1, context: ctl.context ?? {}, options: o, cursor: { ...cursor, S: tensors.map((p) => p.S), steps: tensors.map((p) => p.steps) }, best: best?.record ?? null, seconds: clock.seconds(), adamSteps, acc },
      arrays,
    };
  };

  // the gradient window, summed on the backend (g/acc_n per backward pass, as the official hook)
  const accSum = new Map<Pruned, tf.Tensor>();
  for (const p of tensors) {
    if (p.acc) accSum.set(p, tf.keep(tf.tensor(p.acc, p.variable.shape)));
    p.acc = null;
  }
  const accValues = (p: Pruned): Float32Array | null => (accSum.has(p) ? (accSum.get(p)!.dataSync() as Float32Array) : null);
  const startEpoch = cursor.epoch;
  const masksFor = (): (Float32Array | null)[] =>
    vars.map((v) => {
      if (v === model.edgeMask) return prunesGraph(o.prune) ? model.edgeKeep : null;
      const w = model.weights.find((x) => x.value === v);
      return w && prunesWeights(o.prune) ? w.mask : null;
    });
  const edgeVarIndex = vars.indexOf(model.edgeMask);
  let counts = sparsityCounts(model);
  const graphTarget = (): number => familySparsity(model, tensors, "edge");
  const weightTarget = (): number => familySparsity(model, tensors, "weight");
  let familyG = graphTarget();
  let familyW = weightTarget();
  const refreshCounts = (): void => {
    counts = sparsityCounts(model);
    familyG = graphTarget();
    familyW = weightTarget();
  };

  try {
    for (let ep = cursor.epoch; ep < total; ep++) {
      const phase = ep < E ? "pretrain" : ep < E + D ? "denoise" : "retrain";
      if (ep === E && cursor.t === 0) {
        if (o.rewindTo === "pretrained") theta0 = readVariables(model);
        oneShot(model, tensors, o);
        refreshCounts();
        log(`fastglt: one-shot ${E > 0 ? "magnitude" : "random"} ticket at epoch ${ep}: graph sparsity ${pct(counts.graphWithSelfLoops)} of edges with self-loops, weight sparsity ${pct(counts.weight)}`);
      }
      if (ep === E + D && R > 0 && phase === "retrain" && cursor.t === D) {
        // rewind θ0 and install the best mask so far (or the current one if none met the target)
        writeVariables(model, theta0);
        if (best) installMasks(model, best.masks);
        model.zeroPruned();
        cursor.t = D + 1; // marks the rewind as done (a resumed run must not rewind again)
        refreshCounts();
        log(`fastglt: rewound to the ${o.rewindTo === "pretrained" ? "pre-trained" : "initial"} weights with the best mask (epoch ${best?.record.epoch ?? "none"}), retraining ${R} epochs`);
      }

      // the first weight's gradient at pruned entries is read only by the regrowth windows
      model.denseWeightGradients = phase === "denoise" && tensors.some((p) => p.kind === "weight" && accumulates(p, cursor.t, D));
      const { loss: ceLoss, grads } = lossAndGradients(model, targets, vars, dropoutSeed(o.seed, ep));
      let loss = ceLoss;
      let stepped: DenoiseStats[] | null = null;
      try {
        // the edge mask's gradient: + regularisers (graph runs), window average, + r1 while denoising
        if (edgeVarIndex >= 0 && prunesGraph(o.prune) && o.edgeRegularisers) {
          const m = model.edgeMask.dataSync();
          const reg = edgeMaskRegulariser(m, { diversity: o.diversityLoss });
          loss += reg.loss;
          const g = (grads[edgeVarIndex]?.dataSync().slice() as Float32Array | undefined) ?? new Float32Array(m.length);
          for (let i = 0; i < g.length; i++) g[i] += reg.grad[i];
          grads[edgeVarIndex]?.dispose();
          grads[edgeVarIndex] = tf.tensor1d(g);
        }
        if (phase === "denoise") {
          const tPrev = cursor.t;
          for (const p of tensors) {
            const accumulate = accumulates(p, tPrev, D);
            const prev = accSum.get(p);
            if (!accumulate) {
              prev?.dispose();
              accSum.delete(p);
              continue;
            }
            const gi = grads[vars.indexOf(p.variable)];
            const next = tf.tidy(() => {
              const share = gi ? tf.div(gi, p.accumulationN) : tf.zeros(p.variable.shape);
              return prev ? tf.add(prev, share) : share;
            });
            prev?.dispose();
            accSum.set(p, tf.keep(next));
          }
          if (edgeVarIndex >= 0 && prunesGraph(o.prune) && o.edgeRegularisers && grads[edgeVarIndex]) {
            const m = model.edgeMask.dataSync();
            const g = grads[edgeVarIndex]!.dataSync().slice() as Float32Array;
            for (let i = 0; i < g.length; i++) g[i] += 1e-4 * Math.sign(m[i]);
            grads[edgeVarIndex]!.dispose();
            grads[edgeVarIndex] = tf.tensor1d(g);
          }
          cursor.t = tPrev + 1;
          const due = tensors.filter((p) => cursor.t % p.delta === 0 && cursor.t <= D);
          if (due.length > 0) {
            // a prune-and-regrow step replaces this epoch's Adam step (for the whole model)
            for (const p of due) p.acc = accValues(p);
            stepped = denoiseStep(model, due, o, cursor.t);
            for (const p of due) p.acc = null;
            cursor.denoiseSteps++;
            refreshCounts();
          } else {
            step(grads, masksFor());
          }
        } else if (phase === "pretrain") {
          step(grads);
        } else {
          step(grads, masksFor());
        }
      } finally {
        tf.dispose(grads.filter((g): g is tf.Tensor => g !== null));
      }
      if (!Number.isFinite(loss)) throw new Error(`fastglt: loss became ${loss} at epoch ${ep}; lower the learning rate`);
      cursor.epoch = ep + 1;

      const ev: Evaluation = evaluate(model, graph);
      const meets =
        ep >= E &&
        (!prunesGraph(o.prune) || familyG >= o.targetGraph - 0.01 - 1e-12) &&
        (!prunesWeights(o.prune) || familyW >= o.targetWeight - 0.01 - 1e-12);
      if (meets && ev.valAccuracy > (best?.record.valAccuracy ?? 0)) {
        best = {
          record: {
            epoch: ep,
            phase,
            valAccuracy: ev.valAccuracy,
            testAccuracy: ev.testAccuracy,
            trainAccuracy: ev.trainAccuracy,
            graphSparsity: counts.graph,
            graphSparsityWithSelfLoops: counts.graphWithSelfLoops,
            weightSparsity: counts.weight,
            seconds: clock.seconds(),
          },
          variables: readVariables(model),
          masks: copyMasks(model),
        };
      }
      ctl.onEpoch?.(epochRecord(ep + 1, phase, loss, ev, counts, clock.seconds()));
      progress.update("fastglt", ep + 1 - startEpoch, total - startEpoch, {
        phase,
        epoch: `${ep + 1}/${total}`,
        loss,
        val: ev.valAccuracy,
        graph: counts.graphWithSelfLoops,
        weight: counts.weight,
        best: best?.record.valAccuracy ?? 0,
      });

      const boundary = ep + 1 === E || ep + 1 === E + D;
      const periodic = stepped ? cursor.denoiseSteps % o.checkpointEvery === 0 : phase !== "denoise" && (ep + 1) % (o.checkpointEvery * o.delta) === 0;
      if (shouldStop(ctl, ep + 1) && ep + 1 < total) {
        await saveCheckpoint(ctl, makeCheckpoint);
        progress.end();
        return { method: "fastglt", status: "interrupted", epochs: ep + 1, totalEpochs: total, best: best?.record ?? null, seconds: clock.seconds(), checkpointPath: ctl.checkpointPath ?? null };
      }
      if ((boundary || (periodic && o.checkpointEvery > 0)) && ep + 1 < total) await saveCheckpoint(ctl, makeCheckpoint);
      await yieldToEventLoop();
    }
  } finally {
    targets.dispose();
    optimizer.dispose();
    edgeOptimizer.dispose();
    for (const a of accSum.values()) a.dispose();
  }
  progress.end();

  // the selected ticket
  if (best) {
    writeVariables(model, best.variables);
    installMasks(model, best.masks);
  }
  model.maskMode = "multiply";
  model.denseWeightGradients = true;
  model.syncMasks();
  const denoiseSteps = Object.fromEntries(tensors.map((p) => [p.name, p.steps]));
  return { method: "fastglt", status: "done", epochs: total, totalEpochs: total, best: best?.record ?? null, seconds: clock.seconds(), checkpointPath: ctl.checkpointPath ?? null, denoiseSteps };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
