import { randomBytes } from "node:crypto";
import { open, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readTicketFile } from "../exporter/file.js";
import { MESSAGE_PASSING, ticketToOnnx, type MessagePassing } from "../exporter/onnx.js";
import { helpText, numberFlag, parseFlags, UsageError, type FlagSpec } from "./args.js";

export const EXPORT_FLAGS = {
  onnx: { type: "string", help: "write the ticket as an ONNX model (opset 17/18) to this file" },
  "graph-as-input": { type: "boolean", default: false, help: "edge list (edge_src, edge_dst, edge_coef) as model inputs instead of baked in" },
  "sparse-initializers": { type: "boolean", default: false, help: "pruned weights as sparse initializers (a smaller file; ONNX Runtime densifies them on load)" },
  opset: { type: "string", default: "18", help: "ONNX opset: 17 or 18" },
  "message-passing": {
    type: "string",
    help: "gather | scatter-elements | scatter-nd (default: gather; scatter-elements with --graph-as-input). scatter-nd is wrong in ONNX Runtime 1.30 with more than one intra-op thread",
  },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

const SUMMARY = "Convert a .glt ticket to an ONNX model that ONNX Runtime runs: fastglt export model.glt --onnx model.onnx";

/** Writes `bytes` to `path` through a temporary file and a rename: never half a file. */
async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export async function exportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, EXPORT_FLAGS);
  if (values.help) {
    console.log(helpText("export model.glt", SUMMARY, EXPORT_FLAGS));
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one .glt file, got ${positionals.length} arguments (usage: fastglt export model.glt --onnx model.onnx)`);
  if (typeof values.onnx !== "string" || values.onnx === "") throw new UsageError("--onnx FILE is required (the only export format so far)");
  const opset = numberFlag(values.opset, "opset", { integer: true });
  if (opset !== 17 && opset !== 18) throw new UsageError(`--opset must be 17 or 18, got ${opset}`);
  const mp = values["message-passing"];
  if (mp !== undefined && !MESSAGE_PASSING.includes(mp as MessagePassing)) {
    throw new UsageError(`--message-passing must be one of ${MESSAGE_PASSING.join(", ")}, got "${String(mp)}"`);
  }
  const graphAsInput = values["graph-as-input"] === true;
  if (mp === "gather" && graphAsInput) throw new UsageError("--message-passing gather bakes the graph in: it cannot be combined with --graph-as-input");

  const gltPath = positionals[0];
  const ticket = await readTicketFile(gltPath);
  const bytes = ticketToOnnx(ticket, {
    opset,
    graphAsInput,
    sparseInitializers: values["sparse-initializers"] === true,
    ...(mp !== undefined ? { messagePassing: mp as MessagePassing } : {}),
  });
  await writeAtomic(values.onnx, bytes);
  const gltBytes = (await stat(gltPath)).size;
  console.log(
    `wrote ${values.onnx}: ${bytes.length} bytes, opset ${opset}, message passing ${mp ?? (graphAsInput ? "scatter-elements" : "gather")}` +
      `${graphAsInput ? ", edge list as inputs" : ""} (the .glt, ${gltBytes} bytes, is ${(bytes.length / gltBytes).toFixed(1)}× smaller)`,
  );
}
