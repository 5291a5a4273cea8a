// Ticket search: FastGLT against UGS, same seeds, same winning rule, same denominators, one process.
//
//   npx tsx bench/ticket-search.ts [--datasets cora,citeseer] [--models gcn,gin,gat] [--methods fastglt,ugs]
//       [--families weight,graph,both] [--seeds 0,1,2] [--weight-targets LIST] [--graph-targets LIST]
//       [--joint-targets LIST] [--ugs-rounds "20;gat=3"] [--dense-epochs 200] [--hidden N] [--backend auto]
//       [--data-dir DIR] [--out bench/results] [--work out/bench-ticket-search]
//       [--fastglt-args="…"] [--variant NAME] [--ugs-args="…"] [--quick] [--resume-bench] [--only-write-report] [--merge A.json,… [--merge-prefer other]] [--dry-run]
//
// --fastglt-args / --ugs-args: more `fastglt prune` flags for every run of that method; write them
// with "=" (--ugs-args="--mask-epochs 100 --fix-epochs 100"), as their value starts with "--".
// --variant NAME: this invocation's FastGLT runs are the variant NAME of the paper's settings, its
// extra flags being --fastglt-args (required with it). Each run record keeps `variant` (null = the
// paper's settings, "faithful"; also for records from before variants) and `extraArgs`; the tables
// and plots label its configurations "[NAME]" (and the others "[faithful]"), list each variant's
// flags under "Variants", and take FastGLT's extreme sparsity per (family, variant). Variants go into
// the same results file with --resume-bench, e.g. the graph ticket with our options beside the
// faithful one already there:
//   npx tsx bench/ticket-search.ts --resume-bench --variant ours --fastglt-args="--keep-self-loops --normalisation kept" \
//       --families graph --methods fastglt --models gcn [the previous --datasets/--seeds/--graph-targets …]
// (--models gcn: the GIN and GAT refuse --normalisation; the dense runs of the same seeds are kept). A name goes with one set of flags: a
// resumed file whose runs of that variant have other flags is refused. --fastglt-args without
// --variant still works (a warning: those runs count as the paper's settings).
// Design
// - Every FastGLT and UGS run is `fastglt prune` itself: the bench builds its argv, calls
//   parsePruneArgs + runPrune (cli/prune.ts) in this process, and records the report's essentials;
//   the equivalent command line is printed and kept in the results. A model or flag the CLI rejects
//   (e.g. --model gat before the GAT lands) is recorded as an error for that cell and the bench goes on.
// - Dense baselines first: per (dataset, model, seed), createModel + train for --dense-epochs with
//   denseTrainDefaults (as `fastglt prune --dense-epochs` does); their mean over the seeds is the bar.
// - FastGLT, per (dataset, model) and family: the paper's README target (bench/lib/ticket-search-report.ts
//   FASTGLT_README) plus a ladder of targets; joint (graph + weight, ours) pairs for the GCN. Every
//   other hyper-parameter takes the CLI's per-dataset defaults (trainer/prune/fastglt.ts
//   fastgltDefaults). Target lists: "0.9,0.95" for every model or "gcn=0.9,0.93;gin=default;gat=none"
//   ("default": only the README target, "none": no runs of that family); joint lists are graph:weight
//   pairs ("gcn=0.35:0.9,0.35:0.93").
// - UGS, per (dataset, model): `--method ugs --prune both --rounds K` (K = --ugs-rounds, "20" for every
//   model or "gcn=14;gin=20;gat=3", 0 = none; 20 rounds of the Cora GCN are ~8 min per seed here, of
//   the GAT (8 heads × 512, ~1.3–2.6 s per epoch) hours: 3 by default); the per-round records are the
//   sparsity path. The GAT's FastGLT runs (~15–25 min each) default to the README targets only.
// - Rules (bench/lib/ticket-search-analysis.ts): a configuration / UGS round wins when its mean test
//   accuracy at the best validation epoch over the seeds is ≥ the dense mean over the same seeds;
//   FastGLT's extreme sparsity = its highest winning target per (family, variant), UGS's = its last
//   winning round.
//   Speed-up = the same seed's UGS cumulative seconds at the first round reaching the FastGLT ticket's
//   graph and weight sparsity ÷ the FastGLT run's training seconds (and ÷ its seconds to the selected
//   epoch); "> X s" when UGS never got there. Target: ≥ 5× for every winning FastGLT run.
// - Order: dense runs, then per (dataset, model) the README-target FastGLT cells, the UGS runs, the rest
//   of the ladder; seeds innermost, so a cell's seeds finish together.
// - Outputs (PREFIX = <out>/ticket-search, or <out>/ticket-search-quick with --quick, so a smoke run
//   never overwrites the real results): PREFIX.json (every run: argv, command, sparsities with their
//   denominators, accuracies, seconds, epochs, load average before/after; dense runs; machine;
//   sessions), PREFIX.md (tables beside the papers' numbers, commands, machine, rule, load),
//   PREFIX-<dataset>-<model>.svg (accuracy − dense mean vs weight and vs graph sparsity: FastGLT
//   configurations, UGS round path). All three are rewritten atomically after every finished run, so a
//   killed bench loses at most the run in progress; --resume-bench keeps the runs already in PREFIX.json
//   (same argv) and continues an interrupted run from its checkpoint in --work. Without it a bench
//   starts afresh (the previous JSON is moved to --work). Ctrl-C: the current run checkpoints and the
//   results so far are written. --only-write-report re-renders PREFIX.md and the plots from PREFIX.json.
// - --merge A.json,B.json: benches run side by side (one per core, each with its own --out and --work)
//   go into PREFIX.json: records by key, a finished one replacing an unfinished one (and, with
//   --merge-prefer other, a finished one too: a rerun), sessions in start order; then the report is
//   rewritten (bench/lib/ticket-search-merge.ts).
// - --quick: smoke run in a few minutes: Cora, GCN + GIN, seed 0, hidden 16, dense 20 epochs, FastGLT
//   E 3 / D 12 / R 6 (delta 3, acc_n 2) at the README target and one ladder step per family, UGS 2
//   rounds of 5 + 5 epochs. The numbers mean nothing.
// --dry-run prints the runs still to do and their estimated times, and trains nothing.
// Progress on stderr: which cell and seed, elapsed, estimated remaining (from the dense runs' epoch
// times, corrected by the finished runs of each method).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { parsePruneArgs, runPrune, type PruneReport } from "../cli/prune.js";
import { initBackend, type BackendChoice, BACKEND_CHOICES } from "../trainer/backend.js";
import { loadDataset } from "../trainer/data/load.js";
import { useFastKernels } from "../trainer/kernels.js";
import { createModel, denseTrainDefaults } from "../trainer/models/create.js";
import type { ModelKind } from "../trainer/models/prunable.js";
import { fastgltDefaults } from "../trainer/prune/fastglt.js";
import { train } from "../trainer/train.js";
import { terminalProgress, type Progress } from "../trainer/util/progress.js";
import { commandLine, loadAvg, machineInfo } from "./lib/machine.js";
import type { Family, Method } from "./lib/ticket-search-analysis.js";
import {
  cellId,
  commandOf,
  configKey,
  DEFAULT_GRAPH_TARGETS,
  DEFAULT_JOINT_TARGETS,
  DEFAULT_UGS_ROUNDS,
  DEFAULT_WEIGHT_TARGETS,
  describeCell,
  parseJointTargets,
  parseRounds,
  parseTargets,
  planCells,
  pruneArgv,
  QUICK,
  QUICK_GRAPH_TARGETS,
  QUICK_JOINT_TARGETS,
  QUICK_WEIGHT_TARGETS,
  type Cell,
  type FastgltCell,
  type UgsCell,
} from "./lib/ticket-search-plan.js";
import { mergeBenchFiles } from "./lib/ticket-search-merge.js";
import { recordJson } from "./lib/record-json.js";
import { analyze, conflictingVariantRun, FASTGLT_README, renderMarkdown, renderSvg, pairsOf, type BenchFile, type StoredDense, type StoredRun } from "./lib/ticket-search-report.js";

const { values } = parseArgs({
  options: {
    datasets: { type: "string" },
    models: { type: "string" },
    methods: { type: "string", default: "fastglt,ugs" },
    families: { type: "string", default: "weight,graph,both" },
    seeds: { type: "string" },
    "weight-targets": { type: "string" },
    "graph-targets": { type: "string" },
    "joint-targets": { type: "string" },
    "ugs-rounds": { type: "string" },
    "dense-epochs": { type: "string" },
    hidden: { type: "string" },
    backend: { type: "string", default: "auto" },
    "data-dir": { type: "string" },
    out: { type: "string", default: "bench/results" },
    work: { type: "string", default: "out/bench-ticket-search" },
    "fastglt-args": { type: "string", default: "" },
    variant: { type: "string" },
    "ugs-args": { type: "string", default: "" },
    quick: { type: "boolean", default: false },
    "resume-bench": { type: "boolean", default: false },
    "only-write-report": { type: "boolean", default: false },
    merge: { type: "string" },
    "merge-prefer": { type: "string", default: "base" },
    "dry-run": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  // the header comment is the help
  const src = readFileSync(new URL(import.meta.url), "utf8").split("\n");
  console.log(src.slice(0, src.findIndex((l) => !l.startsWith("//"))).map((l) => l.replace(/^\/\/ ?/, "")).join("\n"));
  process.exit(0);
}

const log = (m: string) => process.stderr.write(`${m}\n`);
const quick = values.quick === true;
const prefix = join(String(values.out), quick ? "ticket-search-quick" : "ticket-search");
const jsonPath = `${prefix}.json`;
const svgName = (dataset: string, model: string) => `${basename(prefix)}-${dataset.replace(/[^A-Za-z0-9._-]/g, "_")}-${model}.svg`;

function list(text: string, flag: string): string[] {
  const xs = text.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (xs.length === 0) throw new Error(`--${flag}: empty list`);
  return [...new Set(xs)];
}

function positiveInt(text: string, flag: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got "${text}"`);
  return n;
}

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Rewrites PREFIX.json (with the analysis), PREFIX.md and the plots. */
function writeAll(f: BenchFile): void {
  const a = analyze(f);
  f.analysis = a;
  writeAtomic(jsonPath, recordJson(f));
  writeAtomic(`${prefix}.md`, renderMarkdown(f, a, { json: basename(jsonPath), svg: svgName }));
  for (const p of pairsOf(f)) {
    if (!a.configs.some((c) => c.dataset === p.dataset && c.model === p.model) && !a.ugs.some((u) => u.dataset === p.dataset && u.model === p.model)) continue;
    writeAtomic(join(dirname(prefix), svgName(p.dataset, p.model)), renderSvg(a, p.dataset, p.model));
  }
}

if (values["only-write-report"]) {
  if (!existsSync(jsonPath)) throw new Error(`--only-write-report: no ${jsonPath} (run the bench first${quick ? "" : ", or add --quick for the smoke run's file"})`);
  const f = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchFile;
  writeAll(f);
  log(`re-rendered ${prefix}.md and the plots from ${jsonPath}`);
  process.exit(0);
}

if (values.merge !== undefined) {
  if (!existsSync(jsonPath)) throw new Error(`--merge: no ${jsonPath} to merge into`);
  const prefer = values["merge-prefer"];
  if (prefer !== "base" && prefer !== "other") throw new Error(`--merge-prefer must be base or other, got "${prefer}"`);
  let f = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchFile;
  for (const path of values.merge.split(",").filter(Boolean)) {
    const m = mergeBenchFiles(f, JSON.parse(readFileSync(path, "utf8")) as BenchFile, prefer);
    f = m.file;
    log(`merged ${path}: ${m.added} records added, ${m.replaced} replaced (${prefer === "other" ? "by its finished ones" : "unfinished ones, by its finished ones"})`);
  }
  writeAll(f);
  log(`wrote ${jsonPath}, ${prefix}.md and the plots`);
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------
// configuration

const datasets = list(values.datasets ?? (quick ? "cora" : "cora,citeseer"), "datasets");
const models = list(values.models ?? (quick ? "gcn,gin" : "gcn,gin,gat"), "models");
const methods = list(String(values.methods), "methods") as Method[];
for (const m of methods) if (m !== "fastglt" && m !== "ugs") throw new Error(`--methods: "${m}" is not fastglt or ugs`);
const families = list(String(values.families), "families") as Family[];
for (const f of families) if (!["weight", "graph", "both"].includes(f)) throw new Error(`--families: "${f}" is not weight, graph or both`);
const seeds = list(values.seeds ?? (quick ? "0" : "0,1,2"), "seeds").map((s) => positiveInt(s, "seeds", 0));
const weightTargets = parseTargets(values["weight-targets"] ?? (quick ? QUICK_WEIGHT_TARGETS : DEFAULT_WEIGHT_TARGETS), "weight-targets");
const graphTargets = parseTargets(values["graph-targets"] ?? (quick ? QUICK_GRAPH_TARGETS : DEFAULT_GRAPH_TARGETS), "graph-targets");
const jointTargets = parseJointTargets(values["joint-targets"] ?? (quick ? QUICK_JOINT_TARGETS : DEFAULT_JOINT_TARGETS), "joint-targets");
const ugsRounds = parseRounds(values["ugs-rounds"] ?? (quick ? String(QUICK.ugsRounds) : DEFAULT_UGS_ROUNDS), "ugs-rounds");
const denseEpochs = positiveInt(values["dense-epochs"] ?? String(quick ? QUICK.denseEpochs : 200), "dense-epochs");
const hidden = values.hidden !== undefined ? positiveInt(values.hidden, "hidden") : quick ? QUICK.hidden : null;
const backend = String(values.backend) as BackendChoice;
if (!BACKEND_CHOICES.includes(backend)) throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}, got "${backend}"`);
const dataDir = values["data-dir"] ?? process.env.FASTGLT_DATA ?? "../shared/data/planetoid";
const workDir = String(values.work) + (quick ? "-quick" : "");
const splitArgs = (s: string) => s.split(/\s+/).filter(Boolean);
const extraUgs = [...(quick ? QUICK.ugs : []), ...splitArgs(String(values["ugs-args"]))];
const resumeBench = values["resume-bench"] === true;
const userFastglt = splitArgs(String(values["fastglt-args"]));
const extraFastglt = [...(quick ? QUICK.fastglt : []), ...userFastglt];
const variant = values.variant === undefined ? null : values.variant.trim();
if (variant !== null) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(variant)) throw new Error(`--variant: "${variant}" is not a name (letters, digits, . _ + -)`);
  if (variant.toLowerCase() === "faithful") throw new Error(`--variant: "faithful" is the paper's settings: leave --variant out`);
  if (userFastglt.length === 0) throw new Error(`--variant ${variant}: give the variant's extra flags with --fastglt-args="…"`);
  if (!methods.includes("fastglt")) throw new Error(`--variant applies to FastGLT runs: add fastglt to --methods`);
} else if (userFastglt.length > 0 && methods.includes("fastglt")) {
  log(`warning: --fastglt-args without --variant: these FastGLT runs are reported as the paper's settings ("faithful"); name them with --variant NAME`);
}
/** appended to a variant run's key and folder hash: the same flags under two names are two runs */
const variantSuffix = variant === null ? "" : ` --variant ${variant}`;

const cells = planCells({
  datasets,
  models,
  methods,
  families,
  weightTargets,
  graphTargets,
  jointTargets,
  ugsRounds,
  defaults: (d, m) => ({ graph: FASTGLT_README[m]?.[d]?.graph ?? null, weight: FASTGLT_README[m]?.[d]?.weight ?? null }),
});

interface Job {
  cell: Cell;
  seed: number;
  /** prune argv (FastGLT / UGS) */
  argv: string[] | null;
  key: string;
  runDir: string | null;
  epochs: number;
}

function plannedEpochs(c: Cell): number {
  if (c.kind === "dense") return denseEpochs;
  const flag = (argv: string[], name: string) => {
    const i = argv.lastIndexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  if (c.kind === "ugs") return c.rounds * ((flag(extraUgs, "--mask-epochs") ?? 200) + (flag(extraUgs, "--fix-epochs") ?? 200));
  let d = { pretrainEpochs: 30, denoiseEpochs: 400, retrainEpochs: 200 };
  try {
    d = fastgltDefaults(c.dataset, c.family, c.model as ModelKind);
  } catch {
    // an unknown model: the rough GCN schedule
  }
  return (flag(extraFastglt, "--pretrain-epochs") ?? d.pretrainEpochs) + (flag(extraFastglt, "--denoise-epochs") ?? d.denoiseEpochs) + (flag(extraFastglt, "--retrain-epochs") ?? d.retrainEpochs);
}

const denseKey = (dataset: string, model: string, seed: number) => `dense ${dataset} ${model} seed ${seed} epochs ${denseEpochs} hidden ${hidden ?? 512}`;
const jobs: Job[] = cells.flatMap((cell) =>
  seeds.map((seed): Job => {
    if (cell.kind === "dense") return { cell, seed, argv: null, key: denseKey(cell.dataset, cell.model, seed), runDir: null, epochs: plannedEpochs(cell) };
    const o = { seed, dataDir, hidden, backend, extraFastglt, extraUgs };
    // the folder names the configuration (a hash of its flags), so runs with other flags never share a checkpoint
    // (a variant's name too; the paper's settings keep the folders and keys of before variants)
    const vs = cell.kind === "fastglt" ? variantSuffix : "";
    const tag = createHash("sha1").update(configKey(pruneArgv(cell as FastgltCell | UgsCell, { ...o, outDir: "" })) + vs).digest("hex").slice(0, 8);
    const runDir = join(workDir, `${cellId(cell)}-${tag}-seed${seed}`);
    const argv = pruneArgv(cell as FastgltCell | UgsCell, { ...o, outDir: runDir });
    return { cell, seed, argv, key: `${configKey(argv)} --seed ${seed}${vs}`, runDir, epochs: plannedEpochs(cell) };
  }),
);

// ------------------------------------------------------------------------------------------------
// the results file: fresh or resumed

const machine = machineInfo();
const command = commandLine("bench/ticket-search.ts");
const config = { datasets, models, methods, families, seeds, weightTargets, graphTargets, jointTargets, ugsRounds, denseEpochs, hidden, backend, dataDir, work: workDir, extraFastglt, extraUgs, variant, quick };
let file: BenchFile;
if (resumeBench && existsSync(jsonPath)) {
  file = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchFile;
  if (file.quick !== quick) throw new Error(`--resume-bench: ${jsonPath} is from a ${file.quick ? "--quick" : "full"} bench, this one is ${quick ? "--quick" : "full"}`);
  if (variant !== null) {
    const other = conflictingVariantRun(file.runs, variant, userFastglt);
    if (other) throw new Error(`--variant ${variant}: ${jsonPath} has runs of that variant with --fastglt-args="${other.extraArgs!.join(" ")}", not "${userFastglt.join(" ")}": one name per set of flags`);
  }
  file.config = config;
  log(`resuming ${jsonPath}: ${file.dense.filter((d) => d.status === "done").length} dense runs and ${file.runs.filter((r) => r.status === "done").length} prune runs kept`);
} else {
  file = { schema: "fastglt/ticket-search/1", quick, config, sessions: [], dense: [], runs: [] };
}
const session = { command, started: new Date().toISOString(), finished: null as string | null, machine, loadAvgEnd: null as number[] | null, interrupted: false };
file.sessions.push(session);

const isDone = (j: Job) => (j.argv === null ? file.dense.some((d) => d.key === j.key && d.status === "done") : file.runs.some((r) => r.key === j.key && r.status === "done"));
const todo = jobs.filter((j) => !isDone(j));

// ------------------------------------------------------------------------------------------------
// time estimates: ms per epoch per (dataset, model) from dense runs, times a per-method factor

/**
 * Dense ms per epoch at hidden 512 on this 2-core machine when idle (measured at load ≈ 9 and halved;
 * the README's Cora GCN figures agree): until this session's own dense runs time it.
 */
const PRIOR_MS_PER_EPOCH: Record<string, Record<string, number>> = {
  cora: { gcn: 56, gin: 38, gat: 1300 },
  citeseer: { gcn: 93, gin: 56, gat: 1900 },
};
/** training seconds against epochs × the dense ms per epoch, over this session's finished runs */
const observed = { fastglt: { sec: 0, est: 0 }, ugs: { sec: 0, est: 0 } };

function msPerEpoch(dataset: string, model: string): number {
  const d = file.dense.filter((x) => x.status === "done" && x.dataset === dataset && x.model === model);
  if (d.length) return (1000 * d.reduce((a, x) => a + x.seconds, 0)) / d.reduce((a, x) => a + x.epochs, 0);
  return (PRIOR_MS_PER_EPOCH[dataset]?.[model] ?? 100) * ((hidden ?? 512) / 512);
}

const baseSeconds = (j: Job) => (j.epochs * msPerEpoch(j.cell.dataset, j.cell.model)) / 1000;

/** pruning epochs cost a little more than dense ones (masks, checkpoints): 1.15× until measured */
function estimateSeconds(j: Job): number {
  if (j.cell.kind === "dense") return baseSeconds(j);
  const o = observed[j.cell.kind];
  return baseSeconds(j) * (o.est > 0 ? o.sec / o.est : 1.15);
}

const hms = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`);

// ------------------------------------------------------------------------------------------------
// running

if (values["dry-run"]) {
  for (const j of todo) console.log(`${hms(estimateSeconds(j)).padStart(7)}  ${j.argv ? `${commandOf(j.argv)}${j.cell.kind === "fastglt" && variant !== null ? `  # variant ${variant}` : ""}` : `${describeCell(j.cell)} seed ${j.seed} (${denseEpochs} epochs)`}`);
  console.log(`${todo.length} of ${jobs.length} runs to do, ~${hms(todo.reduce((a, j) => a + estimateSeconds(j), 0))} at the prior epoch times (an idle machine; ~2× at load 8)`);
  process.exit(0);
}

if (!resumeBench && existsSync(jsonPath)) {
  mkdirSync(workDir, { recursive: true });
  const moved = join(workDir, `${basename(jsonPath, ".json")}.previous-${Date.now()}.json`);
  renameSync(jsonPath, moved);
  log(`starting afresh: the previous ${jsonPath} is now ${moved} (use --resume-bench to continue a bench)`);
}

const controller = new AbortController();
let sigints = 0;
process.on("SIGINT", () => {
  sigints++;
  if (sigints > 1) process.exit(130);
  log("\ninterrupt: the current run checkpoints at the end of its epoch, then the results so far are written (Ctrl-C again to quit at once)");
  controller.abort();
});

const resolvedBackend = await initBackend(backend, () => {});
await useFastKernels(resolvedBackend);
log(`bench/ticket-search${quick ? " (quick)" : ""}: ${todo.length} of ${jobs.length} runs to do (${datasets.join(", ")} × ${models.join(", ")}; ${methods.join(", ")}${variant !== null ? ` (FastGLT variant ${variant}: ${userFastglt.join(" ")})` : ""}; seeds ${seeds.join(", ")}); backend ${resolvedBackend}; ${machine.cores} cores (${machine.cpu}), load ${machine.loadAvgStart.map((x) => x.toFixed(2)).join(" ")}`);
log(`  estimated ~${hms(todo.reduce((a, j) => a + estimateSeconds(j), 0))} (before any timing of this machine)`);
writeAll(file);

function prefixed(label: string): Progress {
  const p = terminalProgress();
  return { update: (phase, done, total, fields) => p.update(`${label} ${phase}`, done, total, fields), message: (t) => p.message(t), end: () => p.end() };
}

async function runDense(j: Job): Promise<StoredDense> {
  const { dataset, model } = j.cell;
  const t = denseTrainDefaults(model as ModelKind);
  const base = { key: j.key, dataset, model, seed: j.seed, hidden: hidden ?? 512, lr: t.lr, weightDecay: t.weightDecay, backend: resolvedBackend, epochs: denseEpochs };
  const before = loadAvg();
  try {
    const graph = await loadDataset(dataset, { dataDir, seed: j.seed, log: () => {} });
    tf.engine().startScope();
    const m = createModel(graph, { kind: model as ModelKind, hidden: hidden ?? undefined, seed: j.seed, normalisation: model === "gcn" ? "fixed" : undefined });
    try {
      const progress = prefixed(`${dataset} ${model} dense seed ${j.seed}`);
      const r = train(m, graph, { epochs: denseEpochs, lr: t.lr, weightDecay: t.weightDecay, seed: j.seed, phase: "dense", progress });
      progress.end();
      return { ...base, status: "done", testAccuracy: r.best.testAccuracy, valAccuracy: r.best.valAccuracy, bestEpoch: r.bestEpoch, seconds: r.seconds, loadAvg: { before, after: loadAvg() }, finishedAt: new Date().toISOString() };
    } finally {
      m.dispose();
      tf.engine().endScope();
    }
  } catch (e) {
    return { ...base, status: "error", error: (e as Error).message.split("\n")[0], testAccuracy: NaN, valAccuracy: NaN, bestEpoch: -1, seconds: 0, loadAvg: { before, after: loadAvg() }, finishedAt: new Date().toISOString() };
  }
}

function hasCheckpoint(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => f.endsWith(".ckpt"));
}

async function runSearch(j: Job): Promise<StoredRun> {
  const c = j.cell as FastgltCell | UgsCell;
  const argv = j.argv!;
  const resume = resumeBench && hasCheckpoint(j.runDir!);
  const base = {
    key: j.key,
    config: configKey(argv),
    variant: c.kind === "fastglt" ? variant : null,
    ...(c.kind === "fastglt" ? { extraArgs: userFastglt } : {}),
    dataset: c.dataset,
    model: c.model,
    method: c.kind,
    family: (c.kind === "ugs" ? "both" : c.family) as Family,
    targetGraph: c.kind === "fastglt" ? c.targetGraph : null,
    targetWeight: c.kind === "fastglt" ? c.targetWeight : null,
    isDefaultTarget: c.kind === "fastglt" && c.isDefaultTarget,
    seed: j.seed,
    argv,
    command: commandOf(argv),
  };
  const before = loadAvg();
  log(`  ${base.command}${resume ? " --resume" : ""}`);
  try {
    const label = `${c.dataset} ${c.model} ${c.kind === "ugs" ? "ugs" : `fastglt ${c.family}${variant !== null ? ` [${variant}]` : ""}`} seed ${j.seed}`;
    const progress = prefixed(label);
    const opts = parsePruneArgs(resume ? [...argv, "--resume"] : argv, { signal: controller.signal, progress, log: (m) => log(`    ${m}`) });
    if (!opts) throw new Error("parsePruneArgs returned null (--help?)");
    // runPrune leaves a few tensors behind per run (5 for FastGLT, 7 for UGS: ~the model's size each
    // time); the scope frees them, so a long bench does not grow the wasm heap (results unchanged)
    tf.engine().startScope();
    let rep: PruneReport;
    try {
      rep = await runPrune(opts);
    } finally {
      tf.engine().endScope();
    }
    progress.end();
    const t = rep.ticket;
    const o = rep.options as { maskEpochs?: number; fixEpochs?: number };
    return {
      ...base,
      status: rep.status,
      ticket: t ? { testAccuracy: t.testAccuracy, valAccuracy: t.valAccuracy, graphSparsity: t.graphSparsity, graphSparsityWithSelfLoops: t.graphSparsityWithSelfLoops, weightSparsity: t.weightSparsity, meetsTarget: t.meetsTarget } : null,
      ...(rep.rounds ? { rounds: rep.rounds, epochsPerRound: (o.maskEpochs ?? NaN) + (o.fixEpochs ?? NaN) } : {}),
      epochs: rep.epochs,
      totalEpochs: rep.totalEpochs,
      secondsToBest: rep.secondsToBest,
      trainingSeconds: rep.trainingSeconds,
      wallClockSeconds: rep.wallClockSeconds,
      backend: rep.backend,
      ticketDetails: t
        ? { edgesKept: t.edgesKept, edgesTotal: t.edgesTotal, edgesKeptWithSelfLoops: t.edgesKeptWithSelfLoops, edgesTotalWithSelfLoops: t.edgesTotalWithSelfLoops, weightsKept: t.weightsKept, weightsTotal: t.weightsTotal, macsDense: t.macsDense, macsTicket: t.macsTicket, bestEpoch: t.bestEpoch, phase: t.phase }
        : undefined,
      denominators: rep.denominators,
      options: rep.options,
      ...(rep.denoiseSteps ? { denoiseSteps: rep.denoiseSteps } : {}),
      runtimeCheck: rep.runtime,
      loadAvg: { before, after: loadAvg() },
      finishedAt: new Date().toISOString(),
    };
  } catch (e) {
    return { ...base, status: "error", error: (e as Error).message.split("\n")[0], ticket: null, epochs: 0, secondsToBest: null, trainingSeconds: 0, loadAvg: { before, after: loadAvg() }, finishedAt: new Date().toISOString() };
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const started = performance.now();
for (let i = 0; i < todo.length; i++) {
  if (controller.signal.aborted) break;
  const j = todo[i];
  const elapsed = (performance.now() - started) / 1000;
  const left = todo.slice(i).reduce((a, x) => a + estimateSeconds(x), 0);
  log(`[${i + 1}/${todo.length}] ${describeCell(j.cell)}${j.cell.kind === "fastglt" && variant !== null ? ` [${variant}]` : ""}, seed ${j.seed} — elapsed ${hms(elapsed)}, ~${hms(left)} left (load ${loadAvg().join(" ")})`);
  if (j.argv === null) {
    const d = await runDense(j);
    file.dense = [...file.dense.filter((x) => x.key !== d.key), d];
    log(d.status === "done" ? `  dense: test ${pct(d.testAccuracy)} (val ${pct(d.valAccuracy)}, epoch ${d.bestEpoch}), ${d.seconds.toFixed(1)} s` : `  dense: ERROR ${d.error}`);
  } else {
    const r = await runSearch(j);
    file.runs = [...file.runs.filter((x) => x.key !== r.key), r];
    if (r.status === "done") {
      const o = observed[j.cell.kind as "fastglt" | "ugs"];
      o.sec += r.trainingSeconds;
      o.est += (r.epochs * msPerEpoch(j.cell.dataset, j.cell.model)) / 1000;
    }
    const t = r.ticket;
    log(
      r.status === "error"
        ? `  ERROR (recorded, going on): ${r.error}`
        : t
          ? `  ${r.status}: test ${pct(t.testAccuracy)}, graph ${pct(t.graphSparsity)} (${pct(t.graphSparsityWithSelfLoops)} incl. self-loops), weight ${pct(t.weightSparsity)}, ${r.trainingSeconds.toFixed(1)} s (to best ${r.secondsToBest?.toFixed(1) ?? "—"} s), ${r.epochs} epochs; ${tf.memory().numTensors} tensors live`
          : `  ${r.status} after ${r.epochs} epochs (checkpoint in ${j.runDir}; continue with --resume-bench)`,
    );
  }
  session.loadAvgEnd = loadAvg();
  writeAll(file);
}

session.finished = new Date().toISOString();
session.loadAvgEnd = loadAvg();
session.interrupted = controller.signal.aborted;
writeAll(file);
const v = file.analysis!.verdict;
log(`wrote ${jsonPath}, ${prefix}.md and the plots (${hms((performance.now() - started) / 1000)})`);
log(v.compared === 0 ? "speed-up: no winning FastGLT run with a same-seed UGS run to compare" : `speed-up over ${v.compared} winning FastGLT runs: min ${v.min.toFixed(2)}×${v.minIsLowerBound ? " (lower bound)" : ""}, median ${v.median.toFixed(2)}× — target ≥ ${v.factor}×: ${v.met === true ? "met" : v.met === false ? "missed" : "undetermined"}`);
if (controller.signal.aborted) process.exit(130);
