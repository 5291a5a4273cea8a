import { readFile, stat } from "node:fs/promises";
import { readTicketFile, writeFileAtomic } from "../exporter/file.js";
import { MESSAGE_PASSING, ticketToOnnx, type MessagePassing } from "../exporter/onnx.js";
import { decodeTicket, encodeTicket, type EncodeOptions } from "../exporter/protobuf.js";
import { VALUE_ENCODINGS, type ValueEncoding } from "../exporter/quantize.js";
import { summarizeTicketBytes, type TicketByteSummary } from "../exporter/ticket-summary.js";
import { referenceForward, type FeatureInput } from "../runtime-wasm/host/reference.js";
import { compareLogitRows } from "../ticket/compare-logits.js";
import type { Ticket } from "../ticket/ticket.js";
import { accuracy as testAccuracy } from "../trainer/metrics.js";
import { helpText, numberFlag, parseFlags, UsageError, type FlagSpec } from "./args.js";

export const EXPORT_FLAGS = {
  onnx: { type: "string", help: "write the ticket as an ONNX model (opset 17/18) to this file" },
  "graph-as-input": { type: "boolean", default: false, help: "ONNX: edge list (edge_src, edge_dst, edge_coef) as model inputs instead of baked in" },
  "sparse-initializers": { type: "boolean", default: false, help: "ONNX: pruned weights as sparse initializers (a smaller file; ONNX Runtime densifies them on load)" },
  opset: { type: "string", default: "18", help: "ONNX opset: 17 or 18" },
  "message-passing": {
    type: "string",
    help: "ONNX: gather | scatter-elements | scatter-nd (default: gather; scatter-elements with --graph-as-input). scatter-nd is wrong in ONNX Runtime 1.30 with more than one intra-op thread",
  },
  out: { type: "string", help: "write the ticket as a .glt file again, stored as --weights / --coef / --features / --graph-indices say" },
  weights: { type: "string", help: ".glt: layer weights as f32 (lossless) | f16 | int8 (per-row scale) (default: f32)" },
  coef: { type: "string", help: ".glt: edge coefficients as f32 | f16 (default: f32)" },
  features: { type: "string", help: ".glt: node features as f32 | f16 | int8 | none (none: leave them out) (default: f32)" },
  "graph-indices": { type: "string", help: ".glt: edge sources as fixed (width) | delta (rows sorted by source, delta varints) (default: fixed)" },
  dataset: { type: "string", help: ".glt: also report test accuracy before/after on this dataset (as for `pipeline`)" },
  "data-dir": { type: "string", help: "folder with the Planetoid ind.* files (else $FASTGLT_DATA, else download)" },
  seed: { type: "string", default: "0", help: "seed of a synthetic --dataset (and of a user graph's split)" },
  "no-normalise": { type: "boolean", default: false, help: "keep the --dataset's raw feature values (as `pipeline --no-normalise`)" },
  json: { type: "boolean", default: false, help: ".glt: print the report as one JSON object" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

const SUMMARY = [
  "Convert a .glt ticket to an ONNX model that ONNX Runtime runs, or re-encode it as a smaller .glt:",
  "  fastglt export model.glt --onnx model.onnx",
  "  fastglt export model.glt --out small.glt --weights int8 [--coef f16] [--features int8] [--graph-indices delta] [--dataset cora]",
  "The .glt form reports the file size before and after and what the rounding did to the model: how many",
  "nodes keep their prediction and the largest row-relative logit change (max over nodes of",
  "max_c |new − old| / max_c |old|), from the plain forward pass on the ticket's features; with --dataset",
  "also the test accuracy before and after.",
].join("\n");

const GLT_ONLY = ["weights", "coef", "features", "graph-indices", "dataset", "data-dir", "json"] as const;
const ONNX_ONLY = ["graph-as-input", "sparse-initializers", "message-passing"] as const;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, EXPORT_FLAGS);
  if (values.help) {
    console.log(helpText("export model.glt", SUMMARY, EXPORT_FLAGS));
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`expected one .glt file, got ${positionals.length} arguments (usage: fastglt export model.glt --onnx model.onnx | --out small.glt --weights int8)`);
  }
  const onnx = values.onnx;
  const out = values.out;
  if (onnx !== undefined && out !== undefined) throw new UsageError("give either --onnx FILE or --out FILE, not both");
  if (out !== undefined) {
    if (typeof out !== "string" || out === "") throw new UsageError("--out needs a file name");
    for (const k of ONNX_ONLY) if (values[k] !== undefined && values[k] !== false) throw new UsageError(`--${k} is for ONNX export (--onnx), not for --out`);
    return exportGlt(positionals[0], out, values);
  }
  if (typeof onnx !== "string" || onnx === "") throw new UsageError("--onnx FILE is required (or --out FILE to write a re-encoded .glt)");
  for (const k of GLT_ONLY) if (values[k] !== undefined && values[k] !== false) throw new UsageError(`--${k} is for .glt export (--out), not for --onnx`);
  return exportOnnx(positionals[0], onnx, values);
}

type Values = Record<keyof typeof EXPORT_FLAGS, string | boolean | undefined>;

async function exportOnnx(gltPath: string, onnxPath: string, values: Values): Promise<void> {
  const opset = numberFlag(values.opset, "opset", { integer: true });
  if (opset !== 17 && opset !== 18) throw new UsageError(`--opset must be 17 or 18, got ${opset}`);
  const mp = values["message-passing"];
  if (mp !== undefined && !MESSAGE_PASSING.includes(mp as MessagePassing)) {
    throw new UsageError(`--message-passing must be one of ${MESSAGE_PASSING.join(", ")}, got "${String(mp)}"`);
  }
  const graphAsInput = values["graph-as-input"] === true;
  if (mp === "gather" && graphAsInput) throw new UsageError("--message-passing gather bakes the graph in: it cannot be combined with --graph-as-input");

  const ticket = await readTicketFile(gltPath);
  const bytes = ticketToOnnx(ticket, {
    opset,
    graphAsInput,
    sparseInitializers: values["sparse-initializers"] === true,
    ...(mp !== undefined ? { messagePassing: mp as MessagePassing } : {}),
  });
  await writeFileAtomic(onnxPath, bytes);
  const gltBytes = (await stat(gltPath)).size;
  console.log(
    `wrote ${onnxPath}: ${bytes.length} bytes, opset ${opset}, message passing ${mp ?? (graphAsInput ? "scatter-elements" : "gather")}` +
      `${graphAsInput ? ", edge list as inputs" : ""} (the .glt, ${gltBytes} bytes, is ${(bytes.length / gltBytes).toFixed(1)}× smaller)`,
  );
}

function choice<T extends string>(value: string | boolean | undefined, name: string, allowed: readonly T[], def: T): T {
  if (value === undefined) return def;
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new UsageError(`--${name} must be ${allowed.slice(0, -1).join(", ")} or ${allowed[allowed.length - 1]}, got "${String(value)}"`);
  }
  return value as T;
}

/** What `fastglt export --out` reports (also its --json output). */
export interface GltExportReport {
  input: { file: string; bytes: number; formatVersion: number };
  output: { file: string; bytes: number; formatVersion: number };
  /** input bytes / output bytes */
  ratio: number;
  options: { weights: ValueEncoding; coef: "f32" | "f16"; features: ValueEncoding | "none"; graphIndices: "fixed" | "delta" };
  /** bytes per part, before and after */
  parts: { part: string; before: number; after: number; stored: string }[];
  /** null when neither the ticket nor --dataset has features */
  accuracy: {
    features: "ticket" | "dataset";
    nodes: number;
    samePredictions: number;
    agreement: number;
    maxRelativeLogitChange: number;
    test: { dataset: string; nodes: number; before: number; after: number } | null;
  } | null;
}

async function exportGlt(gltPath: string, outPath: string, values: Values): Promise<void> {
  const weights = choice(values.weights, "weights", VALUE_ENCODINGS, "f32");
  const coef = choice(values.coef, "coef", ["f32", "f16"] as const, "f32");
  const features = choice(values.features, "features", [...VALUE_ENCODINGS, "none"] as const, "f32");
  const graphIndices = choice(values["graph-indices"], "graph-indices", ["fixed", "delta"] as const, "fixed");
  const seed = numberFlag(values.seed, "seed", { integer: true, min: 0 });
  if (values["data-dir"] !== undefined && values.dataset === undefined) throw new UsageError("--data-dir needs --dataset");

  const ticket = await readTicketFile(gltPath);
  const input = new Uint8Array(await readFile(gltPath));
  const beforeBytes = input.length;
  // The dataset first: a wrong --dataset fails before anything is written.
  const data = typeof values.dataset === "string" ? await loadData(values.dataset, values, seed, ticket) : null;

  const opts: EncodeOptions = {
    weightValues: weights,
    coefValues: coef,
    featureValues: features === "none" ? "f32" : features,
    graphIndices,
  };
  const bytes = encodeTicket(features === "none" ? { ...ticket, features: null } : ticket, opts);
  const after = decodeTicket(bytes);

  const sBefore = summarizeTicketBytes(input);
  const sAfter = summarizeTicketBytes(bytes);

  const x: FeatureInput | null = ticket.features ?? data?.features ?? null;
  let accuracy: GltExportReport["accuracy"] = null;
  if (x !== null) {
    const before = referenceForward(ticket, x);
    const got = referenceForward(after, after.features !== null && features !== "none" ? after.features : x);
    const c = compareLogitRows(before, got, ticket.numClasses);
    const n = ticket.graph.numNodes;
    accuracy = {
      features: ticket.features !== null ? "ticket" : "dataset",
      nodes: n,
      samePredictions: n - c.mismatchedNodes,
      agreement: n === 0 ? 1 : (n - c.mismatchedNodes) / n,
      maxRelativeLogitChange: c.maxRelativeError,
      test:
        data === null
          ? null
          : {
              dataset: data.name,
              nodes: data.testIdx.length,
              before: testAccuracy(before, ticket.numClasses, data.labels, data.testIdx),
              after: testAccuracy(got, ticket.numClasses, data.labels, data.testIdx),
            },
    };
  }

  await writeFileAtomic(outPath, bytes);
  const report: GltExportReport = {
    input: { file: gltPath, bytes: beforeBytes, formatVersion: sBefore.formatVersion },
    output: { file: outPath, bytes: bytes.length, formatVersion: sAfter.formatVersion },
    ratio: beforeBytes / bytes.length,
    options: { weights, coef, features, graphIndices },
    parts: parts(sBefore, sAfter),
    accuracy,
  };
  if (values.json === true) console.log(JSON.stringify(report));
  else console.log(formatReport(report));
}

interface Data {
  name: string;
  features: FeatureInput;
  labels: Int32Array;
  testIdx: Int32Array;
}

async function loadData(spec: string, values: Values, seed: number, t: Ticket): Promise<Data> {
  const { loadDataset } = await import("../trainer/data/load.js");
  const g = await loadDataset(spec, {
    dataDir: typeof values["data-dir"] === "string" ? values["data-dir"] : undefined,
    normalise: values["no-normalise"] !== true,
    seed,
  });
  const fin = t.layers[0].inFeatures;
  if (g.numNodes !== t.graph.numNodes || g.numFeatures !== fin) {
    throw new Error(`dataset ${g.name} has ${g.numNodes} nodes and ${g.numFeatures} features, the ticket ${t.graph.numNodes} nodes and ${fin} features: not its dataset`);
  }
  const f = g.features;
  const features: FeatureInput = f.kind === "csr" ? { rows: f.rows, cols: f.cols, rowPtr: f.rowPtr, colIdx: f.colIdx, values: f.values } : { rows: f.rows, cols: f.cols, data: f.data };
  return { name: g.name, features, labels: g.labels, testIdx: g.testIdx };
}

function parts(b: TicketByteSummary, a: TicketByteSummary): GltExportReport["parts"] {
  const rows: GltExportReport["parts"] = [];
  b.layers.forEach((l, i) => {
    const x = a.layers[i];
    rows.push({ part: `layer ${i} (${l.rows}×${l.cols} ${x.format})`, before: l.total, after: x.total, stored: x.valueType });
  });
  rows.push({ part: `graph (${b.graph.edges} edges)`, before: b.graph.total, after: a.graph.total, stored: `coef ${a.graph.coefType}, sources ${a.graph.deltaSources ? "delta" : "fixed"}` });
  if (b.features !== null || a.features !== null) {
    rows.push({ part: "features", before: b.features?.total ?? 0, after: a.features?.total ?? 0, stored: a.features === null ? "left out" : a.features.valueType });
  }
  return rows;
}

function formatReport(r: GltExportReport): string {
  const o = r.options;
  const lines = [
    `wrote ${r.output.file}: ${r.output.bytes} bytes, format version ${r.output.formatVersion} ` +
      `(${r.input.file}: ${r.input.bytes} bytes; ${r.ratio.toFixed(2)}× smaller)`,
    `  weights ${o.weights}, coefficients ${o.coef}, features ${o.features}, graph sources ${o.graphIndices}`,
  ];
  const w = Math.max(...r.parts.map((p) => p.part.length));
  for (const p of r.parts) lines.push(`  ${p.part.padEnd(w)}  ${String(p.before).padStart(8)} B → ${String(p.after).padStart(8)} B  (${p.stored})`);
  const a = r.accuracy;
  if (a === null) {
    lines.push("accuracy change: not measured (the ticket has no features: pass --dataset to measure it)");
  } else {
    lines.push(
      `prediction agreement: ${a.samePredictions} of ${a.nodes} nodes (${(100 * a.agreement).toFixed(2)}%)${a.features === "dataset" ? ", on the dataset's features" : ""}`,
    );
    lines.push(`max row-relative logit change: ${a.maxRelativeLogitChange.toExponential(2)}`);
    if (a.test !== null) {
      const d = 100 * (a.test.after - a.test.before);
      lines.push(
        `test accuracy (${a.test.dataset}, ${a.test.nodes} nodes): ${(100 * a.test.before).toFixed(2)}% → ${(100 * a.test.after).toFixed(2)}% ` +
          `(${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)} points)`,
      );
    }
  }
  return lines.join("\n");
}
