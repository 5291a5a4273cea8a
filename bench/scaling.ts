// How full-graph inference of the WASM runtime scales with the graph: seeded synthetic graphs of
// 10k, 100k and 1M nodes, a GCN ticket built without training, time per edge and per MAC.
//
//   npx tsx bench/scaling.ts [--max 1000000] [--hidden 128] [--sparsity 0.95] [--runs N] [--out PREFIX]
//
// Graphs: `synthetic:nodes=N` through loadDataset (the Cora-shaped contextual SBM: 1433 sparse
// binary features, ~18 words per node, average degree 3.9, 7 classes; rows normalised), seed 0.
// Ticket: a 2-layer GCN 1433 → hidden → 7 built directly (ticket/ticket.ts), Glorot-uniform random
// weights with exactly `sparsity` of each matrix zero (seeded), random small biases, Â =
// D^-1/2 (A + I) D^-1/2 with one self-loop per node (trainer/models/gcn-graph.ts), no edge pruned.
// Per size: encode → loadModel (default plan, warm-up kernel timing), then the median of
// interleaved full-graph runs on the ticket's own features; profile() for executed MACs and the
// per-step split. Reports ms, ns per edge (self-loops included), ns per executed MAC and per
// ticket MAC, memory, and writes PREFIX.json / PREFIX.md (default bench/results/scaling).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { encodeTicket } from "../exporter/protobuf.js";
import { loadModel } from "../runtime-wasm/host/index.js";
import { compileKernelModule } from "../runtime-wasm/host/wasm-module.js";
import { denseToCsr } from "../ticket/csr.js";
import { forwardMacs, TICKET_FORMAT_VERSION, type Ticket, type TicketLayer } from "../ticket/ticket.js";
import type { Graph } from "../trainer/data/graph.js";
import { loadDataset } from "../trainer/data/load.js";
import { gcnEdges } from "../trainer/models/gcn-graph.js";
import { Rng } from "../trainer/util/rng.js";
import { commandLine, loadAvg, machineInfo } from "./lib/machine.js";
import { fmt, markdownTable } from "./lib/table.js";
import { timeEngines } from "./lib/timing.js";

const { values } = parseArgs({
  options: {
    max: { type: "string", default: "1000000" },
    hidden: { type: "string", default: "128" },
    sparsity: { type: "string", default: "0.95" },
    runs: { type: "string", default: "10" },
    out: { type: "string", default: "bench/results/scaling" },
  },
});
const maxNodes = Number(values.max);
const hidden = Number(values.hidden);
const sparsity = Number(values.sparsity);
const minRuns = Number(values.runs);
if (!(maxNodes >= 10_000)) throw new Error(`--max must be at least 10000, got ${values.max}`);
if (!(Number.isInteger(hidden) && hidden >= 1)) throw new Error(`--hidden must be a positive integer, got ${values.hidden}`);
if (!(sparsity >= 0 && sparsity < 1)) throw new Error(`--sparsity must be in [0, 1), got ${values.sparsity}`);
if (!(Number.isInteger(minRuns) && minRuns >= 1)) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
const SIZES = [10_000, 100_000, 1_000_000].filter((n) => n <= maxNodes);
const SEED = 0;
const prefix = String(values.out);

const log = (m: string) => process.stderr.write(`${m}\n`);
const machine = machineInfo();
const started = Date.now();
log(`bench/scaling: ${SIZES.join(", ")} nodes, GCN hidden ${hidden}, weight sparsity ${fmt.pct(sparsity)}; ${machine.cores} cores, load ${machine.loadAvgStart.map((x) => x.toFixed(2)).join(" ")}`);
await compileKernelModule();

/** rows × cols Glorot-uniform weights with exactly round(sparsity · rows · cols) zeros at random positions. */
function sparseRandomWeight(rows: number, cols: number, rng: Rng): TicketLayer["weight"] {
  const total = rows * cols;
  const keep = Math.round((1 - sparsity) * total);
  const idx = Int32Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < keep; i++) {
    const j = i + rng.int(total - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const limit = Math.sqrt(6 / (rows + cols));
  const data = new Float32Array(total);
  for (let i = 0; i < keep; i++) {
    let v = 0;
    while (v === 0) v = (2 * rng.next() - 1) * limit;
    data[idx[i]] = v;
  }
  return keep === total ? { format: "dense", rows, cols, data } : { format: "csr", ...denseToCsr({ rows, cols, data }) };
}

/** The GCN ticket of `graph` with random sparse weights: Â of the whole graph with self-loops. */
function randomTicket(graph: Graph): Ticket {
  const n = graph.numNodes;
  const e = gcnEdges(graph);
  // CSR over destination nodes, each row's sources in edge order
  const rowPtr = new Int32Array(n + 1);
  for (let k = 0; k < e.dst.length; k++) rowPtr[e.dst[k] + 1]++;
  for (let v = 0; v < n; v++) rowPtr[v + 1] += rowPtr[v];
  const next = rowPtr.slice(0, n);
  const colIdx = new Int32Array(e.dst.length);
  const coef = new Float32Array(e.dst.length);
  for (let k = 0; k < e.dst.length; k++) {
    const p = next[e.dst[k]]++;
    colIdx[p] = e.src[k];
    coef[p] = e.norm[k];
  }
  const rng = new Rng(SEED + 17);
  const dims = [graph.numFeatures, hidden, graph.numClasses];
  const layers: TicketLayer[] = [0, 1].map((l) => ({
    kind: "gcn",
    inFeatures: dims[l],
    outFeatures: dims[l + 1],
    weight: sparseRandomWeight(dims[l], dims[l + 1], rng),
    bias: Float32Array.from({ length: dims[l + 1] }, () => 0.01 * (2 * rng.next() - 1)),
    activation: l === 0 ? "relu" : "none",
  }));
  const f = graph.features;
  if (f.kind !== "csr") throw new Error("synthetic features are expected to be CSR");
  const edgesWithLoops = e.dst.length;
  const nnz = (w: TicketLayer["weight"]) => (w.format === "csr" ? w.rowPtr[w.rows] : w.data.length);
  return {
    version: TICKET_FORMAT_VERSION,
    numClasses: graph.numClasses,
    graph: { numNodes: n, rowPtr, colIdx, coef },
    layers,
    features: { rows: f.rows, cols: f.cols, rowPtr: f.rowPtr, colIdx: f.colIdx, values: f.values },
    meta: {
      dataset: graph.name, model: "gcn", method: "random", seed: SEED, graphSparsity: 0,
      weightSparsity: 1 - layers.reduce((a, l) => a + nnz(l.weight), 0) / layers.reduce((a, l) => a + l.inFeatures * l.outFeatures, 0),
      edgesDense: e.numGraphEdges,
      weightsDense: layers.reduce((a, l) => a + l.inFeatures * l.outFeatures, 0),
      macsDense: forwardMacs(n, edgesWithLoops, layers.map((l) => ({ inFeatures: l.inFeatures, weightNnz: l.inFeatures * l.outFeatures }))),
      macsTicket: forwardMacs(n, edgesWithLoops, layers.map((l) => ({ inFeatures: l.inFeatures, weightNnz: nnz(l.weight) }))),
      valAccuracy: 0, testAccuracy: 0, denseTestAccuracy: 0, trainingSeconds: 0, createdAt: new Date().toISOString(),
    },
  };
}

const results = [];
for (const nodes of SIZES) {
  let t0 = performance.now();
  const graph = await loadDataset(`synthetic:nodes=${nodes}`, { seed: SEED });
  const genSeconds = (performance.now() - t0) / 1000;
  const ticket = randomTicket(graph);
  const bytes = encodeTicket(ticket);
  t0 = performance.now();
  const model = await loadModel(bytes);
  const loadMs = performance.now() - t0;
  const load0 = loadAvg();
  const out = new Float32Array(nodes * ticket.numClasses);
  const timing = (await timeEngines([{ name: "ours", run: () => model.run({ out }) }], { minRuns, budgetMs: 3000, maxRuns: 200, rounds: 1, warmup: 2 })).get("ours")!;
  const p = model.profile();
  const edges = ticket.graph.colIdx.length;
  const ms = timing.ms.median;
  const steps = p.layers.flatMap((l) => l.steps.map((s) => ({ layer: l.layer, op: s.op, kernel: s.kernel, macs: s.macs, ms: s.ms, nsPerMac: (s.ms * 1e6) / Math.max(1, s.macs) })));
  const aggregateMs = steps.filter((s) => s.op === "aggregate").reduce((a, s) => a + s.ms, 0);
  const r = {
    nodes,
    edges,
    graphEdges: graph.edgeSrc.length,
    featureNnz: ticket.features!.colIdx.length,
    hidden,
    weightSparsity: ticket.meta.weightSparsity,
    generateSeconds: genSeconds,
    fileBytes: bytes.length,
    loadMs,
    time: { medianMs: ms, p10Ms: timing.ms.p10, p90Ms: timing.ms.p90, runs: timing.ms.n, cpuMsPerRun: timing.cpuMsPerRun, cpuPerWall: timing.cpuPerWall },
    nsPerEdge: (ms * 1e6) / edges,
    nsPerNode: (ms * 1e6) / nodes,
    macs: { dense: ticket.meta.macsDense, ticket: ticket.meta.macsTicket, executed: p.executedMacs },
    nsPerExecutedMac: (ms * 1e6) / p.executedMacs,
    nsPerTicketMac: (ms * 1e6) / ticket.meta.macsTicket,
    profile: { ms: p.ms, kernelMs: p.kernelMs, aggregateMs, aggregateNsPerEdge: (aggregateMs * 1e6) / edges / p.layers.length, steps },
    plan: { usedFeatures: model.plan.usedFeatures, droppedUnits: model.plan.droppedUnits, layers: model.plan.layers.map((l) => ({ in: l.inFeatures, out: l.outFeatures, density: l.density, kernelCsr: l.kernelCsr, kernelDense: l.kernelDense, order: l.order })) },
    memory: { wasmBytes: model.memoryBytes, bytesPerNode: model.memoryBytes / nodes },
    loadAvg: { before: load0, after: loadAvg() },
  };
  results.push(r);
  log(
    `${nodes} nodes, ${edges} edges: ${fmt.ms(ms)} ms (p10 ${fmt.ms(r.time.p10Ms)}, p90 ${fmt.ms(r.time.p90Ms)}, ${r.time.runs} runs, cpu/wall ${r.time.cpuPerWall.toFixed(2)}), ` +
      `${r.nsPerEdge.toFixed(1)} ns/edge, ${r.nsPerExecutedMac.toFixed(3)} ns/executed MAC, memory ${fmt.bytes(r.memory.wasmBytes)}, load ${fmt.ms(loadMs)} ms; load avg ${r.loadAvg.after.join(" ")}`,
  );
  model.dispose();
}

const command = commandLine("bench/scaling.ts");
const loadEnd = loadAvg();
const base = results[0];
const json = {
  command,
  date: new Date().toISOString(),
  machine: { ...machine, loadAvgEnd: loadEnd },
  config: { seed: SEED, hidden, weightSparsity: sparsity, sizes: SIZES, minRuns, dataset: "synthetic:nodes=N (defaults: 1433 features, 7 classes, average degree 3.9)" },
  notes: {
    time: "wall ms of one full-graph run (all nodes' logits) on the ticket's own sparse features, median after a warm-up; cpuPerWall = process CPU / wall over the timed runs",
    edges: "edges of Â including one self-loop per node",
    profile: "one profiled run (per-kernel timers add a little overhead): each step's ms, MACs and ns per MAC",
    memory: "the model's wasm linear memory (weights, graph, features, activation buffers)",
  },
  wallSeconds: (Date.now() - started) / 1000,
  sizes: results,
};
mkdirSync(dirname(prefix), { recursive: true });
writeFileSync(`${prefix}.json`, JSON.stringify(json, null, 2) + "\n");
const table = markdownTable(
  ["nodes", "edges (+ self-loops)", "feature nnz", "median ms", "p10–p90 ms", "CPU/wall", "ns / edge", "ns / node", "executed MACs", "ns / executed MAC", "ns / ticket MAC", "vs 10k: ns/edge", "aggregation ns / edge / layer", "wasm memory", "bytes / node", "load ms"],
  results.map((r) => [
    r.nodes.toLocaleString("en-US"), r.edges.toLocaleString("en-US"), fmt.si(r.featureNnz), fmt.ms(r.time.medianMs), `${fmt.ms(r.time.p10Ms)}–${fmt.ms(r.time.p90Ms)}`, r.time.cpuPerWall.toFixed(2),
    r.nsPerEdge.toFixed(1), r.nsPerNode.toFixed(1), fmt.si(r.macs.executed), r.nsPerExecutedMac.toFixed(3), r.nsPerTicketMac.toFixed(4), fmt.ratio(r.nsPerEdge / base.nsPerEdge),
    r.profile.aggregateNsPerEdge.toFixed(2), fmt.bytes(r.memory.wasmBytes), r.memory.bytesPerNode.toFixed(0), fmt.ms(r.loadMs),
  ]),
);
const stepTable = markdownTable(
  [{ header: "nodes", align: "left" }, ...base.profile.steps.map((s) => `L${s.layer} ${s.op}: ${s.kernel.split(" ")[0]} ns/MAC`)],
  results.map((r) => [r.nodes.toLocaleString("en-US"), ...r.profile.steps.map((s) => s.nsPerMac.toFixed(3))]),
);
const md = [
  "# Scaling: full-graph GCN inference on synthetic graphs",
  "",
  `\`${command}\` — ${json.date}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, load average ${machine.loadAvgStart.map((v) => v.toFixed(2)).join(" ")} at the start, ${loadEnd.join(" ")} at the end (shared machine). Every number: [scaling.json](scaling.json).`,
  "",
  `Graphs: \`synthetic:nodes=N\` (seed ${SEED}; 1433 binary bag-of-words features, ~18 words per node, average degree 3.9, rows normalised). ` +
    `Ticket built without training: GCN 1433 → ${hidden} → 7, Glorot-uniform random weights, ${fmt.pct(sparsity, 0)} of each weight matrix zero, Â = D^-1/2 (A + I) D^-1/2 over every edge plus self-loops. ` +
    `Our runtime, default plan, one thread, the ticket's own sparse features; median wall time of a full-graph run (all nodes' logits). ` +
    `"Executed MACs" are what the plan multiplies (sparse features × the weights, dead hidden units dropped: W2 at ${fmt.pct(sparsity, 0)} leaves ${base.plan.layers[1].in} of ${hidden} hidden units read).`,
  "",
  table,
  "",
  "Per kernel step (one profiled run), ns per executed MAC:",
  "",
  stepTable,
  "",
].join("\n");
writeFileSync(`${prefix}.md`, md);
console.log(md);
log(`wrote ${prefix}.json, ${prefix}.md (${((Date.now() - started) / 1000).toFixed(0)} s)`);
