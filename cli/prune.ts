/**
 * `fastglt prune`: search a graph lottery ticket with FastGLT, UGS or one-shot pruning, write the
 * .glt ticket and a JSON report, check the ticket in the WASM runtime.
 *
 *   fastglt prune --method fastglt|ugs|oneshot --prune graph|weight|both
 *                 [--target-graph S] [--target-weight S] --model gcn --dataset cora --seed 0
 *                 [--out DIR] [--resume] [--json]
 *
 * Unset hyper-parameters take the per-dataset defaults of the papers' commands (FastGLT:
 * trainer/prune/fastglt.ts fastgltDefaults; UGS: trainer/prune/ugs.ts ugsDefaults). Progress goes
 * to stderr. A checkpoint (<out>/<name>.ckpt) is written after every UGS round and every few FastGLT
 * denoising steps; Ctrl-C writes one at the end of the current epoch and exits, `--resume` continues
 * from it (same command line). The report (<out>/<name>.json; stdout with --json) uses the
 * field names of `fastglt pipeline --json`, plus `method`, `prune`, `epochs` and the sparsity
 * denominators.
 */
import { existsSync, mkdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeTicket } from "../exporter/protobuf.js";
import { writeTicketFile } from "../exporter/file.js";
import { loadModel } from "../runtime-wasm/host/index.js";
import { initBackend, type BackendChoice, BACKEND_CHOICES } from "../trainer/backend.js";
import { loadDataset } from "../trainer/data/load.js";
import { numEdges } from "../trainer/data/graph.js";
import { useFastKernels } from "../trainer/kernels.js";
import { accuracy } from "../trainer/metrics.js";
import { GCN_DEFAULTS, type GcnNormalisation } from "../trainer/models/gcn.js";
import { createModel, denseTrainDefaults, MODEL_KINDS } from "../trainer/models/create.js";
import type { ModelKind } from "../trainer/models/prunable.js";
import { readCheckpoint } from "../trainer/prune/checkpoint.js";
import { fastgltDefaults, runFastGlt, type FastGltOptions } from "../trainer/prune/fastglt.js";
import { pruneOneShot } from "../trainer/prune/oneshot.js";
import { PRUNE_TARGETS, prunesGraph, prunesWeights, sparsityCounts, type PruneTarget, type SearchResult } from "../trainer/prune/search.js";
import { runUgs, ugsDefaults, ugsRoundsFor, type UgsOptions, type UgsRound } from "../trainer/prune/ugs.js";
import { buildTicket } from "../trainer/ticket-builder.js";
import { evaluate, train } from "../trainer/train.js";
import { silentProgress, terminalProgress, type Progress } from "../trainer/util/progress.js";
import { helpText, numberFlag, parseFlags, UsageError, type FlagSpec } from "./args.js";
import { compareLogitRows } from "../ticket/compare-logits.js";
import { openHistory } from "./history.js";

export type PruneMethod = "fastglt" | "ugs" | "oneshot";
const METHODS: readonly PruneMethod[] = ["fastglt", "ugs", "oneshot"];

export const PRUNE_FLAGS = {
  method: { type: "string", default: "fastglt", help: "fastglt | ugs | oneshot" },
  prune: { type: "string", help: "graph | weight | both (default: weight for fastglt, both for ugs and oneshot)" },
  "target-graph": { type: "string", help: "graph sparsity to reach (fastglt: over edges + self-loops, its denominator; ugs/oneshot: over graph edges)" },
  "target-weight": { type: "string", help: "weight sparsity to reach (fastglt: per matrix; ugs: global)" },
  model: { type: "string", default: "gcn", help: "gcn | gin | gat (GAT: --hidden is per head, 8 heads)" },
  dataset: { type: "string", default: "synthetic", help: "synthetic[:k=v,…] | cora | citeseer | pubmed | a graph folder" },
  "data-dir": { type: "string", help: "folder with the Planetoid ind.* files (else $FASTGLT_DATA, else download)" },
  seed: { type: "string", default: "0", help: "seed for initialisation, dropout, masks and ties" },
  out: { type: "string", default: "out", help: "folder for the ticket, the report and the checkpoint" },
  resume: { type: "boolean", default: false, help: "continue the interrupted run from its checkpoint in --out" },
  hidden: { type: "string", default: String(GCN_DEFAULTS.hidden), help: "hidden units" },
  lr: { type: "string", help: "Adam learning rate (default: per method and dataset)" },
  "edge-lr": { type: "string", help: "fastglt: learning rate of the edge mask (default: --lr; joint runs: the graph runs' rate)" },
  "edge-weight-decay": { type: "string", help: "fastglt: weight decay of the edge mask (default: --weight-decay, as FastGLT)" },
  "no-edge-regularisers": { type: "boolean", default: false, help: "fastglt: leave out FastGLT's edge-mask regularisers (exp diversity, log variance, r1; joint runs leave them out by default)" },
  "weight-decay": { type: "string", help: "Adam weight decay (default: per method and dataset)" },
  "output-dropout": { type: "string", help: "GCN only: dropout on the logits while training (FastGLT's GCN layer has it; default 0)" },
  normalisation: { type: "string", help: "GCN only: fixed | kept | renormalised (default: renormalised for ugs, as UGS's GCN; kept for fastglt --prune both; fixed otherwise; kept = renormalised on the kept binary graph)" },
  "dense-epochs": { type: "string", default: "0", help: "also train a dense baseline for this many epochs (reported as `dense`)" },
  // FastGLT
  "pretrain-epochs": { type: "string", help: "fastglt: E, dense pre-training epochs (0 = random one-shot mask)" },
  "denoise-epochs": { type: "string", help: "fastglt: D, denoising epochs" },
  "retrain-epochs": { type: "string", help: "fastglt: R, retraining epochs after the rewind" },
  delta: { type: "string", help: "fastglt: a prune-and-regrow step every delta epochs" },
  "acc-n": { type: "string", help: "fastglt: gradients averaged over this many epochs (< delta)" },
  "edge-delta": { type: "string", help: "fastglt: the edge mask's delta (default: --delta; joint runs: the graph runs')" },
  "edge-acc-n": { type: "string", help: "fastglt: the edge mask's acc_n (default: --acc-n; joint runs: the graph runs')" },
  alpha: { type: "string", help: "fastglt: initial swap fraction (default 0.3)" },
  beta: { type: "string", help: "fastglt: initial fraction of the target sparsity (default 1: no ramp)" },
  "warmup-steps": { type: "string", help: "fastglt: ramp steps (default 0)" },
  rewind: { type: "string", help: "fastglt: what retraining rewinds to: init (FastGLT) or pretrained (the weights after --pretrain-epochs; ours)" },
  "weight-allocation": { type: "string", help: "fastglt: spread --target-weight over the matrices uniformly (FastGLT) or by erk (RigL's Erdős–Rényi-Kernel; small matrices keep more)" },
  "oneshot-edge-score": { type: "string", help: "fastglt with pre-training: rank edges for the one-shot mask by magnitude (FastGLT) or saliency (|m·∂L/∂m|, ours)" },
  "keep-self-loops": { type: "boolean", default: false, help: "fastglt: never prune self-loops (FastGLT's GCN prunes them in graph runs; joint runs, GIN and GAT never do)" },
  "checkpoint-every": { type: "string", help: "fastglt: checkpoint every this many denoising steps (default 25; Ctrl-C always writes one)" },
  // UGS
  rounds: { type: "string", help: "ugs: rounds (default: until the targets are reached, else 20)" },
  "mask-epochs": { type: "string", help: "ugs: epochs training the soft masks per round (default 200)" },
  "fix-epochs": { type: "string", help: "ugs: retraining epochs with fixed masks per round (default 200)" },
  s1: { type: "string", help: "ugs: L1 scale on the edge mask" },
  s2: { type: "string", help: "ugs: L1 scale on the weight masks" },
  "rate-graph": { type: "string", help: "ugs: fraction of remaining edges pruned per round (default 0.05)" },
  "rate-weight": { type: "string", help: "ugs: fraction of remaining weights pruned per round (default 0.2)" },
  // one-shot
  epochs: { type: "string", help: "oneshot: dense training epochs (default 200)" },
  "finetune-epochs": { type: "string", help: "oneshot: fine-tuning epochs (default 200)" },
  "stop-after-epochs": { type: "string", help: "stop after this many epochs of this session, with a checkpoint, as Ctrl-C does" },
  backend: { type: "string", default: "auto", help: "auto | wasm | cpu | tensorflow" },
  "no-normalise": { type: "boolean", default: false, help: "keep raw feature values (default: rows sum to 1)" },
  history: { type: "string", help: "write the learning curve to this CSV file, a row per epoch (phase, loss, train/val/test accuracy, sparsities, seconds)" },
  json: { type: "boolean", default: false, help: "print the report as one JSON object on stdout" },
  quiet: { type: "boolean", default: false, help: "no progress output" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

type Values = Record<keyof typeof PRUNE_FLAGS, string | boolean | undefined>;

const FASTGLT_ONLY = ["rewind", "weight-allocation", "oneshot-edge-score", "edge-lr", "edge-weight-decay", "no-edge-regularisers", "edge-delta", "edge-acc-n", "pretrain-epochs", "denoise-epochs", "retrain-epochs", "delta", "acc-n", "alpha", "beta", "warmup-steps", "checkpoint-every"] as const;
const UGS_ONLY = ["rounds", "mask-epochs", "fix-epochs", "s1", "s2", "rate-graph", "rate-weight"] as const;
const ONESHOT_ONLY = ["epochs", "finetune-epochs"] as const;

export interface PruneCommandOptions {
  method: PruneMethod;
  model: ModelKind;
  prune: PruneTarget;
  dataset: string;
  dataDir?: string;
  seed: number;
  outDir: string;
  resume: boolean;
  hidden: number;
  normalisation: GcnNormalisation;
  outputDropout: number;
  denseEpochs: number;
  backend: BackendChoice;
  normalise: boolean;
  /** CSV learning curve (--history), or null */
  history: string | null;
  /** per-method options, resolved once the dataset is known */
  flags: Values;
  stopAfterEpochs?: number;
  signal?: AbortSignal;
  progress: Progress;
  log: (msg: string) => void;
}

export interface PruneReport {
  status: "done" | "interrupted";
  method: PruneMethod;
  prune: PruneTarget;
  dataset: string;
  model: string;
  seed: number;
  backend: string;
  graph: { nodes: number; edges: number; features: number; classes: number };
  options: Record<string, unknown>;
  dense: { valAccuracy: number; testAccuracy: number; bestEpoch: number; seconds: number } | null;
  ticket: {
    valAccuracy: number;
    testAccuracy: number;
    /** 1 − edgesKept / edgesTotal: directed graph edges, self-loops excluded */
    graphSparsity: number;
    /** 1 − edgesKeptWithSelfLoops / edgesTotalWithSelfLoops: graph edges + one self-loop per node (FastGLT's GCN denominator) */
    graphSparsityWithSelfLoops: number;
    /** 1 − weightsKept / weightsTotal: all entries of the weight matrices, biases excluded */
    weightSparsity: number;
    edgesKept: number;
    edgesTotal: number;
    edgesKeptWithSelfLoops: number;
    edgesTotalWithSelfLoops: number;
    weightsKept: number;
    weightsTotal: number;
    macsDense: number;
    macsTicket: number;
    /** the selected epoch (test accuracy at the best validation epoch) */
    bestEpoch: number;
    phase: string;
    meetsTarget: boolean;
    file: string;
    bytes: number;
  } | null;
  denominators: { graphSparsity: string; graphSparsityWithSelfLoops: string; weightSparsity: string };
  runtime: { testAccuracy: number; samePredictions: boolean; maxRelativeLogitError: number } | null;
  rounds?: UgsRound[];
  /** fastglt: prune-and-regrow steps per pruned tensor */
  denoiseSteps?: Record<string, number>;
  /** epochs run (all sessions) and planned */
  epochs: number;
  totalEpochs: number;
  /** training wall-clock to the selected epoch, and of the whole search (all sessions) */
  secondsToBest: number | null;
  trainingSeconds: number;
  wallClockSeconds: number;
  checkpoint: string | null;
  report: string | null;
  /** the --history CSV, or null */
  history: string | null;
}

function num(v: Values, name: keyof Values, check: Parameters<typeof numberFlag>[2] = {}): number | undefined {
  return v[name] === undefined ? undefined : numberFlag(v[name], name, check);
}

function oneOf<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}, got "${value}"`);
  return value as T;
}

export function resolveFastGlt(v: Values, datasetName: string, prune: PruneTarget, seed: number, model: ModelKind = "gcn"): FastGltOptions {
  const o = fastgltDefaults(datasetName, prune, model);
  o.seed = seed;
  const int = { integer: true, min: 0 };
  o.targetGraph = num(v, "target-graph", { min: 0, max: 1, maxExclusive: true }) ?? o.targetGraph;
  o.targetWeight = num(v, "target-weight", { min: 0, max: 1, maxExclusive: true }) ?? o.targetWeight;
  o.lr = num(v, "lr", { min: 0 }) ?? o.lr;
  o.edgeLr = num(v, "edge-lr", { min: 0 }) ?? o.edgeLr;
  o.edgeWeightDecay = num(v, "edge-weight-decay", { min: 0 }) ?? o.edgeWeightDecay;
  o.edgeRegularisers = o.edgeRegularisers && v["no-edge-regularisers"] !== true;
  o.weightDecay = num(v, "weight-decay", { min: 0 }) ?? o.weightDecay;
  o.pretrainEpochs = num(v, "pretrain-epochs", int) ?? o.pretrainEpochs;
  o.denoiseEpochs = num(v, "denoise-epochs", { integer: true, min: 1 }) ?? o.denoiseEpochs;
  o.retrainEpochs = num(v, "retrain-epochs", int) ?? o.retrainEpochs;
  o.delta = num(v, "delta", { integer: true, min: 2 }) ?? o.delta;
  o.accumulationN = num(v, "acc-n", { integer: true, min: 1 }) ?? o.accumulationN;
  o.edgeDelta = num(v, "edge-delta", { integer: true, min: 2 }) ?? o.edgeDelta;
  o.edgeAccumulationN = num(v, "edge-acc-n", { integer: true, min: 1 }) ?? o.edgeAccumulationN;
  o.alpha = num(v, "alpha", { min: 0, max: 1 }) ?? o.alpha;
  o.beta = num(v, "beta", { min: 0, max: 1 }) ?? o.beta;
  o.warmupSteps = num(v, "warmup-steps", int) ?? o.warmupSteps;
  o.checkpointEvery = num(v, "checkpoint-every", { integer: true, min: 1 }) ?? o.checkpointEvery;
  o.pruneSelfLoops = o.pruneSelfLoops && v["keep-self-loops"] !== true;
  if (v.rewind !== undefined) o.rewindTo = oneOf(String(v.rewind), "rewind", ["init", "pretrained"] as const);
  if (v["weight-allocation"] !== undefined) o.weightAllocation = oneOf(String(v["weight-allocation"]), "weight-allocation", ["uniform", "erk"] as const);
  if (v["oneshot-edge-score"] !== undefined) o.oneShotEdgeScore = oneOf(String(v["oneshot-edge-score"]), "oneshot-edge-score", ["magnitude", "saliency"] as const);
  if (o.accumulationN >= o.delta) throw new UsageError(`--acc-n must be < --delta (${o.delta}), got ${o.accumulationN}`);
  if ((o.edgeAccumulationN ?? o.accumulationN) >= (o.edgeDelta ?? o.delta)) throw new UsageError(`the edge mask's acc_n (${o.edgeAccumulationN ?? o.accumulationN}) must be < its delta (${o.edgeDelta ?? o.delta}): set --edge-acc-n / --edge-delta`);
  if (o.beta < 1 && o.warmupSteps === 0) throw new UsageError("--beta < 1 needs --warmup-steps > 0");
  if (prunesGraph(prune) && o.targetGraph <= 0) throw new UsageError("--target-graph must be > 0 when pruning the graph");
  if (prunesWeights(prune) && o.targetWeight <= 0) throw new UsageError("--target-weight must be > 0 when pruning weights");
  return o;
}

export function resolveUgs(v: Values, datasetName: string, prune: PruneTarget, seed: number, edges: number, weights: number, model: ModelKind = "gcn"): UgsOptions {
  const o = ugsDefaults(datasetName, model);
  o.prune = prune;
  o.seed = seed;
  o.lr = num(v, "lr", { min: 0 }) ?? o.lr;
  o.weightDecay = num(v, "weight-decay", { min: 0 }) ?? o.weightDecay;
  o.s1 = num(v, "s1", { min: 0 }) ?? o.s1;
  o.s2 = num(v, "s2", { min: 0 }) ?? o.s2;
  o.maskEpochs = num(v, "mask-epochs", { integer: true, min: 1 }) ?? o.maskEpochs;
  o.fixEpochs = num(v, "fix-epochs", { integer: true, min: 1 }) ?? o.fixEpochs;
  o.pruneRateGraph = num(v, "rate-graph", { min: 0, max: 1, maxExclusive: true }) ?? o.pruneRateGraph;
  o.pruneRateWeight = num(v, "rate-weight", { min: 0, max: 1, maxExclusive: true }) ?? o.pruneRateWeight;
  const tg = num(v, "target-graph", { min: 0, max: 1, maxExclusive: true });
  const tw = num(v, "target-weight", { min: 0, max: 1, maxExclusive: true });
  o.targetGraph = prunesGraph(prune) ? (tg ?? null) : null;
  o.targetWeight = prunesWeights(prune) ? (tw ?? null) : null;
  const rounds = num(v, "rounds", { integer: true, min: 1 });
  o.rounds = rounds ?? (o.targetGraph !== null || o.targetWeight !== null ? ugsRoundsFor(o, edges, weights) : 20);
  return o;
}

/** Trains, prunes and exports; returns the report (also written next to the ticket). */
export async function runPrune(o: PruneCommandOptions): Promise<PruneReport> {
  const start = performance.now();
  const v = o.flags;
  const others = o.method === "fastglt" ? [...UGS_ONLY, ...ONESHOT_ONLY] : o.method === "ugs" ? [...FASTGLT_ONLY, ...ONESHOT_ONLY, "keep-self-loops"] : [...FASTGLT_ONLY, ...UGS_ONLY, "keep-self-loops", "history"];
  for (const k of others) {
    if (v[k as keyof Values] !== undefined && v[k as keyof Values] !== false) throw new UsageError(`--${k} does not apply to --method ${o.method}`);
  }
  // flag errors first, before anything is loaded (the dataset's name only picks defaults)
  const provisional = o.dataset.toLowerCase();
  if (o.method === "fastglt") resolveFastGlt(v, provisional, o.prune, o.seed, o.model);
  else if (o.method === "ugs") resolveUgs(v, provisional, o.prune, o.seed, 1000, 1000, o.model);
  const backend = await initBackend(o.backend, o.log);
  await useFastKernels(backend);
  const graph = await loadDataset(o.dataset, { dataDir: o.dataDir, normalise: o.normalise, seed: o.seed, log: o.log });
  const name = `${graph.name}-${o.model}-${o.method}-${o.prune}-seed${o.seed}`;
  mkdirSync(o.outDir, { recursive: true });
  const base = resolve(join(o.outDir, name));
  const ckptPath = `${base}.ckpt`;
  const modelSpec = { kind: o.model, hidden: o.hidden, seed: o.seed, normalisation: o.model === "gcn" ? o.normalisation : undefined, outputDropout: o.model === "gcn" ? o.outputDropout : undefined };
  const trainDefaults = denseTrainDefaults(o.model);

  let dense: PruneReport["dense"] = null;
  if (o.denseEpochs > 0) {
    const d = createModel(graph, { ...modelSpec, normalisation: o.model === "gcn" ? "fixed" : undefined });
    try {
      const r = train(d, graph, { epochs: o.denseEpochs, lr: num(v, "lr", { min: 0 }) ?? trainDefaults.lr, weightDecay: num(v, "weight-decay", { min: 0 }) ?? trainDefaults.weightDecay, seed: o.seed, phase: "dense", progress: o.progress });
      dense = { valAccuracy: r.best.valAccuracy, testAccuracy: r.best.testAccuracy, bestEpoch: r.bestEpoch, seconds: r.seconds };
      o.log(`dense: test accuracy ${pct(r.best.testAccuracy)} (val ${pct(r.best.valAccuracy)} at epoch ${r.bestEpoch})`);
    } finally {
      d.dispose();
    }
  }

  const model = createModel(graph, modelSpec);
  try {
    const context = { dataset: graph.name, nodes: graph.numNodes, edges: numEdges(graph), model: o.model, hidden: o.hidden, normalisation: o.normalisation, outputDropout: o.outputDropout, normaliseFeatures: o.normalise };
    let resume;
    if (o.resume) {
      if (o.method === "oneshot") throw new UsageError("--resume: one-shot runs have no checkpoints (they are short); run again without --resume");
      if (!existsSync(ckptPath)) throw new UsageError(`--resume: no checkpoint at ${ckptPath}`);
      resume = await readCheckpoint(ckptPath);
      o.log(`resuming from ${ckptPath}`);
    }
    const resumedAt = resume ? Number((resume.header.cursor as { epoch?: number; epochsDone?: number }).epochsDone ?? (resume.header.cursor as { epoch?: number }).epoch ?? 0) : null;
    const onEpoch = o.history ? openHistory(o.history, resumedAt) : undefined;
    const control = { progress: o.progress, log: o.log, signal: o.signal, stopAtEpoch: undefined as number | undefined, checkpointPath: ckptPath, resume, context, onEpoch };
    let result: SearchResult & { rounds?: UgsRound[] };
    let options: Record<string, unknown>;
    let meetsTarget = true;
    let bestEpoch = -1;
    let phase = "";
    if (o.method === "fastglt") {
      const fo = resolveFastGlt(v, graph.name, o.prune, o.seed, o.model);
      options = { ...fo, ...(o.model === "gcn" ? { normalisation: o.normalisation, outputDropout: o.outputDropout } : {}) };
      if (o.stopAfterEpochs !== undefined) control.stopAtEpoch = (resume ? ((resume.header.cursor as { epoch: number }).epoch ?? 0) : 0) + o.stopAfterEpochs;
      result = await runFastGlt(model, graph, fo, control);
    } else if (o.method === "ugs") {
      const s = sparsityCounts(model);
      const uo = resolveUgs(v, graph.name, o.prune, o.seed, s.edgesTotal, s.weightsTotal, o.model);
      options = { ...uo };
      if (o.stopAfterEpochs !== undefined) control.stopAtEpoch = (resume ? ((resume.header.cursor as { epochsDone: number }).epochsDone ?? 0) : 0) + o.stopAfterEpochs;
      result = await runUgs(model, graph, uo, control);
    } else {
      const tg = prunesGraph(o.prune) ? (num(v, "target-graph", { min: 0, max: 1, maxExclusive: true }) ?? 0.2) : 0;
      const tw = prunesWeights(o.prune) ? (num(v, "target-weight", { min: 0, max: 1, maxExclusive: true }) ?? 0.8) : 0;
      const oo = { targetGraph: tg, targetWeight: tw, epochs: num(v, "epochs", { integer: true, min: 1 }) ?? 200, finetuneEpochs: num(v, "finetune-epochs", { integer: true, min: 1 }) ?? 200, lr: num(v, "lr", { min: 0 }) ?? trainDefaults.lr, weightDecay: num(v, "weight-decay", { min: 0 }) ?? trainDefaults.weightDecay, seed: o.seed };
      options = oo;
      model.trainEdgeMask = tg > 0;
      const t = { lr: oo.lr, weightDecay: oo.weightDecay, seed: o.seed, progress: o.progress };
      const d = train(model, graph, { ...t, epochs: oo.epochs, phase: "dense" });
      if (!dense) dense = { valAccuracy: d.best.valAccuracy, testAccuracy: d.best.testAccuracy, bestEpoch: d.bestEpoch, seconds: d.seconds };
      pruneOneShot(model, { weight: tw, graph: tg }, o.seed);
      const f = train(model, graph, { ...t, epochs: oo.finetuneEpochs, phase: "fine-tune" });
      const s = sparsityCounts(model);
      bestEpoch = oo.epochs + f.bestEpoch;
      phase = "fine-tune";
      result = {
        method: "fastglt",
        status: "done",
        epochs: oo.epochs + oo.finetuneEpochs,
        totalEpochs: oo.epochs + oo.finetuneEpochs,
        best: { epoch: bestEpoch, phase, valAccuracy: f.best.valAccuracy, testAccuracy: f.best.testAccuracy, trainAccuracy: f.best.trainAccuracy, graphSparsity: s.graph, graphSparsityWithSelfLoops: s.graphWithSelfLoops, weightSparsity: s.weight, seconds: d.seconds + f.seconds },
        seconds: d.seconds + f.seconds,
        checkpointPath: null,
      };
    }

    const s0 = sparsityCounts(model);
    const baseReport = {
      method: o.method,
      prune: o.prune,
      dataset: graph.name,
      model: o.model,
      seed: o.seed,
      backend,
      graph: { nodes: graph.numNodes, edges: numEdges(graph), features: graph.numFeatures, classes: graph.numClasses },
      options,
      dense,
      denominators: {
        graphSparsity: `directed graph edges without self-loops (${s0.edgesTotal})`,
        graphSparsityWithSelfLoops: `directed graph edges + one self-loop per node (${s0.edgesTotalWithSelfLoops})`,
        weightSparsity: `entries of the weight matrices, biases excluded (${s0.weightsTotal})`,
      },
      ...(result.rounds ? { rounds: result.rounds } : {}),
      ...(result.denoiseSteps ? { denoiseSteps: result.denoiseSteps } : {}),
      epochs: result.epochs,
      totalEpochs: result.totalEpochs,
      secondsToBest: result.best?.seconds ?? null,
      trainingSeconds: result.seconds,
    };
    if (result.status === "interrupted") {
      o.log(`interrupted after epoch ${result.epochs} of ${result.totalEpochs}; checkpoint: ${ckptPath} (continue with the same command and --resume)`);
      return { status: "interrupted", ...baseReport, ticket: null, runtime: null, wallClockSeconds: (performance.now() - start) / 1000, checkpoint: ckptPath, report: null, history: o.history };
    }

    if (result.best) {
      bestEpoch = result.best.epoch;
      phase = result.best.phase;
    } else {
      meetsTarget = false;
      o.log("no epoch met the target sparsity: the ticket is the last epoch's model");
    }
    const ev = evaluate(model, graph);
    const s = sparsityCounts(model);
    const ticket = buildTicket(model, graph, {
      dataset: graph.name,
      method: o.method,
      seed: o.seed,
      valAccuracy: ev.valAccuracy,
      testAccuracy: ev.testAccuracy,
      denseTestAccuracy: dense?.testAccuracy ?? NaN,
      trainingSeconds: result.seconds,
    });
    const file = `${base}.glt`;
    const bytes = encodeTicket(ticket);
    await writeTicketFile(file, ticket);
    const runtimeModel = await loadModel(bytes);
    const logits = runtimeModel.run();
    const cmp = compareLogitRows(ev.logits, logits, graph.numClasses);
    const runtime = { testAccuracy: accuracy(logits, graph.numClasses, graph.labels, graph.testIdx), samePredictions: cmp.samePredictions, maxRelativeLogitError: cmp.maxRelativeError };
    o.log(`ticket: test accuracy ${pct(ev.testAccuracy)} (val ${pct(ev.valAccuracy)}, epoch ${bestEpoch}, ${phase}), graph sparsity ${pct(s.graph)} (${s.edgesKept}/${s.edgesTotal} graph edges; ${pct(s.graphWithSelfLoops)} of ${s.edgesTotalWithSelfLoops} with self-loops), weight sparsity ${pct(s.weight)} (${s.weightsKept}/${s.weightsTotal})`);
    const reportFile = `${base}.json`;
    const report: PruneReport = {
      status: "done",
      ...baseReport,
      ticket: {
        valAccuracy: ev.valAccuracy,
        testAccuracy: ev.testAccuracy,
        graphSparsity: s.graph,
        graphSparsityWithSelfLoops: s.graphWithSelfLoops,
        weightSparsity: s.weight,
        edgesKept: s.edgesKept,
        edgesTotal: s.edgesTotal,
        edgesKeptWithSelfLoops: s.edgesKeptWithSelfLoops,
        edgesTotalWithSelfLoops: s.edgesTotalWithSelfLoops,
        weightsKept: s.weightsKept,
        weightsTotal: s.weightsTotal,
        macsDense: ticket.meta.macsDense,
        macsTicket: ticket.meta.macsTicket,
        bestEpoch,
        phase,
        meetsTarget,
        file,
        bytes: bytes.length,
      },
      runtime,
      wallClockSeconds: (performance.now() - start) / 1000,
      checkpoint: null,
      report: reportFile,
      history: o.history,
    };
    const tmp = `${reportFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(tmp, reportFile);
    if (existsSync(ckptPath)) unlinkSync(ckptPath); // finished: nothing left to resume
    return report;
  } finally {
    model.dispose();
  }
}

/** Parses `fastglt prune` arguments (without the command name) into runPrune options; null for --help. */
export function parsePruneArgs(argv: string[], io: { signal?: AbortSignal; progress?: Progress; log?: (msg: string) => void } = {}): (PruneCommandOptions & { json: boolean; quiet: boolean }) | null {
  const { values, positionals } = parseFlags(argv, PRUNE_FLAGS);
  if (values.help) return null;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const method = oneOf(String(values.method), "method", METHODS);
  const model = oneOf(String(values.model), "model", MODEL_KINDS);
  const prune = oneOf(values.prune === undefined ? (method === "fastglt" ? "weight" : "both") : String(values.prune), "prune", PRUNE_TARGETS);
  if (model !== "gcn" && values.normalisation !== undefined) throw new UsageError(`--normalisation is for the GCN (the ${model.toUpperCase()} has no degree normalisation)`);
  const defaultNormalisation = model !== "gcn" ? "fixed" : method === "ugs" ? "renormalised" : method === "fastglt" && prune === "both" ? "kept" : "fixed";
  const normalisation = oneOf(values.normalisation === undefined ? defaultNormalisation : String(values.normalisation), "normalisation", ["fixed", "kept", "renormalised"] as const);
  if (method === "fastglt" && normalisation === "renormalised") throw new UsageError("--normalisation renormalised is for ugs (FastGLT's GCN keeps the unpruned graph's normalisation; --normalisation kept renormalises on the kept graph)");
  const quiet = values.quiet === true;
  return {
    method,
    model,
    prune,
    dataset: String(values.dataset),
    dataDir: values["data-dir"] as string | undefined,
    seed: numberFlag(values.seed, "seed", { integer: true, min: 0 }),
    outDir: String(values.out),
    resume: values.resume === true,
    hidden: numberFlag(values.hidden, "hidden", { integer: true, min: 1 }),
    normalisation,
    outputDropout: values["output-dropout"] === undefined ? 0 : numberFlag(values["output-dropout"], "output-dropout", { min: 0, max: 0.99 }),
    denseEpochs: numberFlag(values["dense-epochs"], "dense-epochs", { integer: true, min: 0 }),
    backend: oneOf(String(values.backend), "backend", BACKEND_CHOICES),
    normalise: values["no-normalise"] !== true,
    history: values.history === undefined ? null : resolve(String(values.history)),
    flags: values as Values,
    stopAfterEpochs: values["stop-after-epochs"] === undefined ? undefined : numberFlag(values["stop-after-epochs"], "stop-after-epochs", { integer: true, min: 1 }),
    signal: io.signal,
    progress: io.progress ?? (quiet ? silentProgress : terminalProgress()),
    log: io.log ?? (quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`)),
    json: values.json === true,
    quiet,
  };
}

export async function pruneCommand(argv: string[]): Promise<void> {
  const controller = new AbortController();
  const opts = parsePruneArgs(argv, { signal: controller.signal });
  if (!opts) {
    console.log(helpText("prune", "Find a graph lottery ticket with FastGLT, UGS or one-shot pruning; write the .glt ticket and a JSON report.", PRUNE_FLAGS));
    return;
  }
  let sigints = 0;
  const onSigint = (): void => {
    sigints++;
    if (sigints > 1) process.exit(130);
    process.stderr.write("\ninterrupt: saving a checkpoint at the end of this epoch (Ctrl-C again to quit at once)\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  let report: PruneReport;
  try {
    report = await runPrune(opts);
  } finally {
    process.off("SIGINT", onSigint);
  }
  if (report.status === "interrupted" && controller.signal.aborted) {
    if (opts.json) console.log(JSON.stringify(report));
    throw new Error(`interrupted after epoch ${report.epochs} of ${report.totalEpochs}; checkpoint saved to ${report.checkpoint}: continue with the same command and --resume`);
  }
  if (opts.json) console.log(JSON.stringify(report));
  else printReport(report);
}

function printReport(r: PruneReport): void {
  if (!r.ticket) {
    console.log(`${r.method}: stopped after epoch ${r.epochs} of ${r.totalEpochs}; checkpoint ${r.checkpoint} (continue with --resume)`);
    return;
  }
  const t = r.ticket;
  const rows: [string, string][] = [
    ["method", `${r.method} (${r.prune}), ${r.epochs} epochs`],
    ["dataset", `${r.dataset} (${r.graph.nodes} nodes, ${r.graph.edges} edges, ${r.graph.features} features, ${r.graph.classes} classes)`],
    ["backend", r.backend],
    ...(r.dense ? ([["dense test accuracy", pct(r.dense.testAccuracy)]] as [string, string][]) : []),
    ["ticket test accuracy", `${pct(t.testAccuracy)} at best val ${pct(t.valAccuracy)} (epoch ${t.bestEpoch}, ${t.phase}${t.meetsTarget ? "" : ", target NOT met"}); runtime ${r.runtime ? pct(r.runtime.testAccuracy) : "-"}`],
    ["graph sparsity", `${pct(t.graphSparsity)} of ${t.edgesTotal} graph edges (${t.edgesKept} kept); ${pct(t.graphSparsityWithSelfLoops)} of ${t.edgesTotalWithSelfLoops} with self-loops`],
    ["weight sparsity", `${pct(t.weightSparsity)} (${t.weightsKept} of ${t.weightsTotal} weights kept)`],
    ["MACs dense / ticket", `${(t.macsDense / 1e6).toFixed(1)} M / ${(t.macsTicket / 1e6).toFixed(1)} M (${(t.macsDense / t.macsTicket).toFixed(1)}× fewer)`],
    ["ticket file", `${t.file} (${(t.bytes / 1024).toFixed(1)} KiB)`],
    ["report", r.report ?? "-"],
    ...(r.history ? ([["learning curve", r.history]] as [string, string][]) : []),
    ["time", `${r.trainingSeconds.toFixed(1)} s training${r.secondsToBest !== null ? ` (${r.secondsToBest.toFixed(1)} s to the selected epoch)` : ""}, ${r.wallClockSeconds.toFixed(1)} s wall clock`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}
