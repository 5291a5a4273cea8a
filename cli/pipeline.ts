import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeTicket } from "../exporter/protobuf.js";
import { compareLogitRows } from "../ticket/compare-logits.js";
import { writeFileAtomic } from "../exporter/file.js";
import { loadModel } from "../runtime-wasm/host/index.js";
import { initBackend, type BackendChoice } from "../trainer/backend.js";
import { loadDataset } from "../trainer/data/load.js";
import { numEdges } from "../trainer/data/graph.js";
import { accuracy } from "../trainer/metrics.js";
import { GcnModel, GCN_DEFAULTS } from "../trainer/models/gcn.js";
import { useFastKernels } from "../trainer/kernels.js";
import { measureSparsity, pruneOneShot } from "../trainer/prune/oneshot.js";
import { buildTicket } from "../trainer/ticket-builder.js";
import { evaluate, train, TRAIN_DEFAULTS } from "../trainer/train.js";
import { silentProgress, type Progress } from "../trainer/util/progress.js";
import { helpText, numberFlag, parseFlags, type FlagSpec } from "./args.js";

export interface PipelineOptions {
  dataset: string;
  dataDir?: string;
  weightSparsity: number;
  graphSparsity: number;
  seed: number;
  outDir: string;
  hidden: number;
  epochs: number;
  finetuneEpochs: number;
  lr: number;
  weightDecay: number;
  backend: BackendChoice;
  normalise: boolean;
  progress: Progress;
  log: (msg: string) => void;
}

export interface PipelineReport {
  dataset: string;
  model: string;
  seed: number;
  backend: string;
  graph: { nodes: number; edges: number; features: number; classes: number };
  dense: { valAccuracy: number; testAccuracy: number; bestEpoch: number; seconds: number };
  ticket: {
    valAccuracy: number;
    testAccuracy: number;
    graphSparsity: number;
    weightSparsity: number;
    edgesKept: number;
    edgesTotal: number;
    weightsKept: number;
    weightsTotal: number;
    macsDense: number;
    macsTicket: number;
    file: string;
    bytes: number;
    finetuneSeconds: number;
  };
  runtime: { testAccuracy: number; samePredictions: boolean; maxRelativeLogitError: number; latencyMs: number; latencyRuns: number };
  wallClockSeconds: number;
}

/** Train a dense GCN, prune it once, fine-tune, export the .glt, run it in the WASM runtime. */
export async function runPipeline(o: PipelineOptions): Promise<PipelineReport> {
  const start = performance.now();
  const backend = await initBackend(o.backend, o.log);
  await useFastKernels(backend);
  const graph = await loadDataset(o.dataset, { dataDir: o.dataDir, normalise: o.normalise, seed: o.seed, log: o.log });

  const model = new GcnModel(graph, { ...GCN_DEFAULTS, hidden: o.hidden, seed: o.seed });
  // The edge mask is trained only when edges are to be pruned: its magnitudes are the pruning score.
  model.trainEdgeMask = o.graphSparsity > 0;
  try {
    const trainOpts = { lr: o.lr, weightDecay: o.weightDecay, seed: o.seed, progress: o.progress };
    const dense = train(model, graph, { ...trainOpts, epochs: o.epochs, phase: "dense" });
    o.log(`dense: test accuracy ${pct(dense.best.testAccuracy)} (val ${pct(dense.best.valAccuracy)} at epoch ${dense.bestEpoch}), ${dense.seconds.toFixed(1)} s`);

    pruneOneShot(model, { weight: o.weightSparsity, graph: o.graphSparsity }, o.seed);
    const tuned = train(model, graph, { ...trainOpts, epochs: o.finetuneEpochs, phase: "fine-tune" });
    const ticketEval = evaluate(model, graph);
    const s = measureSparsity(model);
    o.log(`ticket: test accuracy ${pct(ticketEval.testAccuracy)}, graph sparsity ${pct(s.graph)} (${s.edgesKept}/${s.edgesTotal} edges kept), weight sparsity ${pct(s.weight)} (${s.weightsKept}/${s.weightsTotal})`);

    const ticket = buildTicket(model, graph, {
      dataset: graph.name,
      method: "oneshot",
      seed: o.seed,
      valAccuracy: ticketEval.valAccuracy,
      testAccuracy: ticketEval.testAccuracy,
      denseTestAccuracy: dense.best.testAccuracy,
      trainingSeconds: dense.seconds + tuned.seconds,
    });
    mkdirSync(o.outDir, { recursive: true });
    const file = resolve(join(o.outDir, `${graph.name}-gcn-seed${o.seed}.glt`));
    const bytes = encodeTicket(ticket);
    await writeFileAtomic(file, bytes);

    const runtimeModel = await loadModel(bytes);
    const logits = runtimeModel.run();
    const runtimeAccuracy = accuracy(logits, graph.numClasses, graph.labels, graph.testIdx);
    const compare = compareLogitRows(ticketEval.logits, logits, graph.numClasses);
    const latency = medianLatency(() => runtimeModel.run());
    o.log(`runtime: test accuracy ${pct(runtimeAccuracy)}, same predictions: ${compare.samePredictions}, max relative logit error ${compare.maxRelativeError.toExponential(2)}, latency ${latency.medianMs.toFixed(2)} ms (median of ${latency.runs})`);
    o.log(`file: ${file} (${bytes.length} bytes)`);

    return {
      dataset: graph.name,
      model: "gcn",
      seed: o.seed,
      backend,
      graph: { nodes: graph.numNodes, edges: numEdges(graph), features: graph.numFeatures, classes: graph.numClasses },
      dense: { valAccuracy: dense.best.valAccuracy, testAccuracy: dense.best.testAccuracy, bestEpoch: dense.bestEpoch, seconds: dense.seconds },
      ticket: {
        valAccuracy: ticketEval.valAccuracy,
        testAccuracy: ticketEval.testAccuracy,
        graphSparsity: s.graph,
        weightSparsity: s.weight,
        edgesKept: s.edgesKept,
        edgesTotal: s.edgesTotal,
        weightsKept: s.weightsKept,
        weightsTotal: s.weightsTotal,
        macsDense: ticket.meta.macsDense,
        macsTicket: ticket.meta.macsTicket,
        file,
        bytes: bytes.length,
        finetuneSeconds: tuned.seconds,
      },
      runtime: { testAccuracy: runtimeAccuracy, samePredictions: compare.samePredictions, maxRelativeLogitError: compare.maxRelativeError, latencyMs: latency.medianMs, latencyRuns: latency.runs },
      wallClockSeconds: (performance.now() - start) / 1000,
    };
  } finally {
    model.dispose();
  }
}

/** Median wall time of `fn` after a warm-up, over at least 5 runs or ~0.5 s. */
export function medianLatency(fn: () => unknown): { medianMs: number; runs: number } {
  for (let i = 0; i < 2; i++) fn();
  const times: number[] = [];
  const until = performance.now() + 500;
  while (times.length < 5 || (performance.now() < until && times.length < 200)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { medianMs: times[times.length >> 1], runs: times.length };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export const PIPELINE_FLAGS = {
  dataset: { type: "string", default: "synthetic", help: "synthetic | cora | citeseer | pubmed | a path to a graph folder" },
  "data-dir": { type: "string", help: "folder with the Planetoid ind.* files (else $FASTGLT_DATA, else download)" },
  "weight-sparsity": { type: "string", default: "0.8", help: "fraction of weights to prune, per layer, by |W|" },
  "graph-sparsity": { type: "string", default: "0.2", help: "fraction of edges (self-loops included) to prune" },
  seed: { type: "string", default: "0", help: "seed for initialisation, dropout, splits and ties" },
  out: { type: "string", default: "out", help: "output folder for the .glt ticket" },
  hidden: { type: "string", default: String(GCN_DEFAULTS.hidden), help: "hidden units" },
  epochs: { type: "string", default: String(TRAIN_DEFAULTS.epochs), help: "dense training epochs" },
  "finetune-epochs": { type: "string", default: "200", help: "fine-tuning epochs after pruning" },
  lr: { type: "string", default: String(TRAIN_DEFAULTS.lr), help: "Adam learning rate" },
  "weight-decay": { type: "string", default: String(TRAIN_DEFAULTS.weightDecay), help: "L2 weight decay" },
  backend: { type: "string", default: "auto", help: "auto | wasm | cpu | tensorflow" },
  "no-normalise": { type: "boolean", default: false, help: "keep raw feature values (default: rows sum to 1)" },
  json: { type: "boolean", default: false, help: "print the report as one JSON object on stdout" },
  quiet: { type: "boolean", default: false, help: "no progress output" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
} satisfies FlagSpec;

export async function pipelineCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, PIPELINE_FLAGS);
  if (values.help) {
    console.log(helpText("pipeline", "Train a dense GCN, prune it once, fine-tune, export a .glt ticket and run it in the WASM runtime.", PIPELINE_FLAGS));
    return;
  }
  const json = values.json === true;
  const quiet = values.quiet === true;
  const { terminalProgress } = await import("../trainer/util/progress.js");
  const log = quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const report = await runPipeline({
    dataset: String(values.dataset),
    dataDir: values["data-dir"] as string | undefined,
    weightSparsity: numberFlag(values["weight-sparsity"], "weight-sparsity", { min: 0, max: 1, maxExclusive: true }),
    graphSparsity: numberFlag(values["graph-sparsity"], "graph-sparsity", { min: 0, max: 1, maxExclusive: true }),
    seed: numberFlag(values.seed, "seed", { integer: true, min: 0 }),
    outDir: String(values.out),
    hidden: numberFlag(values.hidden, "hidden", { integer: true, min: 1 }),
    epochs: numberFlag(values.epochs, "epochs", { integer: true, min: 1 }),
    finetuneEpochs: numberFlag(values["finetune-epochs"], "finetune-epochs", { integer: true, min: 1 }),
    lr: numberFlag(values.lr, "lr", { min: 0 }),
    weightDecay: numberFlag(values["weight-decay"], "weight-decay", { min: 0 }),
    backend: String(values.backend) as BackendChoice,
    normalise: values["no-normalise"] !== true,
    progress: quiet ? silentProgress : terminalProgress(),
    log,
  });
  if (json) console.log(JSON.stringify(report));
  else printReport(report);
}

function printReport(r: PipelineReport): void {
  const rows: [string, string][] = [
    ["dataset", `${r.dataset} (${r.graph.nodes} nodes, ${r.graph.edges} edges, ${r.graph.features} features, ${r.graph.classes} classes)`],
    ["backend", r.backend],
    ["dense test accuracy", pct(r.dense.testAccuracy)],
    ["ticket test accuracy", `${pct(r.ticket.testAccuracy)} (trainer), ${pct(r.runtime.testAccuracy)} (runtime)`],
    ["graph sparsity", `${pct(r.ticket.graphSparsity)} (${r.ticket.edgesKept} of ${r.ticket.edgesTotal} graph edges kept; self-loops always kept)`],
    ["weight sparsity", `${pct(r.ticket.weightSparsity)} (${r.ticket.weightsKept} of ${r.ticket.weightsTotal} weights kept)`],
    ["MACs dense / ticket", `${(r.ticket.macsDense / 1e6).toFixed(1)} M / ${(r.ticket.macsTicket / 1e6).toFixed(1)} M (${(r.ticket.macsDense / r.ticket.macsTicket).toFixed(1)}× fewer)`],
    ["ticket file", `${r.ticket.file} (${(r.ticket.bytes / 1024).toFixed(1)} KiB)`],
    ["runtime latency", `${r.runtime.latencyMs.toFixed(2)} ms full graph (median of ${r.runtime.latencyRuns})`],
    ["runtime vs trainer", `same predictions: ${r.runtime.samePredictions ? "yes" : "NO"}, max relative logit error ${r.runtime.maxRelativeLogitError.toExponential(2)}`],
    ["wall clock", `${r.wallClockSeconds.toFixed(1)} s`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n"));
}
