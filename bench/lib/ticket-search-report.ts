/**
 * bench/ticket-search.ts's results file (its JSON shape), the papers' numbers it is compared with,
 * and the markdown tables and SVG plots rendered from it (also by --only-write-report).
 */
import type { PruneReport } from "../../cli/prune.js";
import type { MachineInfo } from "./machine.js";
import { linePlot, niceTicks, type Series } from "./svg.js";
import { fmt, markdownTable } from "./table.js";
import {
  compareVariants,
  fastgltExtreme,
  meanStd,
  speedUps,
  speedVerdict,
  SPARSITY_TOLERANCE,
  summarizeConfigs,
  summarizeUgs,
  type ConfigSummary,
  type DenseRecord,
  type Family,
  type MeanStd,
  type RunRecord,
  type SpeedUp,
  type SpeedVerdict,
  type UgsSummary,
  variantOf,
} from "./ticket-search-analysis.js";
import { QUICK } from "./ticket-search-plan.js";

// ------------------------------------------------------------------------------------------------
// the papers' numbers (algorithms.md §1.5, §4.1, §4.3; the issue's PyTorch reference points)

/**
 * FastGLT README commands' targets = the authors' claimed extreme winning-ticket sparsities, and the
 * commands' epochs E + D + R (algorithms.md §1.5).
 */
export const FASTGLT_README: Record<string, Record<string, { graph: number | null; weight: number | null; epochs: { graph: number | null; weight: number } }>> = {
  gcn: {
    cora: { graph: 0.35, weight: 0.93, epochs: { graph: 600, weight: 630 } },
    citeseer: { graph: null, weight: 0.95, epochs: { graph: null, weight: 630 } },
    pubmed: { graph: 0.4, weight: 0.99, epochs: { graph: 450, weight: 630 } },
  },
  gin: {
    cora: { graph: 0.25, weight: 0.9, epochs: { graph: 700, weight: 700 } },
    citeseer: { graph: 0.45, weight: 0.98, epochs: { graph: 700, weight: 700 } },
    pubmed: { graph: 0.6, weight: 0.98, epochs: { graph: 750, weight: 750 } },
  },
  gat: {
    cora: { graph: 0.75, weight: 0.985, epochs: { graph: 600, weight: 600 } },
    citeseer: { graph: 0.77, weight: 0.99, epochs: { graph: 650, weight: 650 } },
    pubmed: { graph: 0.7, weight: 0.99, epochs: { graph: 630, weight: 600 } },
  },
};

/** AdaGLT README target extreme sparsities (algorithms.md §4.3). */
export const ADAGLT_README: Record<string, Record<string, { graph: number; weight: number }>> = {
  gcn: { cora: { graph: 0.27, weight: 0.93 }, citeseer: { graph: 0.43, weight: 0.97 }, pubmed: { graph: 0.27, weight: 0.97 } },
  gin: { cora: { graph: 0.22, weight: 0.96 }, citeseer: { graph: 0.42, weight: 0.96 }, pubmed: { graph: 0.5, weight: 0.96 } },
  gat: { cora: { graph: 0.72, weight: 0.98 }, citeseer: { graph: 0.82, weight: 0.93 }, pubmed: { graph: 0.82, weight: 0.98 } },
};

/** Dense 2-layer GCN, 20 seeds, from the UGS authors' dev repo (algorithms.md §4.3). */
export const UGS_DEV_DENSE_GCN: Record<string, { mean: number; std: number }> = {
  cora: { mean: 0.8103, std: 0.0064 },
  citeseer: { mean: 0.7094, std: 0.0077 },
  pubmed: { mean: 0.7916, std: 0.0019 },
};

export interface QuotedPoint {
  dataset: string;
  model: string;
  method: "dense" | "fastglt" | "ugs";
  family?: Family;
  graph: number | null;
  weight: number | null;
  accuracy: { mean: number; std: number | null };
  seconds: number | null;
  note: string;
}

/** The issue's PyTorch reference runs on Cora GCN (quoted, not measured here). */
export const ISSUE_PYTORCH: QuotedPoint[] = [
  { dataset: "cora", model: "gcn", method: "dense", graph: null, weight: null, accuracy: { mean: 0.814, std: 0.004 }, seconds: null, note: "dense" },
  { dataset: "cora", model: "gcn", method: "fastglt", family: "weight", graph: null, weight: 0.93, accuracy: { mean: 0.809, std: 0.005 }, seconds: 23, note: "FastGLT weight ticket, 23 s per run" },
  { dataset: "cora", model: "gcn", method: "fastglt", family: "weight", graph: null, weight: 0.98, accuracy: { mean: 0.808, std: 0.003 }, seconds: 23, note: "FastGLT weight ticket, 23 s per run" },
  { dataset: "cora", model: "gcn", method: "fastglt", family: "graph", graph: 0.35, weight: null, accuracy: { mean: 0.782, std: 0.004 }, seconds: null, note: "FastGLT graph ticket" },
  { dataset: "cora", model: "gcn", method: "ugs", graph: 0.46, weight: 0.93, accuracy: { mean: 0.776, std: null }, seconds: 363, note: "UGS seed 0, round 12, after 363 s" },
];

// ------------------------------------------------------------------------------------------------
// the results file

export interface LoadPair {
  before: number[];
  after: number[];
}

export interface StoredDense extends DenseRecord {
  hidden: number;
  lr: number;
  weightDecay: number;
  backend: string;
  loadAvg: LoadPair;
  finishedAt: string;
}

export interface StoredRun extends RunRecord {
  key: string;
  argv: string[];
  command: string;
  /** FastGLT: the invocation's --fastglt-args (a variant's extra flags; in argv too). Older records lack it. */
  extraArgs?: string[];
  backend?: string;
  totalEpochs?: number;
  wallClockSeconds?: number;
  ticketDetails?: Pick<
    NonNullable<PruneReport["ticket"]>,
    "edgesKept" | "edgesTotal" | "edgesKeptWithSelfLoops" | "edgesTotalWithSelfLoops" | "weightsKept" | "weightsTotal" | "macsDense" | "macsTicket" | "bestEpoch" | "phase"
  >;
  denominators?: Record<string, string>;
  options?: Record<string, unknown>;
  denoiseSteps?: Record<string, number>;
  runtimeCheck?: PruneReport["runtime"];
  loadAvg: LoadPair;
  finishedAt: string;
}

export interface Session {
  command: string;
  started: string;
  finished: string | null;
  machine: MachineInfo;
  loadAvgEnd: number[] | null;
  interrupted: boolean;
}

export interface BenchFile {
  schema: "fastglt/ticket-search/1";
  quick: boolean;
  /** the flags of the latest session */
  config: Record<string, unknown>;
  sessions: Session[];
  dense: StoredDense[];
  runs: StoredRun[];
  analysis?: Analysis;
}

export interface Analysis {
  rule: string;
  speedupFactor: number;
  configs: ConfigSummary[];
  ugs: UgsSummary[];
  speedUps: SpeedUp[];
  verdict: SpeedVerdict;
}

export const SPEEDUP_FACTOR = 5;

export const WINNING_RULE =
  "a ticket wins when its test accuracy at the best validation epoch, averaged over the seeds, is ≥ the dense model's mean test accuracy (at its best validation epoch) over the same seeds; " +
  "FastGLT's extreme sparsity per family (and per variant: the paper's settings and each labelled set of extra flags apart) is the highest target whose configuration wins, UGS's the last round that wins";

export function analyze(f: BenchFile): Analysis {
  // records from before variants have no `variant`: the paper's settings
  const runs = f.runs.map((r) => ({ ...r, variant: variantOf(r) }));
  const configs = summarizeConfigs(runs, f.dense);
  const ugs = summarizeUgs(runs, f.dense);
  const s = speedUps(runs, configs, ugs);
  return { rule: WINNING_RULE, speedupFactor: SPEEDUP_FACTOR, configs, ugs, speedUps: s, verdict: speedVerdict(s, SPEEDUP_FACTOR) };
}

// ------------------------------------------------------------------------------------------------
// formatting

const pct = (x: number, d = 1) => (Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : "—");
const accPm = (m: MeanStd) => (m.n === 0 ? "—" : m.n === 1 ? `${pct(m.mean)} (1 seed)` : `${pct(m.mean)} ± ${(100 * m.std).toFixed(1)} (${m.n} seeds)`);
const secs = (x: number) => (!Number.isFinite(x) ? "—" : x >= 100 ? `${x.toFixed(0)} s` : `${x.toFixed(1)} s`);
const secsPm = (m: MeanStd) => (m.n === 0 ? "—" : m.n === 1 ? secs(m.mean) : `${secs(m.mean)} ± ${m.std.toFixed(m.mean >= 100 ? 0 : 1)}`);
const targetLabel = (c: { family: Family; targetGraph: number | null; targetWeight: number | null }) =>
  [c.targetGraph !== null ? `g ${pct(c.targetGraph, 1)}` : "", c.targetWeight !== null ? `w ${pct(c.targetWeight, 1)}` : ""].filter(Boolean).join(" + ");
const familyLabel = (f: Family) => (f === "both" ? "joint" : f);
/**
 * " [ours]"; the paper's settings: " [faithful]" when the file has variants, else nothing. The joint
 * family is ours whatever the flags (the paper has no joint runs; its defaults are fastglt.ts JOINT):
 * "joint" carries no [faithful] tag.
 */
const variantTag = (v: string | null, anyVariants: boolean, family: Family | null = null) => (v !== null ? ` [${v}]` : anyVariants && family !== "both" ? " [faithful]" : "");
/** The variants of the analysed FastGLT configurations, null (the paper's settings) first. */
export function variantsOf(configs: readonly { variant: string | null }[]): (string | null)[] {
  return [...new Set(configs.map((c) => c.variant))].sort(compareVariants);
}

/** The `fastglt prune` flags the bench sets itself (with their values), not a variant's. */
const BENCH_FLAGS = new Set(["--method", "--prune", "--model", "--dataset", "--target-graph", "--target-weight", "--rounds", "--seed", "--hidden", "--backend", "--data-dir", "--out"]);

/**
 * A FastGLT run's extra flags: its invocation's --fastglt-args as recorded, or (older records) its
 * argv less the flags the bench sets and, in a quick file, the quick schedule.
 */
export function extraFlagsOf(r: StoredRun, quick: boolean): string[] {
  if (r.extraArgs) return r.extraArgs;
  const rest: string[] = [];
  for (let i = 0; i < r.argv.length; i++) {
    if (BENCH_FLAGS.has(r.argv[i])) i++;
    else rest.push(r.argv[i]);
  }
  if (!quick) return rest;
  const q = QUICK.fastglt;
  for (let i = 0; i + q.length <= rest.length; i++) if (q.every((x, k) => rest[i + k] === x)) return [...rest.slice(0, i), ...rest.slice(i + q.length)];
  return rest;
}
/** A FastGLT run of `variant` in `runs` recorded with other extra flags than `flags` (one name per set of flags). */
export function conflictingVariantRun(runs: readonly StoredRun[], variant: string, flags: readonly string[]): StoredRun | undefined {
  return runs.find((r) => r.method === "fastglt" && r.variant === variant && r.extraArgs !== undefined && r.extraArgs.join(" ") !== flags.join(" "));
}
const modelLabel = (m: string) => m.toUpperCase();
const dsLabel = (d: string) => (d === "cora" ? "Cora" : d === "citeseer" ? "CiteSeer" : d === "pubmed" ? "PubMed" : d);

/** graph sparsity over graph edges, and FastGLT's own denominator (edges + self-loops) when it differs */
function graphSp(g: MeanStd, withLoops: MeanStd): string {
  if (g.n === 0) return "—";
  const extra = Math.abs(g.mean - withLoops.mean) > 5e-4 ? ` (${pct(withLoops.mean)} incl. self-loops)` : "";
  return `${pct(g.mean)}${extra}`;
}

/** (dataset, model) pairs in the order of the config, then any others found in the file. */
export function pairsOf(f: BenchFile): { dataset: string; model: string }[] {
  const out: { dataset: string; model: string }[] = [];
  const add = (dataset: string, model: string) => {
    if (!out.some((p) => p.dataset === dataset && p.model === model)) out.push({ dataset, model });
  };
  const ds = (f.config.datasets as string[] | undefined) ?? [];
  const ms = (f.config.models as string[] | undefined) ?? [];
  for (const d of ds) for (const m of ms) if (f.dense.some((x) => x.dataset === d && x.model === m) || f.runs.some((x) => x.dataset === d && x.model === m)) add(d, m);
  for (const x of [...f.dense, ...f.runs]) add(x.dataset, x.model);
  return out;
}

// ------------------------------------------------------------------------------------------------
// markdown

export function renderMarkdown(f: BenchFile, a: Analysis, names: { json: string; svg: (dataset: string, model: string) => string }): string {
  const last = f.sessions[f.sessions.length - 1];
  const pairs = pairsOf(f);
  const lines: string[] = [];
  lines.push(`# Ticket search: FastGLT vs UGS${f.quick ? " (quick smoke run: tiny schedules, hidden 16 — the numbers mean nothing)" : ""}`);
  lines.push("");
  const m = last?.machine;
  lines.push(
    `\`${last?.command ?? "?"}\` — ${last?.started ?? "?"} to ${last?.finished ?? "(not finished)"}${f.sessions.length > 1 ? ` (${f.sessions.length} sessions; earlier ones: ${f.sessions.slice(0, -1).map((s) => `\`${s.command}\` ${s.started}`).join("; ")})` : ""}. ` +
      (m ? `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average ${m.loadAvgStart.map((v) => v.toFixed(2)).join(" ")} at the start, ${last?.loadAvgEnd?.join(" ") ?? "?"} at the end (the machine is shared with other jobs: each run's load average before and after it is in the JSON, to judge its wall-clock by). ` : "") +
      `Every run: [${names.json}](${names.json}).`,
  );
  lines.push("");
  lines.push(`**Winning ticket**: ${WINNING_RULE}. Per-seed winners (a seed's ticket ≥ that dense mean) are listed too.`);
  lines.push("");
  lines.push(
    "**Denominators**, the same for both methods: graph sparsity = pruned / all directed graph edges, self-loops excluded (UGS never prunes self-loops; FastGLT's GCN prunes them too, and its targets count them: that figure is given in parentheses); " +
      "weight sparsity = pruned / all entries of the weight matrices (global, biases excluded). FastGLT targets are its per-family `--target-*` flags; every other flag takes the per-dataset defaults of the papers' commands (`fastglt prune --help`). " +
      "Wall-clock = training seconds of the search as `fastglt prune` reports them (`trainingSeconds`, all epochs incl. evaluation and checkpoints; dense baselines are separate runs), on this machine's wasm backend.",
  );
  lines.push("");

  // ---- variants
  const variants = variantsOf(a.configs);
  const anyV = variants.some((v) => v !== null);
  const fgRuns = f.runs.filter((r) => r.method === "fastglt");
  // configurations per (dataset, model), the paper's settings first, each variant after (else in the runs' order)
  const pairIndex = (c: ConfigSummary) => pairs.findIndex((p) => p.dataset === c.dataset && p.model === c.model);
  const ordered = a.configs.map((c, i) => ({ c, i })).sort((x, y) => pairIndex(x.c) - pairIndex(y.c) || compareVariants(x.c.variant, y.c.variant) || x.i - y.i).map((x) => x.c);
  if (anyV) {
    lines.push("## Variants");
    lines.push("");
    lines.push("FastGLT configurations run with extra `fastglt prune` flags (`--variant NAME --fastglt-args=\"…\"`) are their own rows, labelled [NAME]; each variant has its own extreme sparsity. [faithful] = the paper's settings.");
    lines.push("");
    for (const v of variants) {
      const flagSets = [...new Set(fgRuns.filter((r) => variantOf(r) === v).map((r) => extraFlagsOf(r, f.quick).join(" ")))];
      const n = a.configs.filter((c) => c.variant === v).length;
      const shown = flagSets.filter((x) => x !== "").map((x) => `\`${x}\``);
      const flags = v === null ? `the paper's settings (the per-dataset defaults of its commands)${shown.length ? `; runs made with extra flags but no --variant: ${shown.join(", ")}` : ""}` : shown.length ? shown.join(", ") + (shown.length > 1 ? " (⚠ different flags under one name)" : "") : "(no extra flags)";
      lines.push(`- **${v ?? "faithful"}**: ${flags} — ${n} configuration${n === 1 ? "" : "s"}`);
    }
    lines.push("");
  }

  // ---- extreme sparsities
  lines.push("## Extreme sparsity of winning tickets, beside the papers' numbers");
  lines.push("");
  lines.push("*measured* = this run; *claim* = the authors' README commands (the sparsities they say are still winning tickets; no accuracy given); *quoted* = reference runs reported elsewhere, not measured here.");
  lines.push("");
  const rows: string[][] = [];
  for (const { dataset, model } of pairs) {
    const tag = `${dsLabel(dataset)} ${modelLabel(model)}`;
    const dense = f.dense.filter((d) => d.dataset === dataset && d.model === model && d.status === "done");
    if (dense.length) {
      const acc = meanStd(dense.map((d) => d.testAccuracy));
      rows.push([tag, "dense", "measured", "0%", "0%", accPm(acc), "—", secsPm(meanStd(dense.map((d) => d.seconds))), String(dense[0].epochs)]);
    }
    const cs = a.configs.filter((c) => c.dataset === dataset && c.model === model);
    for (const fam of ["graph", "weight", "both"] as Family[]) for (const variant of variants) {
      const fc = cs.filter((c) => c.family === fam && c.variant === variant);
      if (fc.length === 0) continue;
      const e = fastgltExtreme(cs, fam, variant);
      const name = `FastGLT ${familyLabel(fam)}${variantTag(variant, anyV, fam)}`;
      if (e) {
        rows.push([tag, name, "measured", fam === "weight" ? "0%" : graphSp(e.graphSparsity, e.graphSparsityWithSelfLoops), fam === "graph" ? "0%" : pct(e.weightSparsity.mean),
          `${accPm(e.accuracy)} vs dense ${pct(e.bar.mean)}`, `${e.perSeed.filter((p) => p.wins).length}/${e.perSeed.length}`, `${secsPm(e.trainingSeconds)} (to best ${secsPm(e.secondsToBest)})`, fmtEpochs(e.epochs)]);
      } else {
        const best = [...fc].sort((x, y) => y.accuracy.mean - x.accuracy.mean)[0];
        rows.push([tag, name, "measured", "none wins", "none wins", `best: ${accPm(best.accuracy)} at ${targetLabel(best)} vs dense ${pct(best.bar.mean)} (${fc.length} target${fc.length > 1 ? "s" : ""} tried)`, `${best.perSeed.filter((p) => p.wins).length}/${best.perSeed.length}`, secsPm(best.trainingSeconds), fmtEpochs(best.epochs)]);
      }
    }
    const u = a.ugs.find((x) => x.dataset === dataset && x.model === model);
    if (u) {
      if (u.extreme) {
        const r = u.extreme;
        rows.push([tag, `UGS (round ${r.round} of ${u.rounds.length})`, "measured", graphSp(r.graphSparsity, r.graphSparsityWithSelfLoops), pct(r.weightSparsity.mean), `${accPm(r.accuracy)} vs dense ${pct(u.bar.mean)}`,
          `${r.perSeed.filter((p) => p.wins).length}/${r.perSeed.length}`, `${secsPm(r.seconds)} to the end of round ${r.round}`, `${r.epochs}`]);
      } else {
        const r1 = u.rounds[0];
        rows.push([tag, `UGS (${u.rounds.length} rounds)`, "measured", "none wins", "none wins", `round 1: ${accPm(r1.accuracy)} vs dense ${pct(u.bar.mean)}`, `${r1.perSeed.filter((p) => p.wins).length}/${r1.perSeed.length}`, `${secsPm(u.rounds[u.rounds.length - 1].seconds)} for ${u.rounds.length} rounds`, String(u.rounds[u.rounds.length - 1].epochs)]);
      }
    }
    const readme = FASTGLT_README[model]?.[dataset];
    if (readme) rows.push([tag, "FastGLT (paper)", "claim: README commands", readme.graph === null ? "no command" : pct(readme.graph), pct(readme.weight ?? NaN), "—", "—", "—", readme.epochs.graph === null || readme.epochs.graph === readme.epochs.weight ? String(readme.epochs.weight) : `graph ${readme.epochs.graph}, weight ${readme.epochs.weight}`]);
    const ada = ADAGLT_README[model]?.[dataset];
    if (ada) rows.push([tag, "AdaGLT (paper)", "claim: README", pct(ada.graph), pct(ada.weight), "—", "—", "—", "—"]);
    for (const q of ISSUE_PYTORCH.filter((q) => q.dataset === dataset && q.model === model)) {
      rows.push([tag, q.method === "dense" ? "dense (PyTorch)" : q.method === "ugs" ? "UGS (PyTorch)" : `FastGLT ${q.family} (PyTorch)`, "quoted: the issue", q.graph === null ? "0%" : pct(q.graph, 0), q.weight === null ? "0%" : pct(q.weight, 0),
        `${pct(q.accuracy.mean)}${q.accuracy.std !== null ? ` ± ${(100 * q.accuracy.std).toFixed(1)}` : ""}`, "—", q.seconds !== null ? secs(q.seconds) : "—", q.method === "ugs" ? "12 rounds (4800 at UGS's 200 + 200 per round)" : "—"]);
    }
    if (model === "gcn" && UGS_DEV_DENSE_GCN[dataset]) {
      const d = UGS_DEV_DENSE_GCN[dataset];
      rows.push([tag, "dense (UGS dev repo)", "quoted: 20 seeds", "0%", "0%", `${pct(d.mean, 2)} ± ${(100 * d.std).toFixed(2)}`, "—", "—", "—"]);
    }
  }
  lines.push(markdownTable([{ header: "dataset / model", align: "left" }, { header: "method", align: "left" }, { header: "source", align: "left" }, "extreme graph sparsity", "extreme weight sparsity", "test acc. (mean ± std)", "seeds ≥ dense mean", "wall-clock per run", "epochs"], rows));
  lines.push("");
  lines.push("The papers' accuracy tables could not be read (algorithms.md §4.2): the claims are sparsities only. FastGLT's README GAT graph targets (70–77%) were reached with a layer where a pruned edge stays in the softmax; ours removes it.");
  lines.push("");

  // ---- speed
  lines.push(`## Speed: FastGLT tickets against UGS reaching the same sparsity (target ≥ ${SPEEDUP_FACTOR}×)`);
  lines.push("");
  const v = a.verdict;
  lines.push(
    v.compared === 0
      ? "No FastGLT configuration wins with a same-seed UGS run to compare with: no verdict."
      : `Over the ${v.compared} runs of winning FastGLT configurations: UGS needs **${fmt.ratio(v.min)}${v.minIsLowerBound ? " or more" : ""}** (minimum; median ${fmt.ratio(v.median)}) the wall-clock to reach the same graph and weight sparsity with the same seed — ` +
          `target ≥ ${SPEEDUP_FACTOR}×: **${v.met === true ? "met" : v.met === false ? "missed" : "undetermined (UGS did not run far enough)"}**.`,
  );
  lines.push("");
  lines.push(
    `Rule: for each FastGLT run, the same seed's UGS run; its first round whose graph sparsity and weight sparsity are both ≥ the FastGLT ticket's (within ${SPARSITY_TOLERANCE}); ` +
      "speed-up = UGS's cumulative training seconds at the end of that round ÷ the FastGLT run's training seconds (in parentheses: ÷ its seconds to the selected epoch). " +
      "\"> X s\": UGS did not get there in the rounds run, X is its time for all of them, so the speed-up is a lower bound. UGS's accuracy at that round is shown: reaching the sparsity is not reaching a winning ticket.",
  );
  lines.push("");
  const srows: string[][] = [];
  for (const c of ordered) {
    const s = a.speedUps.filter((x) => x.config === c.config && x.variant === c.variant && x.ugs !== null);
    if (s.length === 0) continue;
    const rounds = [...new Set(s.map((x) => (x.ugs!.reached ? `${x.ugs!.round}` : `>${x.ugs!.roundsRun}`)))].join(", ");
    const ugsSec = meanStd(s.map((x) => x.ugs!.seconds));
    const lower = s.some((x) => x.lowerBound);
    const sp = s.map((x) => x.speedup).sort((p, q) => p - q);
    const spb = s.map((x) => x.speedupToBest).filter(Number.isFinite).sort((p, q) => p - q);
    srows.push([
      `${dsLabel(c.dataset)} ${modelLabel(c.model)}`,
      `FastGLT ${familyLabel(c.family)}${variantTag(c.variant, anyV, c.family)} ${targetLabel(c)}`,
      c.wins ? "yes" : "no",
      `${pct(c.graphSparsity.mean)} / ${pct(c.weightSparsity.mean)}`,
      accPm(meanStd(s.map((x) => x.testAccuracy))),
      `${secsPm(meanStd(s.map((x) => x.fastgltSeconds)))} (${secsPm(meanStd(s.map((x) => x.fastgltSecondsToBest ?? NaN)))})`,
      fmtEpochs(meanStd(s.map((x) => x.fastgltEpochs))),
      rounds,
      `${lower ? "> " : ""}${secsPm(ugsSec)}`,
      accPm(meanStd(s.map((x) => x.ugs!.testAccuracy))),
      `${lower ? "≥ " : ""}${fmt.ratio(sp[0])}${sp.length > 1 ? ` – ${fmt.ratio(sp[sp.length - 1])}` : ""}`,
      spb.length ? `${lower ? "≥ " : ""}${fmt.ratio(spb[0])}${spb.length > 1 ? ` – ${fmt.ratio(spb[spb.length - 1])}` : ""}` : "—",
    ]);
  }
  lines.push(srows.length ? markdownTable([{ header: "dataset / model", align: "left" }, { header: "FastGLT configuration", align: "left" }, { header: "wins", align: "left" }, "ticket graph / weight sp.", "FastGLT test acc.", "FastGLT s (to best)", "FastGLT epochs", "UGS round reaching it", "UGS s to there", "UGS test acc. there", "speed-up (min – max over seeds)", "to best"], srows) : "(no FastGLT run with a same-seed UGS run)");
  lines.push("");

  // ---- FastGLT detail
  lines.push("## FastGLT: every configuration");
  lines.push("");
  lines.push("One row per (dataset, model, family, variant, targets); mean ± std over the seeds; ★ = the paper's README target. *per seed*: test accuracy per seed, ✓ when ≥ the dense mean.");
  lines.push("");
  const frows = ordered.map((c) => [
    `${dsLabel(c.dataset)} ${modelLabel(c.model)}`,
    `${familyLabel(c.family)}${variantTag(c.variant, anyV, c.family)}`,
    `${targetLabel(c)}${c.isDefaultTarget ? " ★" : ""}${c.allMeetTarget ? "" : " (target not met)"}`,
    graphSp(c.graphSparsity, c.graphSparsityWithSelfLoops),
    pct(c.weightSparsity.mean),
    `${pct(c.bar.mean)}${c.bar.missingSeeds.length ? ` (no dense run for seed ${c.bar.missingSeeds.join(", ")})` : ""}`,
    accPm(c.accuracy),
    c.perSeed.map((p) => `${p.seed}: ${pct(p.testAccuracy)}${p.wins ? " ✓" : ""}`).join(", "),
    c.wins ? "**yes**" : "no",
    `${secsPm(c.trainingSeconds)} (${secsPm(c.secondsToBest)})`,
    fmtEpochs(c.epochs),
    quotedFor(c),
  ]);
  lines.push(frows.length ? markdownTable([{ header: "dataset / model", align: "left" }, { header: "family", align: "left" }, { header: "target", align: "left" }, "graph sp.", "weight sp.", "dense mean (bar)", "test acc.", { header: "per seed", align: "left" }, { header: "wins", align: "left" }, "s per run (to best)", "epochs", { header: "quoted (PyTorch, the issue)", align: "left" }], frows) : "(no FastGLT runs)");
  lines.push("");

  // ---- UGS detail
  for (const u of a.ugs) {
    lines.push(`## UGS path: ${dsLabel(u.dataset)} ${modelLabel(u.model)} (seeds ${u.seeds.join(", ")}; dense mean ${pct(u.bar.mean)})`);
    lines.push("");
    lines.push(
      markdownTable(
        ["round", "graph sp.", "weight sp.", "test acc.", { header: "per seed", align: "left" }, { header: "wins", align: "left" }, "cumulative s", "epochs"],
        u.rounds.map((r) => [String(r.round), graphSp(r.graphSparsity, r.graphSparsityWithSelfLoops), pct(r.weightSparsity.mean), accPm(r.accuracy), r.perSeed.map((p) => `${p.seed}: ${pct(p.testAccuracy)}${p.wins ? " ✓" : ""}`).join(", "), r.wins ? "**yes**" : "no", secsPm(r.seconds), String(r.epochs)]),
      ),
    );
    lines.push("");
  }

  // ---- dense
  lines.push("## Dense baselines (the bar)");
  lines.push("");
  const drows: string[][] = [];
  for (const { dataset, model } of pairs) {
    const ds = f.dense.filter((d) => d.dataset === dataset && d.model === model && d.status === "done").sort((x, y) => x.seed - y.seed);
    if (ds.length === 0) continue;
    drows.push([`${dsLabel(dataset)} ${modelLabel(model)}`, accPm(meanStd(ds.map((d) => d.testAccuracy))), ds.map((d) => `${d.seed}: ${pct(d.testAccuracy)} (epoch ${d.bestEpoch})`).join(", "), `${ds[0].epochs} epochs, lr ${ds[0].lr}, wd ${ds[0].weightDecay}, hidden ${ds[0].hidden}`, secsPm(meanStd(ds.map((d) => d.seconds)))]);
  }
  lines.push(drows.length ? markdownTable([{ header: "dataset / model", align: "left" }, "test acc. at best val", { header: "per seed", align: "left" }, { header: "training", align: "left" }, "s per run"], drows) : "(no dense runs)");
  lines.push("");

  // ---- plots
  const plots = pairs.filter((p) => a.ugs.some((u) => u.dataset === p.dataset && u.model === p.model) || a.configs.some((c) => c.dataset === p.dataset && c.model === p.model));
  if (plots.length) {
    lines.push("## Plots");
    lines.push("");
    lines.push("Test accuracy minus the dense mean (percentage points; 0 = the winning bar) against weight sparsity and against graph sparsity: FastGLT configurations (means over seeds) and UGS's round path.");
    lines.push("");
    for (const p of plots) lines.push(`![${dsLabel(p.dataset)} ${modelLabel(p.model)}](${names.svg(p.dataset, p.model)})`);
    lines.push("");
  }

  // ---- errors
  const errs = [...f.dense.filter((d) => d.status !== "done").map((d) => `${d.dataset} ${d.model} dense seed ${d.seed}: ${d.error}`), ...f.runs.filter((r) => r.status !== "done").map((r) => `\`${r.command}\`: ${r.status}${r.error ? ` — ${r.error}` : ""}`)];
  if (errs.length) {
    lines.push("## Cells that did not finish");
    lines.push("");
    for (const e of dedupe(errs)) lines.push(`- ${e}`);
    lines.push("");
  }

  // ---- commands
  lines.push("## Commands");
  lines.push("");
  lines.push("Each configuration is this `fastglt prune` command (here seed 0 or the first seed run), once per seed; the bench calls the same code in-process (`parsePruneArgs` + `runPrune` from cli/prune.ts).");
  lines.push("");
  lines.push("```sh");
  const seen = new Set<string>();
  for (const v of [null, ...variants.filter((x) => x !== null)]) {
    let first = true;
    for (const r of f.runs) {
      const k = `${variantOf(r) ?? ""}\u0000${r.config}`;
      if (variantOf(r) !== v || seen.has(k)) continue;
      seen.add(k);
      if (first && v !== null) lines.push(`# variant ${v}`);
      first = false;
      lines.push(r.command);
    }
  }
  lines.push("```");
  lines.push("");
  return lines.join("\n");
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

function fmtEpochs(m: MeanStd): string {
  if (m.n === 0) return "—";
  return m.std === 0 ? String(Math.round(m.mean)) : `${Math.round(m.mean)} ± ${Math.round(m.std)}`;
}

function quotedFor(c: ConfigSummary): string {
  const q = ISSUE_PYTORCH.find(
    (x) => x.method === "fastglt" && x.dataset === c.dataset && x.model === c.model && x.family === c.family && (x.graph ?? null) === c.targetGraph && (x.weight ?? null) === c.targetWeight,
  );
  return q ? `${pct(q.accuracy.mean)} ± ${(100 * (q.accuracy.std ?? 0)).toFixed(1)}${q.seconds !== null ? `, ${q.seconds} s` : ""}` : "";
}

// ------------------------------------------------------------------------------------------------
// plots

/** Variants' colours in the plots (not the paper's blue / green or UGS's red). */
const VARIANT_COLORS = ["#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];

/** Two plots side by side (vs weight sparsity, vs graph sparsity) for one (dataset, model). */
export function renderSvg(a: Analysis, dataset: string, model: string): string {
  const allVariants = variantsOf(a.configs);
  const anyV = allVariants.some((v) => v !== null);
  const cs = a.configs.filter((c) => c.dataset === dataset && c.model === model);
  const u = a.ugs.find((x) => x.dataset === dataset && x.model === model);
  const bar = cs[0]?.bar.mean ?? u?.bar.mean ?? NaN;
  const d = (acc: number, b: number) => 100 * (acc - b);
  const panel = (axis: "weight" | "graph"): string => {
    const series: Series[] = [];
    const fam = (f: Family, variant: string | null, name: string, color: string, dashed = false) => {
      const pts = cs
        .filter((c) => c.family === f && c.variant === variant)
        .map((c) => [100 * (axis === "weight" ? c.weightSparsity.mean : c.graphSparsity.mean), d(c.accuracy.mean, c.bar.mean)] as [number, number])
        .sort((p, q) => p[0] - q[0]);
      if (pts.length) series.push({ name: `${name}${variantTag(variant, anyV, f)}`, points: pts, color, dashed });
    };
    // one colour per variant, the same in every plot (the paper's settings: blue, joint green)
    for (const [i, v] of allVariants.entries()) {
      const color = v === null ? "#1f77b4" : VARIANT_COLORS[(i - (allVariants[0] === null ? 1 : 0)) % VARIANT_COLORS.length];
      fam(axis, v, `FastGLT ${axis}`, color);
      fam("both", v, "FastGLT joint", v === null ? "#2ca02c" : color, true);
    }
    if (u) series.push({ name: "UGS rounds", points: u.rounds.map((r) => [100 * (axis === "weight" ? r.weightSparsity.mean : r.graphSparsity.mean), d(r.accuracy.mean, u.bar.mean)] as [number, number]), color: "#d62728" });
    const xs = series.flatMap((s) => s.points.map((p) => p[0]));
    const hi = xs.length ? Math.max(...xs) : 100;
    return linePlot(series.length ? series : [{ name: "(no runs)", points: [[0, 0]] }], {
      title: `${dsLabel(dataset)} ${modelLabel(model)}: accuracy vs ${axis} sparsity`,
      xLabel: `${axis} sparsity (%)${axis === "graph" ? ", graph edges without self-loops" : ""}`,
      yLabel: "test acc. − dense mean (pp)",
      xTicks: niceTicks(0, Math.max(hi, 1)),
      hLines: [{ y: 0, label: `dense mean ${pct(bar)}` }],
    });
  };
  const W = 640;
  const left = panel("weight").replace("<svg ", '<svg x="0" y="0" ');
  const right = panel("graph").replace("<svg ", `<svg x="${W}" y="0" `);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="400" viewBox="0 0 ${2 * W} 400">\n${left}${right}</svg>\n`;
}
