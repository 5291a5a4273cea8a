// Node-query latency of the WASM runtime against a full-graph run, in one process.
//   npx tsx bench/queries.ts [ticket.glt] [--runs 3000] [--data-dir DIR]
// Without a file it trains a Cora ticket first (runPipeline: dataset cora, weight sparsity 0.95,
// graph sparsity 0.35, seed 0; Planetoid files from --data-dir or $FASTGLT_DATA), kept in
// out/bench-queries/ for the next time. Reports medians (and p90) of one-node and 100-node
// queries (random nodes, a fresh set each call), of the full-graph run, the executed MACs of each,
// the plan's kernel choices, and the machine load; writes bench/results/queries-<dataset>.json.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runPipeline } from "../cli/pipeline.js";
import { loadModel, type GltModel } from "../runtime-wasm/host/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "3000" },
    "data-dir": { type: "string" },
    retrain: { type: "boolean", default: false },
  },
});

async function ticketFile(): Promise<string> {
  if (positionals[0]) return positionals[0];
  const outDir = "out/bench-queries";
  const file = join(outDir, "cora-gcn-seed0.glt");
  if (existsSync(file) && !values.retrain) return file;
  console.log("training a Cora ticket (weight sparsity 0.95, graph sparsity 0.35) …");
  const [{ TRAIN_DEFAULTS }, { silentProgress }, { GCN_DEFAULTS }] = await Promise.all([import("../trainer/train.js"), import("../trainer/util/progress.js"), import("../trainer/models/gcn.js")]);
  const r = await runPipeline({
    dataset: "cora", dataDir: values["data-dir"], weightSparsity: 0.95, graphSparsity: 0.35, seed: 0, outDir,
    hidden: GCN_DEFAULTS.hidden, epochs: TRAIN_DEFAULTS.epochs, finetuneEpochs: 200, lr: TRAIN_DEFAULTS.lr, weightDecay: TRAIN_DEFAULTS.weightDecay,
    backend: "wasm", normalise: true, progress: silentProgress, log: (m) => console.log(`  ${m}`),
  });
  // runPipeline starts the (atomic) file write without waiting for it
  const until = Date.now() + 30_000;
  while (!(existsSync(r.ticket.file) && statSync(r.ticket.file).size === r.ticket.bytes) && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
  writeFileSync(file, readFileSync(r.ticket.file));
  return file;
}

/** mulberry32 */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Stats {
  medianUs: number;
  p10Us: number;
  p90Us: number;
  runs: number;
  cpuPerWall: number;
}

/** Times `fn(i)` `runs` times after a warm-up; µs statistics and CPU time / wall time over the loop. */
function measure(runs: number, fn: (i: number) => unknown): Stats {
  for (let i = 0; i < Math.min(200, runs); i++) fn(i);
  const t = new Float64Array(runs);
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    t[i] = (performance.now() - t0) * 1000;
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  t.sort();
  const q = (p: number) => t[Math.min(runs - 1, Math.floor(p * runs))];
  return { medianUs: q(0.5), p10Us: q(0.1), p90Us: q(0.9), runs, cpuPerWall: (cpu.user + cpu.system) / 1000 / wall };
}

function fmt(s: Stats): string {
  const u = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`);
  return `median ${u(s.medianUs)}  (p10 ${u(s.p10Us)}, p90 ${u(s.p90Us)}, ${s.runs} runs, cpu/wall ${s.cpuPerWall.toFixed(2)})`;
}

const file = await ticketFile();
const bytes = new Uint8Array(readFileSync(file));
const tLoad = performance.now();
const model: GltModel = await loadModel(bytes);
const loadMs = performance.now() - tLoad;
const n = model.numNodes;
const C = model.numClasses;
const runs = Number(values.runs);
const load0 = loadavg();
console.log(`${file}: ${model.meta.dataset}, ${n} nodes, ${model.plan.numEdges} edges kept (self-loops included), ${model.numFeatures} features, ${C} classes`);
console.log(`  weight sparsity ${(100 * model.meta.weightSparsity).toFixed(1)}%, graph sparsity ${(100 * model.meta.graphSparsity).toFixed(1)}%, test accuracy ${(100 * model.meta.testAccuracy).toFixed(1)}%`);
console.log(`  loaded in ${loadMs.toFixed(1)} ms (decode, plan, warm-up timing of the weight kernels)`);
for (const lp of model.plan.layers) {
  const m = lp.measured;
  const t = (k: "dense" | "csr") => (m[k] ? ` [sparse ${(m[k]!.sparseMs * 1000).toFixed(1)} µs vs dense ${(m[k]!.denseMs * 1000).toFixed(1)} µs on ${m[k]!.rows} rows]` : "");
  console.log(`  layer ${lp.index}: ${lp.inFeatures} → ${lp.outFeatures}, weight density ${(100 * lp.density).toFixed(1)}%, sparse input: ${lp.kernelCsr} (${lp.kernelSource.csr})${t("csr")}; dense input: ${lp.kernelDense} (${lp.kernelSource.dense})${t("dense")}; order ${lp.order}`);
}
console.log(`  machine: ${cpus().length} cores, load average ${load0.map((x) => x.toFixed(2)).join(" ")}`);

// correctness first: every node's query row against the full run
const full = model.run();
let maxDiff = 0;
let bitwise = 0;
for (let v = 0; v < n; v++) {
  const q = model.predict([v]);
  let same = true;
  for (let c = 0; c < C; c++) {
    maxDiff = Math.max(maxDiff, Math.abs(q[c] - full[v * C + c]));
    if (q[c] !== full[v * C + c]) same = false;
  }
  if (same) bitwise++;
}
console.log(`one-node queries vs full run, all ${n} nodes: ${bitwise} bitwise equal, max |difference| ${maxDiff.toExponential(2)}`);

const rand = rng(1);
const singles = Int32Array.from({ length: runs }, () => Math.floor(rand() * n));
const hundreds = Array.from({ length: Math.max(200, Math.ceil(runs / 10)) }, () => Int32Array.from({ length: 100 }, () => Math.floor(rand() * n)));
const out1 = new Float32Array(C);
const out100 = new Float32Array(100 * C);
const outFull = new Float32Array(n * C);
const sFull = measure(Math.max(50, Math.ceil(runs / 20)), () => model.run({ out: outFull }));
const s1 = measure(runs, (i) => model.predict(singles.subarray(i, i + 1), { out: out1 }));
const s100 = measure(hundreds.length, (i) => model.predict(hundreds[i], { out: out100 }));
const load1 = loadavg();

// executed MACs: full graph, and the median field of one- and 100-node queries
const pFull = model.profile();
const macs1 = Array.from({ length: 200 }, (_, i) => model.profile({ nodes: singles.subarray(i, i + 1) }).executedMacs).sort((a, b) => a - b)[100];
const macs100 = Array.from({ length: 50 }, (_, i) => model.profile({ nodes: hundreds[i] }).executedMacs).sort((a, b) => a - b)[25];
const fields = Array.from({ length: 200 }, (_, i) => model.profile({ nodes: singles.subarray(i, i + 1) }).layers[0]);
const hop1 = fields.map((l) => l.rows).sort((a, b) => a - b)[100];
const hop2 = fields.map((l) => l.steps[0].rows).sort((a, b) => a - b)[100];

// the same ticket planned by the density thresholds alone (no warm-up timing)
const fixed = await loadModel(bytes, { measure: false });
const sFixed = measure(Math.max(50, Math.ceil(runs / 20)), () => fixed.run({ out: outFull }));
const fixedKernels = fixed.plan.layers.map((l) => `${l.kernelCsr}/${l.kernelDense}`).join(", ");

console.log(`full graph run     ${fmt(sFull)}   executed MACs ${pFull.executedMacs} (ticket ${pFull.ticketMacs}, dense ${pFull.denseMacs})`);
console.log(`  same ticket, thresholds instead of the warm-up (sparse-input/dense-input kernels ${fixedKernels}): ${fmt(sFixed)}`);
console.log(`1-node query       ${fmt(s1)}   median executed MACs ${macs1}, median field ${hop1} nodes at 1 hop, ${hop2} at 2 hops`);
console.log(`100-node query     ${fmt(s100)}   median executed MACs ${macs100}`);
console.log(`speed-up vs full run: 1 node ${(sFull.medianUs / s1.medianUs).toFixed(0)}×, 100 nodes ${(sFull.medianUs / s100.medianUs).toFixed(1)}×`);
console.log(`load average after: ${load1.map((x) => x.toFixed(2)).join(" ")}`);

mkdirSync("bench/results", { recursive: true });
const resultFile = `bench/results/queries-${model.meta.dataset}.json`;
writeFileSync(
  resultFile,
  JSON.stringify(
    {
      file, dataset: model.meta.dataset, nodes: n, edges: model.plan.numEdges, features: model.numFeatures, classes: C,
      weightSparsity: model.meta.weightSparsity, graphSparsity: model.meta.graphSparsity, loadMs,
      plan: model.plan.layers.map((l) => ({ layer: l.index, in: l.inFeatures, out: l.outFeatures, density: l.density, kernelCsr: l.kernelCsr, kernelDense: l.kernelDense, source: l.kernelSource, measured: l.measured, order: l.order })),
      fullRun: { ...sFull, executedMacs: pFull.executedMacs, ticketMacs: pFull.ticketMacs, denseMacs: pFull.denseMacs },
      fullRunThresholdPlan: { ...sFixed, kernels: fixedKernels },
      query1: { ...s1, medianExecutedMacs: macs1, medianField1Hop: hop1, medianField2Hops: hop2 },
      query100: { ...s100, medianExecutedMacs: macs100 },
      equality: { nodes: n, bitwiseEqual: bitwise, maxAbsDifference: maxDiff },
      machine: { cores: cpus().length, loadAvgBefore: load0, loadAvgAfter: load1, node: process.version },
      date: new Date().toISOString(),
    },
    null,
    2,
  ) + "\n",
);
console.log(`wrote ${resultFile}`);
