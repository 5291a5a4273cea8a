import { readFile } from "node:fs/promises";
import { readTicketFile } from "../exporter/file.js";
import { OnnxFormatError } from "../exporter/onnx.js";
import { verifyOnnx } from "../exporter/verify.js";
import { helpText, numberFlag, parseFlags, UsageError, type FlagSpec } from "./args.js";

/** The largest row-wise relative logit error `fastglt verify` accepts. */
export const VERIFY_TOLERANCE = 1e-4;

export const VERIFY_FLAGS = {
  ticket: { type: "string", help: "the .glt ticket the model was exported from (its features are the input)" },
  threads: { type: "string", help: "ONNX Runtime intra-op threads (default: 1 for models with ScatterND(add), else ORT's default)" },
  runs: { type: "string", default: "5", help: "timed runs after a warm-up; the latency printed is their median" },
  json: { type: "boolean", default: false, help: "print the result as one JSON object on stdout" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

const SUMMARY =
  `Run an ONNX model in onnxruntime-node on its ticket's features and compare the logits with the ticket's reference forward pass. ` +
  `Exits 1 when the row-wise relative error exceeds ${VERIFY_TOLERANCE} or a prediction differs.`;

export async function verifyCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, VERIFY_FLAGS);
  if (values.help) {
    console.log(helpText("verify model.onnx", SUMMARY, VERIFY_FLAGS));
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one .onnx file, got ${positionals.length} arguments (usage: fastglt verify model.onnx --ticket model.glt)`);
  if (typeof values.ticket !== "string" || values.ticket === "") throw new UsageError("--ticket FILE is required (the .glt the model was exported from)");
  const threads = values.threads === undefined ? undefined : numberFlag(values.threads, "threads", { integer: true, min: 1 });
  const runs = numberFlag(values.runs, "runs", { integer: true, min: 1 });

  const onnxPath = positionals[0];
  const onnxBytes = await readFile(onnxPath);
  const ticket = await readTicketFile(values.ticket);
  let r;
  try {
    r = await verifyOnnx(onnxBytes, ticket, { ...(threads !== undefined ? { threads } : {}), runs });
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new Error(`${onnxPath}: not an ONNX model (${e.message})`);
    throw e;
  }
  const ok = r.maxRelativeError <= VERIFY_TOLERANCE && r.samePredictions;
  if (values.json === true) {
    const { logits: _logits, ...rest } = r;
    console.log(JSON.stringify({ model: onnxPath, ticket: values.ticket, ...rest, tolerance: VERIFY_TOLERANCE, ok }));
  } else {
    const nodes = ticket.graph.numNodes;
    const rows: [string, string][] = [
      ["model", `${onnxPath} (${onnxBytes.length} bytes) vs ${values.ticket}`],
      ["max relative error", `${r.maxRelativeError.toExponential(2)} (row-wise, tolerance ${VERIFY_TOLERANCE})`],
      ["same predictions", r.samePredictions ? `yes (${nodes} nodes)` : `NO (${r.mismatchedNodes} of ${nodes} nodes differ)`],
      ["ONNX Runtime", `${r.ms.toFixed(2)} ms per run (median of ${runs}), intra-op threads ${r.threads === 0 ? "default" : r.threads}`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
  }
  if (!ok) {
    const why = r.samePredictions
      ? `max relative error ${r.maxRelativeError.toExponential(2)} > ${VERIFY_TOLERANCE}`
      : `${r.mismatchedNodes} predictions differ (max relative error ${r.maxRelativeError.toExponential(2)})`;
    throw new Error(`${onnxPath} does not match ${values.ticket}: ${why}`);
  }
}
