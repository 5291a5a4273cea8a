// GAT on Cora (wasm backend, SIMD kernels): ms per training epoch (forward + backward + Adam, the
// step `train` runs) with a per-op profile, then optionally dense training to best validation.
//   npx tsx bench/gat-epoch.ts [--hidden 512] [--heads 8] [--epochs 20] [--warmup 3] [--no-profile]
//     [--train-epochs 0] [--seeds 0] [--lr 0.005] [--weight-decay 5e-4] [--input-dropout 0.6] [--dropout 0.6]
//     [--attention-dropout 0.6] [--data-dir ../shared/data/planetoid]
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../trainer/backend.js";
import { loadDataset } from "../trainer/data/load.js";
import { useFastKernels } from "../trainer/kernels.js";
import { GatModel, GAT_DEFAULTS } from "../trainer/models/gat.js";
import { createTrainStep, train } from "../trainer/train.js";

const { values } = parseArgs({
  options: {
    hidden: { type: "string", default: String(GAT_DEFAULTS.hidden) },
    heads: { type: "string", default: String(GAT_DEFAULTS.heads) },
    epochs: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    "no-profile": { type: "boolean", default: false },
    "train-epochs": { type: "string", default: "0" },
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
const config = { hidden: num("hidden"), heads: num("heads"), inputDropout: num("input-dropout"), dropout: num("dropout"), attentionDropout: num("attention-dropout") };
const trainOpts = { lr: num("lr"), weightDecay: num("weight-decay") };
console.log(`Cora GAT ${config.heads}×${config.hidden}, dropout input/hidden/attention ${config.inputDropout}/${config.dropout}/${config.attentionDropout}, lr ${trainOpts.lr}, wd ${trainOpts.weightDecay}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
{
  const model = new GatModel(graph, { ...config, seed: 0 });
  const step = createTrainStep(model, graph, { ...trainOpts, seed: 0 });
  for (let e = 1; e <= num("warmup"); e++) step(e);
  const times: number[] = [];
  for (let e = 1; e <= num("epochs"); e++) {
    const t0 = performance.now();
    step(e);
    times.push(performance.now() - t0);
  }
  console.log(`epoch: median ${median(times).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)} ms over ${times.length} epochs`);
  if (!values["no-profile"]) {
    const kernels: Record<string, number> = {};
    const info = await tf.profile(() => {
      step(0);
    });
    for (const k of info.kernels) kernels[k.name] = (kernels[k.name] ?? 0) + (k.kernelTimeMs as number);
    const rows = Object.entries(kernels).sort((a, b) => b[1] - a[1]);
    console.log("profiled epoch, kernel time (ms):");
    for (const [name, ms] of rows.slice(0, 15)) console.log(`  ${name.padEnd(28)} ${ms.toFixed(1)}`);
  }
  step.dispose();
  model.dispose();
}

const trainEpochs = num("train-epochs");
if (trainEpochs > 0) {
  const accs: number[] = [];
  for (const seed of values.seeds!.split(",").map(Number)) {
    const model = new GatModel(graph, { ...config, seed });
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
