// GAT on Cora (wasm backend, SIMD kernels): ms per training epoch (forward + backward + Adam, the
// step `train` runs) and per evaluation forward pass, beside the GCN (hidden 512) as the baseline
// row; optionally a per-kernel profile and dense training to best validation.
//   npx tsx bench/gat-epoch.ts [--sizes 64,512] [--heads 8] [--epochs 20] [--warmup 3] [--profile]
//     [--train-epochs 0] [--train-hidden 512] [--seeds 0] [--lr 0.005] [--weight-decay 5e-4]
//     [--input-dropout 0.6] [--dropout 0.6] [--attention-dropout 0.6] [--data-dir ../shared/data/planetoid]
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../trainer/backend.js";
import { loadDataset } from "../trainer/data/load.js";
import { useFastKernels } from "../trainer/kernels.js";
import { GatModel, GAT_DEFAULTS } from "../trainer/models/gat.js";
import { GcnModel, GCN_DEFAULTS } from "../trainer/models/gcn.js";
import type { PrunableModel } from "../trainer/models/prunable.js";
import { createTrainStep, train } from "../trainer/train.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "64,512" },
    heads: { type: "string", default: String(GAT_DEFAULTS.heads) },
    epochs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    profile: { type: "boolean", default: false },
    "train-epochs": { type: "string", default: "0" },
    "train-hidden": { type: "string", default: String(GAT_DEFAULTS.hidden) },
    seeds: { type: "string", default: "0" },
    lr: { type: "string", default: "0.005" },
    "weight-decay": { type: "string", default: "5e-4" },
    "input-dropout": { type: "string", default: String(GAT_DEFAULTS.inputDropout) },
    dropout: { type: "string", default: String(GAT_DEFAULTS.dropout) },
    "attention-dropout": { type: "string", default: String(GAT_DEFAULTS.attentionDropout) },
    "data-dir": { type: "string", default: "../shared/data/planetoid" },
  },
});
const num = (k: keyof typeof values) => {
  const x = Number(values[k]);
  if (!Number.isFinite(x) || x < 0) throw new Error(`--${k}: expected a number ≥ 0, got "${String(values[k])}"`);
  return x;
};

const backend = await initBackend("wasm", () => {});
await useFastKernels(backend);
const graph = await loadDataset("cora", { dataDir: values["data-dir"] });
const heads = num("heads");
const gatConfig = (hidden: number, seed: number) => ({
  hidden,
  heads,
  inputDropout: num("input-dropout"),
  dropout: num("dropout"),
  attentionDropout: num("attention-dropout"),
  seed,
});
const trainOpts = { lr: num("lr"), weightDecay: num("weight-decay") };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  label: string;
  epochMedian: number;
  epochMin: number;
  evalMedian: number;
}

async function measure(label: string, model: PrunableModel, lr: number): Promise<Row> {
  const step = createTrainStep(model, graph, { lr, weightDecay: trainOpts.weightDecay, seed: 0 });
  for (let e = 1; e <= num("warmup"); e++) step(e);
  const epochs: number[] = [];
  const evals: number[] = [];
  for (let e = 1; e <= num("epochs"); e++) {
    let t0 = performance.now();
    step(e);
    epochs.push(performance.now() - t0);
    t0 = performance.now();
    model.forward(false).dispose();
    evals.push(performance.now() - t0);
  }
  if (values.profile) {
    const kernels: Record<string, number> = {};
    const info = await tf.profile(() => {
      step(0);
    });
    for (const k of info.kernels) kernels[k.name] = (kernels[k.name] ?? 0) + (k.kernelTimeMs as number);
    console.log(`${label}: one profiled epoch, kernel time (ms)`);
    for (const [name, ms] of Object.entries(kernels).sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${name.padEnd(32)} ${ms.toFixed(1)}`);
  }
  step.dispose();
  model.dispose();
  return { label, epochMedian: median(epochs), epochMin: Math.min(...epochs), evalMedian: median(evals) };
}

const rows: Row[] = [await measure("GCN 512 (baseline)", new GcnModel(graph, { ...GCN_DEFAULTS, seed: 0 }), 0.01)];
for (const hidden of values.sizes!.split(",").map(Number)) rows.push(await measure(`GAT ${heads} × ${hidden}`, new GatModel(graph, gatConfig(hidden, 0)), trainOpts.lr));
console.log(`\nCora, ${num("epochs")} epochs after ${num("warmup")} warm-up, wasm backend (${tf.env().get("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD"})`);
console.log(`${"model".padEnd(20)} ${"epoch median".padStart(13)} ${"epoch min".padStart(10)} ${"eval median".padStart(12)} ${"× GCN".padStart(7)}`);
for (const r of rows) {
  console.log(
    `${r.label.padEnd(20)} ${r.epochMedian.toFixed(1).padStart(10)} ms ${r.epochMin.toFixed(1).padStart(7)} ms ${r.evalMedian.toFixed(1).padStart(9)} ms ${(r.epochMedian / rows[0].epochMedian).toFixed(1).padStart(7)}`,
  );
}

const trainEpochs = num("train-epochs");
if (trainEpochs > 0) {
  const hidden = num("train-hidden");
  const accs: number[] = [];
  console.log(`\ndense training, GAT ${heads} × ${hidden}, ${trainEpochs} epochs, lr ${trainOpts.lr}, weight decay ${trainOpts.weightDecay}, best validation epoch:`);
  for (const seed of values.seeds!.split(",").map(Number)) {
    const model = new GatModel(graph, gatConfig(hidden, seed));
    const r = train(model, graph, { ...trainOpts, epochs: trainEpochs, seed });
    accs.push(r.best.testAccuracy);
    console.log(
      `seed ${seed}: test ${(100 * r.best.testAccuracy).toFixed(1)}%  val ${(100 * r.best.valAccuracy).toFixed(1)}%  best epoch ${r.bestEpoch}  ${r.seconds.toFixed(1)} s (${((1000 * r.seconds) / r.epochs).toFixed(0)} ms/epoch incl. evaluation)`,
    );
    model.dispose();
  }
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  console.log(`mean test accuracy ${(100 * mean).toFixed(2)}% over ${accs.length} seed(s)`);
}
