/**
 * One training epoch (forward + backward + Adam step) of the dense 2-layer Cora GCN on the tfjs
 * wasm backend: the custom ops (sparseMatMul for X·W1, messagePassing for Â·, denseMatMul for the
 * hidden → output layer) against stock tfjs ops (dense features, tf.matMul) in the same run.
 *
 *   npx tsx bench/train-epoch.ts [--data-dir DIR] [--epochs 30] [--warmup 5] [--stock-epochs 5]
 *                                [--kernels auto|simd|reference] [--train-masks] [--no-profile]
 *
 * Model: 1433-512-7, ReLU, dropout 0.5 on the hidden layer, Cora with self-loops (13,264 edges),
 * per-edge weight = edge mask (ones) × D^-1/2 (A+I) D^-1/2 coefficient, per-weight masks (ones)
 * multiplied into W1 and W2, softmax cross-entropy on the 140 training nodes, Adam lr 0.01 with weight
 * decay 5e-4: trainer/ops/fused-adam.ts (headline row) or tf.train.adam with the L2 term in the loss
 * (as trainer/train.ts does). --train-masks also trains the edge mask and the weight masks (as UGS
 * does), which adds the dw (SDDMM) and mask gradients.
 *
 * Rows: the headline setup, then one change at a time (optimizer, kernels), then dense
 * features with denseMatMul, then the stock baseline (dense X, tf.matMul: its gradient's
 * transposed-operand matMul takes seconds on wasm, hence --stock-epochs, default 5).
 *
 * Messages are passed with the custom messagePassing in every variant: the stock alternative,
 * gather + unsortedSegmentSum, does not run on tfjs-backend-wasm (no UnsortedSegmentSum kernel).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { SparseKernels } from "../runtime-wasm/host/kernel-api.js";
import { referenceKernels } from "../runtime-wasm/host/reference-kernels.js";
import type { CsrMatrix } from "../ticket/csr.js";
import { initBackend } from "../trainer/backend.js";
import { glorotUniform } from "../trainer/models/init.js";
import { denseMatMul } from "../trainer/ops/dense-matmul.js";
import { FusedAdam } from "../trainer/ops/fused-adam.js";
import { dropout } from "../trainer/ops/dropout.js";
import { setSparseKernels } from "../trainer/ops/kernel-bridge.js";
import { messagePassing, prepareMessagePassing, type MessagePassingGraph } from "../trainer/ops/message-passing.js";
import { prepareSparseMatrix, sparseMatMul, type PreparedSparseMatrix } from "../trainer/ops/sparse-matmul.js";
import { Rng } from "../trainer/util/rng.js";
import { loadPlanetoidFlat } from "../trainer/data/planetoid-flat.js";
import { rowNormalise } from "../trainer/data/graph.js";
import { GcnModel } from "../trainer/models/gcn.js";
import { createTrainStep, type TrainStep } from "../trainer/train.js";

interface Args {
  dataDir: string;
  epochs: number;
  warmup: number;
  stockEpochs: number;
  kernels: "auto" | "simd" | "reference";
  trainMasks: boolean;
  profile: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    dataDir: "/work/shared/data/planetoid-npz-free/cora",
    epochs: 30,
    warmup: 5,
    stockEpochs: 5,
    kernels: "auto",
    trainMasks: false,
    profile: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value`);
      return x;
    };
    const int = (): number => {
      const s = v();
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${k}: expected a positive integer, got "${s}"`);
      return n;
    };
    if (k === "--data-dir") a.dataDir = v();
    else if (k === "--epochs") a.epochs = int();
    else if (k === "--warmup") a.warmup = int();
    else if (k === "--stock-epochs") a.stockEpochs = int();
    else if (k === "--kernels") {
      const s = v();
      if (s !== "auto" && s !== "simd" && s !== "reference") throw new Error(`--kernels: auto, simd or reference, got "${s}"`);
      a.kernels = s;
    } else if (k === "--train-masks") a.trainMasks = true;
    else if (k === "--no-profile") a.profile = false;
    else throw new Error(`unknown argument ${k} (see the header of bench/train-epoch.ts)`);
  }
  return a;
}

// ---------------------------------------------------------------- Cora from the flat files

interface Cora {
  n: number;
  f: number;
  c: number;
  x: CsrMatrix;
  labels: Int32Array;
  train: Int32Array;
  /** with self-loops */
  src: Int32Array;
  dst: Int32Array;
  norm: Float32Array;
}

function readTyped<T>(file: string, Ctor: new (b: ArrayBuffer) => T): T {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file} (${(err as Error).message}); pass --data-dir pointing at the flat Cora files`);
  }
  return new Ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
}

function loadCora(dir: string): Cora {
  const indptr = readTyped(path.join(dir, "features.indptr.u32"), Uint32Array);
  const indices = readTyped(path.join(dir, "features.indices.u32"), Uint32Array);
  const values = readTyped(path.join(dir, "features.values.f32"), Float32Array);
  const labels = readTyped(path.join(dir, "labels.i32"), Int32Array);
  const edges = readTyped(path.join(dir, "edges.u32"), Uint32Array);
  const split = JSON.parse(fs.readFileSync(path.join(dir, "split.json"), "utf8")) as { train: number[] };
  const n = indptr.length - 1;
  let f = 0;
  for (const j of indices) f = Math.max(f, j + 1);
  const meta = path.join(dir, "meta.json");
  if (fs.existsSync(meta)) f = Math.max(f, (JSON.parse(fs.readFileSync(meta, "utf8")) as { num_features?: number }).num_features ?? 0);
  let c = 0;
  for (const y of labels) c = Math.max(c, y + 1);
  // row-normalised features
  const vals = Float32Array.from(values);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let k = indptr[r]; k < indptr[r + 1]; k++) s += vals[k];
    if (s !== 0) for (let k = indptr[r]; k < indptr[r + 1]; k++) vals[k] /= s;
  }
  const x: CsrMatrix = { rows: n, cols: f, rowPtr: Int32Array.from(indptr), colIdx: Int32Array.from(indices), values: vals };
  // edges + one self-loop per node, symmetric normalisation with degrees of A + I
  const e0 = edges.length / 2;
  const src = new Int32Array(e0 + n);
  const dst = new Int32Array(e0 + n);
  for (let e = 0; e < e0; e++) {
    src[e] = edges[2 * e];
    dst[e] = edges[2 * e + 1];
  }
  for (let v = 0; v < n; v++) src[e0 + v] = dst[e0 + v] = v;
  const deg = new Float64Array(n);
  for (let e = 0; e < src.length; e++) deg[dst[e]]++;
  const norm = new Float32Array(src.length);
  for (let e = 0; e < src.length; e++) norm[e] = 1 / Math.sqrt(deg[src[e]] * deg[dst[e]]);
  return { n, f, c, x, labels, train: Int32Array.from(split.train), src, dst, norm };
}


// ---------------------------------------------------------------- the model

interface Setup {
  label: string;
  /** X·W1 and H·W2: sparseMatMul + denseMatMul, dense X + denseMatMul, or dense X + tf.matMul */
  matmuls: "custom" | "dense-fastgrad" | "stock";
  kernels: SparseKernels;
  /** FusedAdam with weight decay, or tf.train.adam with the L2 term in the loss (as trainer/train.ts) */
  optimizer: "fused" | "tfjs";
  warmup: number;
  epochs: number;
}

const LR = 0.01;
const WEIGHT_DECAY = 5e-4;

class Gcn {
  readonly vars: tf.Variable[];
  private readonly w1: tf.Variable;
  private readonly b1: tf.Variable;
  private readonly w2: tf.Variable;
  private readonly b2: tf.Variable;
  private readonly m1: tf.Variable;
  private readonly m2: tf.Variable;
  private readonly edgeMask: tf.Variable;
  private readonly norm: tf.Tensor1D;
  private readonly targets: tf.Tensor2D;
  private readonly xDense: tf.Tensor2D | null;
  private readonly xSparse: PreparedSparseMatrix | null;
  private readonly graph: MessagePassingGraph;
  private readonly tfAdam: tf.AdamOptimizer | null;
  private readonly fusedAdam: FusedAdam | null;
    private epoch = 0;

  constructor(
    private readonly d: Cora,
    readonly setup: Setup,
    trainMasks: boolean,
    hidden = 512,
  ) {
    const rng = new Rng(1899);
    const variable = (init: () => tf.Tensor, trainable: boolean) => tf.tidy(() => tf.variable(init(), trainable));
    this.w1 = variable(() => tf.tensor2d(glorotUniform(d.f, hidden, rng), [d.f, hidden]), true);
    this.w2 = variable(() => tf.tensor2d(glorotUniform(hidden, d.c, rng), [hidden, d.c]), true);
    this.b1 = variable(() => tf.zeros([hidden]), true);
    this.b2 = variable(() => tf.zeros([d.c]), true);
    this.m1 = variable(() => tf.ones([d.f, hidden]), trainMasks);
    this.m2 = variable(() => tf.ones([hidden, d.c]), trainMasks);
    this.edgeMask = variable(() => tf.ones([d.src.length]), trainMasks);
    this.vars = [this.w1, this.b1, this.w2, this.b2];
    if (trainMasks) this.vars.push(this.m1, this.m2, this.edgeMask);
    this.norm = tf.tensor1d(d.norm);
    // one-hot targets on the training nodes / #train, so that -Σ targets ⊙ logSoftmax is the mean CE
    const t = new Float32Array(d.n * d.c);
    for (const v of d.train) t[v * d.c + d.labels[v]] = 1 / d.train.length;
    this.targets = tf.tensor2d(t, [d.n, d.c]);
    this.graph = prepareMessagePassing(d.src, d.dst, d.n, { kernels: setup.kernels });
    if (setup.matmuls === "custom") {
      this.xSparse = prepareSparseMatrix(d.x, { kernels: setup.kernels });
      this.xDense = null;
    } else {
      this.xSparse = null;
      const dense = new Float32Array(d.n * d.f);
      for (let r = 0; r < d.n; r++) for (let k = d.x.rowPtr[r]; k < d.x.rowPtr[r + 1]; k++) dense[r * d.f + d.x.colIdx[k]] = d.x.values[k];
      this.xDense = tf.tensor2d(dense, [d.n, d.f]);
    }
    this.tfAdam = setup.optimizer === "tfjs" ? tf.train.adam(LR) : null;
    this.fusedAdam = setup.optimizer === "fused" ? new FusedAdam({ learningRate: LR, weightDecay: WEIGHT_DECAY }) : null;
  }

  private matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
    return this.setup.matmuls === "stock" ? tf.matMul(a, b) : denseMatMul(a, b);
  }

  /** mean cross-entropy on the training nodes (+ the L2 term when tf.train.adam is used) */
  private loss(training: boolean): tf.Scalar {
    const ew = tf.mul(this.edgeMask, this.norm) as tf.Tensor1D;
    const w1 = tf.mul(this.w1, this.m1) as tf.Tensor2D;
    const xw = this.xSparse ? sparseMatMul(this.xSparse, w1) : this.matMul(this.xDense!, w1);
    const z1 = tf.add(messagePassing(xw, ew, this.graph), this.b1);
    const seed = 1899 * 100003 + this.epoch;
    let h = tf.relu(z1) as tf.Tensor2D;
    if (training) h = dropout(h, 0.5, seed);
    const hw = this.matMul(h, tf.mul(this.w2, this.m2) as tf.Tensor2D);
    const z2 = tf.add(messagePassing(hw, ew, this.graph), this.b2);
    const ce = tf.neg(tf.sum(tf.mul(this.targets, tf.logSoftmax(z2)))) as tf.Scalar;
    if (!training || this.fusedAdam) return ce;
    // the same objective as FusedAdam's weight decay (and trainer/train.ts): L2 over every trained variable
    const l2 = tf.addN(this.vars.map((v) => tf.sum(tf.square(v))));
    return tf.add(ce, tf.mul(l2, WEIGHT_DECAY / 2)) as tf.Scalar;
  }

  /** one epoch: forward, backward, Adam step; reads the loss back (4 bytes) so the step has finished */
  step(): number {
    const cost = this.fusedAdam ? this.fusedAdam.minimize(() => this.loss(true), this.vars) : this.tfAdam!.minimize(() => this.loss(true), true, this.vars)!;
    this.epoch++;
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  }

  /** training-set cross-entropy without dropout */
  trainCe(): number {
    return tf.tidy(() => this.loss(false).dataSync()[0]);
  }

  dispose(): void {
    tf.dispose([...this.vars, this.m1, this.m2, this.edgeMask, this.norm, this.targets]);
    this.xDense?.dispose();
    this.xSparse?.dispose();
    this.graph.dispose();
    this.tfAdam?.dispose();
    this.fusedAdam?.dispose();
  }
}

/** The trainer's own model and step (trainer/train.ts), i.e. exactly what `fastglt pipeline` runs per epoch. */
class TrainerGcn {
  private readonly model: GcnModel;
  private readonly trainStep: TrainStep;
  private epoch = 0;
  constructor(
    dataDir: string,
    readonly setup: Setup,
    trainMasks: boolean,
  ) {
    const raw = loadPlanetoidFlat(dataDir);
    const graph = { ...raw, features: rowNormalise(raw.features) };
    this.model = new GcnModel(graph, { hidden: 512, dropout: 0.5, seed: 1899 });
    this.model.trainEdgeMask = trainMasks;
    this.trainStep = createTrainStep(this.model, graph, { lr: LR, weightDecay: WEIGHT_DECAY, seed: 1899 });
  }
  step(): number {
    return this.trainStep(++this.epoch);
  }
  trainCe(): number {
    return NaN;
  }
  dispose(): void {
    this.trainStep.dispose();
    this.model.dispose();
  }
}

type Steppable = Pick<Gcn, "setup" | "step" | "trainCe" | "dispose">;

// ---------------------------------------------------------------- measuring

interface Row {
  setup: Setup;
  times: number[];
  /** process CPU time (user + system) per epoch: what the epoch costs when other processes compete for the cores */
  cpu: number[];
  ceBefore: number;
  ceAfter: number;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

function measure(model: Steppable): Row {
  const { label, warmup, epochs } = model.setup;
  process.stderr.write(`${label}: ${warmup} warm-up + ${epochs} epochs ...`);
  const ceBefore = model.trainCe();
  for (let i = 0; i < warmup; i++) model.step();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < epochs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    model.step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  process.stderr.write(" done\n");
  const sort = (a: number[]) => a.sort((x, y) => x - y);
  return { setup: model.setup, times: sort(times), cpu: sort(cpu), ceBefore, ceAfter: model.trainCe() };
}

/** tf.profile over several epochs; per kernel (name → output shape) the median over epochs of its summed time */
async function profileEpochs(model: Gcn, epochs = 7): Promise<void> {
  const perEpoch: Map<string, { ms: number; calls: number }>[] = [];
  const walls: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    const info = await tf.profile(() => {
      model.step();
    });
    walls.push(performance.now() - t0);
    const byKey = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const key = `${k.name} → [${(k.outputShapes[0] ?? []).join("×")}]`;
      const x = byKey.get(key) ?? { ms: 0, calls: 0 };
      x.ms += Number(k.kernelTimeMs);
      x.calls++;
      byKey.set(key, x);
    }
    perEpoch.push(byKey);
  }
  const med = (a: number[]) => quantile(a.sort((x, y) => x - y), 0.5);
  const keys = new Set(perEpoch.flatMap((m) => [...m.keys()]));
  const rows = [...keys]
    .map((key) => ({ key, ms: med(perEpoch.map((m) => m.get(key)?.ms ?? 0)), calls: perEpoch[0].get(key)?.calls ?? 0 }))
    .sort((a, b) => b.ms - a.ms);
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const custom = rows.filter((r) => r.key.startsWith("Fastglt")).reduce((s, r) => s + r.ms, 0);
  console.log(`\nprofile (${model.setup.label}; tf.profile, median over ${epochs} epochs; wall ${med(walls).toFixed(1)} ms/epoch incl. profiling overhead)`);
  const top = 16;
  for (const r of rows.slice(0, top)) console.log(`  ${r.ms.toFixed(2).padStart(7)} ms  ${String(r.calls).padStart(3)}×  ${r.key}`);
  console.log(`  ${rows.slice(top).reduce((s, r) => s + r.ms, 0).toFixed(2).padStart(7)} ms        ${Math.max(0, rows.length - top)} other kernels`);
  console.log(`  ${total.toFixed(2).padStart(7)} ms        all kernels (${custom.toFixed(1)} ms in the Fastglt* custom kernels); the rest of the epoch is`);
  console.log(`                     outside kernels: FusedAdam / tf.train.adam bookkeeping, dropout mask, autodiff tape, JS glue`);
}

async function loadKernels(which: Args["kernels"]): Promise<SparseKernels> {
  if (which === "reference") return referenceKernels;
  try {
    const m = await import("../runtime-wasm/host/wasm-kernels.js");
    return m.loadWasmKernels();
  } catch (err) {
    if (which === "simd") throw new Error(`--kernels simd: the wasm kernels did not load (${(err as Error).message}); run npm run build:wasm`);
    console.log(`(wasm SIMD kernels unavailable: ${(err as Error).message.split("\n")[0]}; using the reference kernels)`);
    return referenceKernels;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await initBackend("wasm");
  const kernels = await loadKernels(args.kernels);
  setSparseKernels(kernels);
  const d = loadCora(args.dataDir);
  const nnz = d.x.rowPtr[d.n];
  console.log(
    `Cora: ${d.n} nodes, ${d.f} features (nnz ${nnz}, ${((100 * nnz) / (d.n * d.f)).toFixed(2)}% dense), ${d.c} classes, ` +
      `${d.src.length} edges with self-loops, ${d.train.length} training nodes; GCN ${d.f}-512-${d.c}, ` +
      `${args.trainMasks ? "edge and weight masks trained" : "masks fixed (ones)"}`,
  );

  const base: Setup = { label: "", matmuls: "custom", kernels, optimizer: "fused", warmup: args.warmup, epochs: args.epochs };
  const setups: Setup[] = [
    { ...base, label: `custom ops, ${kernels.name} kernels, FusedAdam` },
    { ...base, label: "  same, tf.train.adam + L2 in the loss", optimizer: "tfjs" },
    ...(kernels !== referenceKernels ? [{ ...base, label: "  same, reference kernels", kernels: referenceKernels }] : []),
    { ...base, label: "dense X, denseMatMul, tf.train.adam + L2", matmuls: "dense-fastgrad", optimizer: "tfjs", warmup: 2 },
    { ...base, label: "stock: dense X, tf.matMul, tf.train.adam + L2", matmuls: "stock", optimizer: "tfjs", warmup: 1, epochs: args.stockEpochs },
  ];
  const rows: Row[] = [];
  let profiled: Gcn | null = null;
  const trainer = new TrainerGcn(args.dataDir, { ...base, label: "trainer: GcnModel + createTrainStep (pipeline)" }, args.trainMasks);
  rows.push(measure(trainer));
  trainer.dispose();
  for (const s of setups) {
    const m = new Gcn(d, s, args.trainMasks);
    rows.push(measure(m));
    if (!profiled) profiled = m;
    else m.dispose();
  }

  const stockMedian = quantile(rows[rows.length - 1].times, 0.5);
  const [l1, l2] = os.loadavg();
  console.log(`\nload average ${l1.toFixed(2)} / ${l2.toFixed(2)} on ${os.cpus().length} cores (other processes inflate wall times; cpu ms does not count waiting)`);
  console.log(`${"variant".padEnd(50)} ${"median".padStart(8)} ${"p10–p90 ms".padStart(15)} ${"cpu ms".padStart(7)} ${"epochs".padStart(6)} ${"vs stock".padStart(9)}  train CE before → after`);
  for (const r of rows) {
    const med = quantile(r.times, 0.5);
    console.log(
      `${r.setup.label.padEnd(50)} ${med.toFixed(1).padStart(8)} ${`${quantile(r.times, 0.1).toFixed(1)}–${quantile(r.times, 0.9).toFixed(1)}`.padStart(15)} ` +
        `${quantile(r.cpu, 0.5).toFixed(1).padStart(7)} ${String(r.times.length).padStart(6)} ${`${(stockMedian / med).toFixed(1)}×`.padStart(9)}  ${r.ceBefore.toFixed(3)} → ${r.ceAfter.toFixed(3)}`,
    );
  }
  console.log(
    "median wall ms per epoch (forward + backward + Adam step, lr 0.01, weight decay 5e-4). Every row passes messages with the\n" +
      "custom messagePassing (tfjs-backend-wasm has no UnsortedSegmentSum).",
  );
  if (args.profile && profiled) await profileEpochs(profiled);
  profiled?.dispose();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
