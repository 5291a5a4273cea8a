/**
 * What bench/ticket-search.ts runs: target lists from its flags, the cells (dense baselines,
 * FastGLT configurations, UGS paths) and the `fastglt prune` argv of each. Pure: no training.
 */
import type { Family, Method } from "./ticket-search-analysis.js";

/** Per model: explicit targets, the paper's default only, or no runs of that family. */
export type TargetChoice = number[] | "default" | "none";
/** "*" applies to every model without an entry of its own. */
export type TargetSpec = Record<string, TargetChoice>;
export type JointChoice = [number, number][] | "default" | "none";
export type JointSpec = Record<string, JointChoice>;

function sparsity(text: string, flag: string): number {
  const x = Number(text);
  if (text.trim() === "" || !(x > 0 && x < 1)) throw new Error(`--${flag}: "${text}" is not a sparsity in (0, 1)`);
  return x;
}

function perModel<T>(text: string, flag: string, item: (s: string) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const part of text.split(";").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const model = eq < 0 ? "*" : part.slice(0, eq).trim().toLowerCase();
    if (model === "") throw new Error(`--${flag}: empty model name in "${part}"`);
    if (model in out) throw new Error(`--${flag}: ${model === "*" ? "more than one list for all models" : `model ${model} given twice`}`);
    out[model] = item(eq < 0 ? part : part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * `0.9,0.93` (every model), or per model `gcn=0.9,0.93;gin=default;gat=none`. The paper's default
 * target of the family is always run too, unless the choice is `none`.
 */
export function parseTargets(text: string, flag: string): TargetSpec {
  return perModel<TargetChoice>(text, flag, (s) => (s === "default" || s === "none" ? s : s.split(",").map((x) => sparsity(x, flag))));
}

/** Joint (graph + weight) targets as graph:weight pairs: `0.35:0.9,0.35:0.93`, per model as above. */
export function parseJointTargets(text: string, flag: string): JointSpec {
  return perModel<JointChoice>(text, flag, (s) => {
    if (s === "default" || s === "none") return s;
    return s.split(",").map((pair) => {
      const [g, w, extra] = pair.split(":");
      if (w === undefined || extra !== undefined) throw new Error(`--${flag}: "${pair}" is not graph:weight`);
      return [sparsity(g, flag), sparsity(w, flag)] as [number, number];
    });
  });
}

/** UGS rounds: `20` for every model, or per model `gcn=20;gin=20;gat=5` (0: no UGS for that model). */
export function parseRounds(text: string, flag: string): Record<string, number> {
  return perModel<number>(text, flag, (s) => {
    const n = Number(s);
    if (s.trim() === "" || !Number.isInteger(n) || n < 0) throw new Error(`--${flag}: "${s}" is not a number of rounds (an integer ≥ 0)`);
    return n;
  });
}

export function choiceFor<T>(spec: Record<string, T>, model: string, fallback: T): T {
  return spec[model] ?? spec["*"] ?? fallback;
}

/** Sorted, de-duplicated (to 1e-9) targets: the explicit list plus the default, or [] for none. */
export function targetsWithDefault(choice: TargetChoice, dflt: number | null): number[] {
  if (choice === "none") return [];
  const xs = [...(choice === "default" ? [] : choice), ...(dflt === null ? [] : [dflt])];
  return xs.sort((a, b) => a - b).filter((x, i, a) => i === 0 || Math.abs(x - a[i - 1]) > 1e-9);
}

/**
 * Ladders of the full bench. The GAT (8 heads × 512) takes ~1.3–2.6 s per Cora epoch here, ~15–25 min
 * per FastGLT run: only the README targets by default, and UGS with few rounds (DEFAULT_UGS_ROUNDS).
 */
export const DEFAULT_WEIGHT_TARGETS = "gcn=0.9,0.93,0.95,0.98;gin=0.8,0.9,0.95,0.98;gat=default";
export const DEFAULT_GRAPH_TARGETS = "gcn=0.2,0.3,0.35,0.4;gin=0.15,0.25,0.35,0.45;gat=default";
export const DEFAULT_UGS_ROUNDS = "20;gat=3";
export const DEFAULT_JOINT_TARGETS = "gcn=0.35:0.9,0.35:0.93;gin=none;gat=none";
export const QUICK_WEIGHT_TARGETS = "0.5";
export const QUICK_GRAPH_TARGETS = "0.1";
export const QUICK_JOINT_TARGETS = "gcn=default;gin=none;gat=none";

/** Tiny schedules of --quick (smoke run: the numbers mean nothing). */
export const QUICK = {
  hidden: 16,
  denseEpochs: 20,
  ugsRounds: 2,
  fastglt: ["--pretrain-epochs", "3", "--denoise-epochs", "12", "--retrain-epochs", "6", "--delta", "3", "--acc-n", "2"],
  ugs: ["--mask-epochs", "5", "--fix-epochs", "5"],
};

export interface FastgltCell {
  kind: "fastglt";
  dataset: string;
  model: string;
  family: Family;
  targetGraph: number | null;
  targetWeight: number | null;
  isDefaultTarget: boolean;
}
export interface UgsCell {
  kind: "ugs";
  dataset: string;
  model: string;
  rounds: number;
}
export interface DenseCell {
  kind: "dense";
  dataset: string;
  model: string;
}
export type Cell = FastgltCell | UgsCell | DenseCell;

/** The paper's defaults of a (dataset, model): per family the README target, null when unknown. */
export type DefaultTargets = (dataset: string, model: string) => { graph: number | null; weight: number | null };

export interface PlanOptions {
  datasets: string[];
  models: string[];
  methods: Method[];
  families: Family[];
  weightTargets: TargetSpec;
  graphTargets: TargetSpec;
  jointTargets: JointSpec;
  /** per model ("*" for the others); 0 = no UGS runs for that model */
  ugsRounds: Record<string, number>;
  defaults: DefaultTargets;
}

/**
 * Order: every dense baseline first (they set the bar and calibrate the time estimates); then per
 * (dataset, model) the FastGLT configurations at the papers' default targets, the UGS path, and the
 * rest of the FastGLT ladder — so a bench stopped early has the headline cells.
 */
export function planCells(o: PlanOptions): Cell[] {
  const dense: Cell[] = [];
  const rest: Cell[] = [];
  for (const dataset of o.datasets) {
    for (const model of o.models) {
      dense.push({ kind: "dense", dataset, model });
      const d = o.defaults(dataset, model);
      const fg: FastgltCell[] = [];
      if (o.methods.includes("fastglt")) {
        const near = (a: number | null, b: number | null) => a !== null && b !== null && Math.abs(a - b) < 1e-9;
        if (o.families.includes("weight")) {
          for (const w of targetsWithDefault(choiceFor<TargetChoice>(o.weightTargets, model, "default"), d.weight)) {
            fg.push({ kind: "fastglt", dataset, model, family: "weight", targetGraph: null, targetWeight: w, isDefaultTarget: near(w, d.weight) });
          }
        }
        if (o.families.includes("graph")) {
          for (const g of targetsWithDefault(choiceFor<TargetChoice>(o.graphTargets, model, "default"), d.graph)) {
            fg.push({ kind: "fastglt", dataset, model, family: "graph", targetGraph: g, targetWeight: null, isDefaultTarget: near(g, d.graph) });
          }
        }
        if (o.families.includes("both")) {
          const j = choiceFor<JointChoice>(o.jointTargets, model, "none");
          const pairs: [number, number][] = j === "none" ? [] : j === "default" ? (d.graph !== null && d.weight !== null ? [[d.graph, d.weight]] : []) : j;
          for (const [g, w] of pairs) fg.push({ kind: "fastglt", dataset, model, family: "both", targetGraph: g, targetWeight: w, isDefaultTarget: near(g, d.graph) && near(w, d.weight) });
        }
      }
      rest.push(...fg.filter((c) => c.isDefaultTarget));
      const rounds = choiceFor<number>(o.ugsRounds, model, 20);
      if (o.methods.includes("ugs") && rounds > 0) rest.push({ kind: "ugs", dataset, model, rounds });
      rest.push(...fg.filter((c) => !c.isDefaultTarget));
    }
  }
  return [...dense, ...rest];
}

export interface ArgvOptions {
  seed: number;
  dataDir: string | null;
  outDir: string;
  hidden: number | null;
  backend: string;
  /** extra `fastglt prune` flags for FastGLT / UGS runs (the quick schedules, user additions) */
  extraFastglt: string[];
  extraUgs: string[];
}

const fmtTarget = (x: number) => String(Number(x.toPrecision(6)));

/** The `fastglt prune` argv of one run of a FastGLT or UGS cell. */
export function pruneArgv(c: FastgltCell | UgsCell, o: ArgvOptions): string[] {
  const a = ["--method", c.kind, "--prune", c.kind === "ugs" ? "both" : c.family, "--model", c.model, "--dataset", c.dataset];
  if (c.kind === "fastglt") {
    if (c.targetGraph !== null) a.push("--target-graph", fmtTarget(c.targetGraph));
    if (c.targetWeight !== null) a.push("--target-weight", fmtTarget(c.targetWeight));
  } else a.push("--rounds", String(c.rounds));
  a.push("--seed", String(o.seed));
  if (o.hidden !== null) a.push("--hidden", String(o.hidden));
  if (o.backend !== "auto") a.push("--backend", o.backend);
  a.push(...(c.kind === "fastglt" ? o.extraFastglt : o.extraUgs));
  if (o.dataDir !== null) a.push("--data-dir", o.dataDir);
  a.push("--out", o.outDir);
  return a;
}

/** The configuration key of a run: its argv without the seed, the data folder and the output folder. */
export function configKey(argv: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--seed" || argv[i] === "--data-dir" || argv[i] === "--out") i++;
    else out.push(argv[i]);
  }
  return out.join(" ");
}

/** A file-name-safe id of a cell (its runs' output folders are <id>-seed<k>). */
export function cellId(c: Cell): string {
  const pct = (x: number) => String(Math.round(x * 1000) / 10);
  if (c.kind === "dense") return `${c.dataset}-${c.model}-dense`;
  if (c.kind === "ugs") return `${c.dataset}-${c.model}-ugs-r${c.rounds}`;
  const t = [c.targetGraph !== null ? `g${pct(c.targetGraph)}` : "", c.targetWeight !== null ? `w${pct(c.targetWeight)}` : ""].filter(Boolean).join("-");
  return `${c.dataset}-${c.model}-fastglt-${c.family}-${t}`.replace(/[^A-Za-z0-9._-]/g, "_");
}

export function describeCell(c: Cell): string {
  const pct = (x: number) => `${Number((x * 100).toFixed(1))}%`;
  if (c.kind === "dense") return `${c.dataset} ${c.model} dense`;
  if (c.kind === "ugs") return `${c.dataset} ${c.model} UGS ${c.rounds} rounds`;
  const t = [c.targetGraph !== null ? `graph ${pct(c.targetGraph)}` : "", c.targetWeight !== null ? `weight ${pct(c.targetWeight)}` : ""].filter(Boolean).join(" + ");
  return `${c.dataset} ${c.model} FastGLT ${c.family} ${t}${c.isDefaultTarget ? " (paper's target)" : ""}`;
}

/** Shell-quotes an argument when needed (for the printed command lines). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command a user would type for a run (the bench's output folder left out). */
export function commandOf(argv: readonly string[]): string {
  const a: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out") i++;
    else a.push(shellQuote(argv[i]));
  }
  return `fastglt prune ${a.join(" ")}`;
}
