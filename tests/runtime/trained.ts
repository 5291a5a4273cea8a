// A real trained ticket for the runtime tests: the pipeline (train → prune → fine-tune → export)
// on a tiny synthetic graph. The .glt is cached in the temp folder by its options, written
// atomically, so the test files that need it (fuzz, CLI run, queries) train it once per machine.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runPipeline } from "../../cli/pipeline.js";
import { decodeTicket, GLT_FORMAT_VERSION } from "../../exporter/protobuf.js";
import { TRAIN_DEFAULTS } from "../../trainer/train.js";
import { silentProgress } from "../../trainer/util/progress.js";

export const TRAINED_SPEC = {
  dataset: "synthetic:nodes=600,features=120,classes=4",
  hidden: 32,
  epochs: 40,
  finetuneEpochs: 30,
  weightSparsity: 0.8,
  graphSparsity: 0.2,
  seed: 5,
};

/** Path of the trained ticket file (trains it on first use). */
export async function trainedTicketFile(): Promise<string> {
  const key = Object.values(TRAINED_SPEC).join("_").replace(/[^A-Za-z0-9_.=-]/g, "-");
  const dir = join(tmpdir(), "fastglt-test-tickets");
  const file = join(dir, `${key}-glt${GLT_FORMAT_VERSION}.glt`);
  if (existsSync(file)) {
    try {
      decodeTicket(new Uint8Array(readFileSync(file)));
      return file;
    } catch {
      // written by an older format: train again
    }
  }
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `train-${process.pid}-${Date.now()}`);
  const report = await runPipeline({
    ...TRAINED_SPEC,
    outDir: out,
    lr: TRAIN_DEFAULTS.lr,
    weightDecay: TRAIN_DEFAULTS.weightDecay,
    backend: "wasm",
    normalise: true,
    progress: silentProgress,
    log: () => {},
  });
  // runPipeline may return before its (asynchronous, atomic) file write has finished: wait for it
  const until = Date.now() + 30_000;
  while (!(existsSync(report.ticket.file) && statSync(report.ticket.file).size === report.ticket.bytes)) {
    if (Date.now() > until) throw new Error(`the pipeline did not write ${report.ticket.file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, readFileSync(report.ticket.file));
  renameSync(tmp, file);
  return file;
}

export async function trainedTicketBytes(): Promise<Uint8Array> {
  return new Uint8Array(readFileSync(await trainedTicketFile()));
}
