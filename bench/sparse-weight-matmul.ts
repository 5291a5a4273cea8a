/**
 * The trainer's first layer, X · (W ⊙ M), forward + backward (dW) per training step, on the tfjs wasm
 * backend with the SIMD kernels: the dense-weight op (sparseMatMul: X · W and Xᵀ · dy, nnz(X)·Fout
 * MACs each) against the sparse-weight op (sparseWeightMatMul: only the kept weights) with the masked
 * gradient and with the dense one (what FastGLT's regrowth epochs need), at a ladder of weight
 * densities. Where the sparse op starts to win, with the in-training timings, sets
 * sparseWeightMaxDensity (trainer/ops/sparse-weight-matmul.ts).
 *
 *   FASTGLT_DATA=../shared/data/planetoid npx tsx bench/sparse-weight-matmul.ts [--dataset cora] [--fout 512,4096] [--quick]
 *
 * Results: bench/results/sparse-weight-matmul-<dataset>.{json,md}. Times are medians of interleaved
 * runs (bench/lib/timing.ts), one thread.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../trainer/backend.js";
import { useFastKernels } from "../trainer/kernels.js";
import { loadDataset } from "../trainer/data/load.js";
import { prepareSparseMatrix, sparseMatMul } from "../trainer/ops/sparse-matmul.js";
import { prepareWeightPattern, sparseWeightMatMul, sparseWeightMaxDensity } from "../trainer/ops/sparse-weight-matmul.js";
import { Rng } from "../trainer/util/rng.js";
import { commandLine, loadAvg, machineInfo } from "./lib/machine.js";
import { timeEngines } from "./lib/timing.js";
import { fmt, markdownTable, textTable } from "./lib/table.js";

const { values } = parseArgs({ options: { dataset: { type: "string", default: "cora" }, fout: { type: "string", default: "512,4096" }, quick: { type: "boolean", default: false }, out: { type: "string", default: "bench/results" } } });
const quick = values.quick === true;
const fouts = String(values.fout).split(",").map(Number);
const densities = quick ? [1, 0.15, 0.05] : [1, 0.5, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.02, 0.015];

const backend = await initBackend("wasm", () => {});
await useFastKernels(backend);
const graph = await loadDataset(String(values.dataset), { normalise: true, seed: 0, log: () => {} });
if (graph.features.kind !== "csr") throw new Error("the features must be sparse");
const x = prepareSparseMatrix(graph.features);
const machine = machineInfo();
console.error(`${graph.name}: X ${x.rows} × ${x.cols}, ${x.nnz} stored entries; ${machine.cpu}, load ${loadAvg().join(" ")}`);

interface Row { fout: number; density: number; keptWeights: number; denseMs: number; sparseMaskedMs: number; sparseDenseGradMs: number; forwardDenseMs: number; forwardSparseMs: number }
const rows: Row[] = [];
const rng = new Rng(1);
for (const fout of fouts) {
  const dy = tf.randomNormal([x.rows, fout], 0, 1, "float32", 1) as tf.Tensor2D;
  for (const density of densities) {
    const mask = Float32Array.from({ length: x.cols * fout }, () => (rng.next() < density ? 1 : 0));
    const wv = Float32Array.from(mask, (m) => (m ? rng.normal() : 0));
    const w = tf.variable(tf.tensor2d(wv, [x.cols, fout]));
    const pattern = prepareWeightPattern(mask, x.cols, fout);
    // the wasm backend runs kernels synchronously: no dataSync (it would time a copy of the result)
    const step = (f: (v: tf.Tensor2D) => tf.Tensor2D) => () => tf.dispose(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v as tf.Tensor2D), dy)))(w));
    const fwd = (f: (v: tf.Tensor2D) => tf.Tensor2D) => () => tf.dispose(f(w));
    const t = await timeEngines(
      [
        { name: "dense", run: step((v) => sparseMatMul(x, v)) },
        { name: "sparse masked", run: step((v) => sparseWeightMatMul(x, v, null, pattern, { gradient: "masked" })) },
        { name: "sparse dense-grad", run: step((v) => sparseWeightMatMul(x, v, null, pattern, { gradient: "dense" })) },
        { name: "forward dense", run: fwd((v) => sparseMatMul(x, v)) },
        { name: "forward sparse", run: fwd((v) => sparseWeightMatMul(x, v, null, pattern, { gradient: "masked" })) },
      ],
      { budgetMs: quick ? 150 : 600, minRuns: quick ? 5 : 15 },
    );
    const m = (k: string) => t.get(k)!.ms.median;
    const r: Row = { fout, density, keptWeights: pattern.nnz, denseMs: m("dense"), sparseMaskedMs: m("sparse masked"), sparseDenseGradMs: m("sparse dense-grad"), forwardDenseMs: m("forward dense"), forwardSparseMs: m("forward sparse") };
    rows.push(r);
    console.error(`fout ${fout} density ${density}: dense ${fmt.ms(r.denseMs)} ms, sparse masked ${fmt.ms(r.sparseMaskedMs)} ms (${fmt.ratio(r.denseMs / r.sparseMaskedMs)})`);
    pattern.dispose();
    w.dispose();
  }
  dy.dispose();
}

const columns = ["Fout", "weight density", "kept weights", "dense step ms", "sparse step (masked dW) ms", "speed-up", "sparse step (dense dW) ms", "speed-up", "forward dense ms", "forward sparse ms", "speed-up"];
const cells = rows.map((r) => [String(r.fout), fmt.pct(r.density), fmt.si(r.keptWeights), fmt.ms(r.denseMs), fmt.ms(r.sparseMaskedMs), fmt.ratio(r.denseMs / r.sparseMaskedMs), fmt.ms(r.sparseDenseGradMs), fmt.ratio(r.denseMs / r.sparseDenseGradMs), fmt.ms(r.forwardDenseMs), fmt.ms(r.forwardSparseMs), fmt.ratio(r.forwardDenseMs / r.forwardSparseMs)]);
console.log(textTable(columns, cells));
if (!quick) {
  mkdirSync(String(values.out), { recursive: true });
  const base = `${values.out}/sparse-weight-matmul-${graph.name}`;
  const md = [
    `# X · (W ⊙ M): dense-weight op vs sparse-weight op (${graph.name})`,
    "",
    `\`${commandLine("bench/sparse-weight-matmul.ts")}\` — ${new Date().toISOString()}, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAvgStart.map((l) => l.toFixed(2)).join(" ")} → ${loadAvg().join(" ")}.`,
    "",
    `X: ${x.rows} × ${x.cols}, ${x.nnz} stored entries. A step is the forward and dW (tf.grad of Σ y ⊙ dy: the product with dy, the sum and their gradients are in every step's time), medians of interleaved runs, tfjs wasm backend, SIMD kernels, one thread. The trainer takes the sparse op at weight density ≤ ${fouts.map((f) => `${sparseWeightMaxDensity(f)} (Fout ${f})`).join(", ")}: inside a training epoch the caches are cold and the break-even density lower than here.`,
    "",
    markdownTable(columns, cells),
    "",
  ].join("\n");
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ command: commandLine("bench/sparse-weight-matmul.ts"), date: new Date().toISOString(), machine, loadAvgEnd: loadAvg(), dataset: graph.name, xNnz: x.nnz, rows }, null, 2)}\n`);
  console.error(`wrote ${base}.md and .json`);
}
