/**
 * `fastglt run model.glt`: loads a ticket in the WASM runtime and prints predictions, for every
 * node or for the nodes given with --nodes (a receptive-field query). Any problem with the model
 * file, the features file or the query is one line on stderr and a non-zero exit (main.ts).
 */
import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import { parseNpy } from "../trainer/data/npy.js";
import { loadModel, ModelError, TicketFormatError, type GltModel, type Profile } from "../runtime-wasm/host/index.js";
import { helpText, parseFlags, UsageError, type FlagSpec } from "./args.js";

export const RUN_FLAGS = {
  nodes: { type: "string", help: "node ids to predict, e.g. 1,2,3 or 0-9,42 (default: all nodes)" },
  top: { type: "boolean", default: false, help: "print the top class and its softmax score per node instead of the logits" },
  features: { type: "string", help: "node features, .npy or .csv: numNodes rows, or one row per --nodes entry" },
  profile: { type: "boolean", default: false, help: "show time and executed MACs per layer (median of 5 profiled runs)" },
  json: { type: "boolean", default: false, help: "print one JSON object on stdout" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

const SUMMARY = "Run a .glt ticket in the WASM runtime and print its predictions.";

/** Largest features file read (bytes). */
const MAX_FEATURES_BYTES = 2 ** 31 - 1;

export interface Prediction {
  node: number;
  class: number;
  score: number;
  logits?: number[];
}

/** Parses "1,2,3" / "0-9,42" into node ids. */
export function parseNodeList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(",")) {
    const s = part.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(s);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new UsageError(`--nodes: range "${s}" runs backwards`);
      if (b - a >= 10_000_000) throw new UsageError(`--nodes: range "${s}" is too long`);
      for (let v = a; v <= b; v++) ids.push(v);
    } else if (/^\d+$/.test(s)) {
      ids.push(Number(s));
    } else {
      throw new UsageError(`--nodes: "${s}" is not a node id (expected e.g. 1,2,3 or 0-9)`);
    }
  }
  return ids;
}

/** A features file as a dense rows × cols matrix (.npy 2-D, or .csv/.tsv/.txt numeric rows). */
export function readFeaturesFile(path: string): { rows: number; cols: number; data: Float32Array } {
  let bytes: Uint8Array;
  try {
    const size = statSync(path).size;
    if (size > MAX_FEATURES_BYTES) throw new UsageError(`features file ${path} is ${size} bytes, too large`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read features file ${path}: ${describeFsError(e)}`);
  }
  const ext = extname(path).toLowerCase();
  if (ext === ".npy") {
    const a = parseNpy(bytes, path);
    if (a.shape.length !== 2 && a.shape.length !== 1) throw new UsageError(`${path}: features must be a 2-D array (rows × features), got shape (${a.shape.join(", ")})`);
    const [rows, cols] = a.shape.length === 2 ? a.shape : [1, a.shape[0]];
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) {
      const v = Math.fround(Number(a.data[i]));
      if (!Number.isFinite(v)) throw new UsageError(`${path}: row ${Math.floor(i / cols)}, column ${i % cols} is ${Number(a.data[i])} (features must be finite float32 numbers)`);
      data[i] = v;
    }
    return { rows, cols, data };
  }
  if (ext !== ".csv" && ext !== ".tsv" && ext !== ".txt") throw new UsageError(`--features: ${path} is neither .npy nor .csv/.tsv/.txt`);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const lines = text.split(/\r?\n/);
  const rowsData: number[][] = [];
  const NUM = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  lines.forEach((line, i) => {
    const l = line.trim();
    if (l === "" || l.startsWith("#")) return;
    const fields = l.split(/\s*[,\t;]\s*|\s+/);
    if (rowsData.length === 0 && fields.some((f) => !NUM.test(f))) {
      if (fields.every((f) => !NUM.test(f))) return; // a header line
    }
    const row = fields.map((f, c) => {
      if (!NUM.test(f)) throw new UsageError(`${path}: line ${i + 1}, column ${c + 1}: "${f.slice(0, 20)}" is not a number`);
      const v = Math.fround(Number(f));
      if (!Number.isFinite(v)) throw new UsageError(`${path}: line ${i + 1}, column ${c + 1}: ${f} overflows float32`);
      return v;
    });
    if (rowsData.length > 0 && row.length !== rowsData[0].length) {
      throw new UsageError(`${path}: line ${i + 1} has ${row.length} values, the first row has ${rowsData[0].length}`);
    }
    rowsData.push(row);
  });
  if (rowsData.length === 0) throw new UsageError(`${path}: no feature rows`);
  const cols = rowsData[0].length;
  const data = new Float32Array(rowsData.length * cols);
  rowsData.forEach((r, i) => data.set(r, i * cols));
  return { rows: rowsData.length, cols, data };
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "no such file";
  if (err.code === "EISDIR") return "it is a directory";
  if (err.code === "EACCES") return "permission denied";
  return oneLine(err.message ?? String(e));
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

/** Top class and its softmax probability per row. */
export function topClasses(logits: Float32Array, numClasses: number): { cls: Int32Array; score: Float64Array } {
  const rows = numClasses === 0 ? 0 : logits.length / numClasses;
  const cls = new Int32Array(rows);
  const score = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const v = logits[r * numClasses + c];
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[r * numClasses + c] - max);
    cls[r] = best;
    score[r] = 1 / sum;
  }
  return { cls, score };
}

async function openModel(file: string): Promise<GltModel> {
  let bytes: Uint8Array;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UsageError(`${file} is a directory, not a .glt file`);
    if (st.size > 2 ** 31) throw new UsageError(`${file} is ${st.size} bytes, over the 2 GiB limit of a .glt file`);
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${describeFsError(e)}`);
  }
  try {
    return await loadModel(bytes);
  } catch (e) {
    if (e instanceof TicketFormatError || e instanceof ModelError) throw new Error(`${file}: ${oneLine(e.message)}`);
    throw e;
  }
}

/** Median profile over `runs` profiled calls: per layer and step, median time; MACs are the same every run. */
function medianProfile(profiles: Profile[]): Profile {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const p0 = profiles[0];
  const layers = p0.layers.map((l, i) => ({
    ...l,
    ms: med(profiles.map((p) => p.layers[i].ms)),
    steps: l.steps.map((s, j) => ({ ...s, ms: med(profiles.map((p) => p.layers[i].steps[j].ms)) })),
  }));
  return { ...p0, ms: med(profiles.map((p) => p.ms)), kernelMs: med(profiles.map((p) => p.kernelMs)), layers };
}

function fmtMacs(m: number): string {
  if (m >= 1e9) return `${(m / 1e9).toFixed(2)} G`;
  if (m >= 1e6) return `${(m / 1e6).toFixed(2)} M`;
  if (m >= 1e3) return `${(m / 1e3).toFixed(1)} k`;
  return String(m);
}

function profileTable(p: Profile): string {
  const rows: string[][] = [["layer", "rows", "kernels", "time ms", "executed MACs", "ticket MACs"]];
  for (const l of p.layers) {
    rows.push([String(l.layer), String(l.rows), l.steps.map((s) => s.kernel.replace(/^f32_/, "")).join(" + "), l.ms.toFixed(3), fmtMacs(l.executedMacs), fmtMacs(l.ticketMacs)]);
  }
  rows.push(["total", "", `${p.input} input${p.nodes === null ? ", full graph" : `, query of ${p.nodes} node(s)`}`, p.kernelMs.toFixed(3), fmtMacs(p.executedMacs), fmtMacs(p.ticketMacs)]);
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((x, c) => (c >= 3 ? x.padStart(w[c]) : x.padEnd(w[c]))).join("  ").trimEnd());
  lines.push(`call ${p.ms.toFixed(3)} ms (staging and read-back included); dense model ${fmtMacs(p.denseMacs)} MACs`);
  return lines.join("\n");
}

export async function runCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, RUN_FLAGS);
  if (values.help) {
    console.log(helpText("run model.glt", SUMMARY, RUN_FLAGS));
    return;
  }
  if (positionals.length === 0) throw new UsageError("missing the model file: fastglt run model.glt [--nodes 1,2,3] [--top] [--json]");
  if (positionals.length > 1) throw new UsageError(`expected one model file, got ${positionals.length}: ${positionals.join(" ")}`);
  const file = positionals[0];
  const nodes = typeof values.nodes === "string" ? parseNodeList(values.nodes) : null;
  const model = await openModel(file);
  const n = model.numNodes;
  const C = model.numClasses;
  const f0 = model.numFeatures;
  if (nodes) {
    const bad = nodes.find((v) => v >= n);
    if (bad !== undefined) throw new UsageError(`--nodes: node ${bad} is out of range: ${file} has ${n} nodes (0 … ${n - 1})`);
  }
  let features: { rows: number; cols: number; data: Float32Array } | null = null;
  if (typeof values.features === "string") {
    features = readFeaturesFile(values.features);
    if (features.cols !== f0) throw new UsageError(`${values.features}: ${features.cols} features per row, the model reads ${f0}`);
    const perQuery = nodes !== null && features.rows === nodes.length;
    if (!perQuery && features.rows !== n) {
      throw new UsageError(`${values.features}: ${features.rows} rows; expected ${n} (one per node)${nodes ? ` or ${nodes.length} (one per --nodes entry)` : ""}`);
    }
  }

  if (!features && !model.hasFeatures) throw new UsageError(`${file} carries no node features: pass them with --features file.npy|csv`);

  // predictions
  const ids = nodes ?? Array.from({ length: n }, (_, v) => v);
  const perQuery = nodes !== null && features !== null && features.rows === nodes.length;
  const call = (profile: boolean): Float32Array => {
    if (nodes === null) return model.run({ features: features ?? undefined, profile });
    if (features === null || perQuery) return model.predict(nodes, { features: features ?? undefined, profile });
    // features for every node, predictions for some: a full run
    const all = model.run({ features, profile });
    const out = new Float32Array(nodes.length * C);
    nodes.forEach((v, p) => out.set(all.subarray(v * C, v * C + C), p * C));
    return out;
  };
  let logits: Float32Array;
  try {
    logits = call(false);
  } catch (e) {
    if (e instanceof ModelError) throw new UsageError(oneLine(e.message));
    throw e;
  }
  let profile: Profile | null = null;
  if (values.profile) {
    const runs: Profile[] = [];
    for (let i = 0; i < 5; i++) {
      call(true);
      runs.push(model.lastProfile!);
    }
    profile = medianProfile(runs);
  }
  const { cls, score } = topClasses(logits, C);
  const top = values.top === true;

  if (values.json) {
    const predictions: Prediction[] = ids.map((v, p) => ({
      node: v,
      class: cls[p],
      score: score[p],
      ...(top ? {} : { logits: Array.from(logits.subarray(p * C, p * C + C)) }),
    }));
    const report: Record<string, unknown> = {
      model: {
        file,
        dataset: model.meta.dataset,
        nodes: n,
        features: f0,
        classes: C,
        graphSparsity: model.meta.graphSparsity,
        weightSparsity: model.meta.weightSparsity,
        macsDense: model.meta.macsDense,
        macsTicket: model.meta.macsTicket,
      },
      query: nodes === null ? "all" : "nodes",
      predictions,
    };
    if (profile) {
      const { logits: _drop, ...rest } = profile;
      void _drop;
      report.profile = rest;
    }
    console.log(JSON.stringify(report));
    return;
  }
  const lines: string[] = [];
  if (top) {
    lines.push("node\tclass\tscore");
    ids.forEach((v, p) => lines.push(`${v}\t${cls[p]}\t${score[p].toFixed(4)}`));
  } else {
    lines.push(`node\tlogits (classes 0 … ${C - 1})`);
    ids.forEach((v, p) => lines.push(`${v}\t${Array.from(logits.subarray(p * C, p * C + C), (x) => x.toFixed(4)).join(" ")}`));
  }
  if (profile) lines.push("", profileTable(profile));
  process.stdout.write(`${lines.join("\n")}\n`);
}
