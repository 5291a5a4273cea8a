import { UsageError } from "./args.js";
import { exportCommand } from "./export.js";
import { pipelineCommand } from "./pipeline.js";
import { pruneCommand } from "./prune.js";
import { runCommand } from "./run.js";
import { verifyCommand } from "./verify.js";

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; summary: string }> = {
  pipeline: { run: pipelineCommand, summary: "train a dense GCN, prune once, fine-tune, export a .glt and run it in the WASM runtime" },
  prune: { run: pruneCommand, summary: "find a graph lottery ticket with FastGLT, UGS or one-shot pruning (checkpoints, --resume)" },
  run: { run: runCommand, summary: "run a .glt ticket in the WASM runtime: predictions for all nodes or a node query (--nodes)" },
  export: { run: exportCommand, summary: "convert a .glt ticket to an ONNX model (--onnx m.onnx) or a smaller .glt (--out m.glt --weights int8)" },
  verify: { run: verifyCommand, summary: "run an ONNX model in onnxruntime-node and compare its logits with the .glt ticket" },
};

function usage(): string {
  const lines = ["usage: fastglt <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push("", "Run `fastglt <command> --help` for its options.");
  return lines.join("\n");
}

/** Runs the CLI; errors become one line on stderr and a non-zero exit code, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  // `fastglt … --json | head`: a reader that closes early is not an error of ours
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`fastglt: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`fastglt ${name}: ${err.message}\n`);
    if (process.env.FASTGLT_DEBUG) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
