// The first layer on the kept weights alone (models/input-transform.ts) against the dense-weight
// product: the same logits and the same gradients, in both mask modes, for the GCN, GIN and GAT.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcnModel } from "../../../trainer/models/gcn.js";
import { GinModel } from "../../../trainer/models/gin.js";
import { GatModel } from "../../../trainer/models/gat.js";
import type { PrunableModel } from "../../../trainer/models/prunable.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import { lossAndGradients, trainTargets } from "../../../trainer/train.js";
import { Rng } from "../../../trainer/util/rng.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";
import { configs, expectClose, useBackend } from "../ops/helpers.js";
import type { Graph } from "../../../trainer/data/graph.js";

const CONFIGS = await configs();
const graph: Graph = randomSmallGraph(11, 41, 60, 3);

type Make = (maxDensity: number) => PrunableModel & { sparseFirstLayer: boolean };
const MODELS: [string, Make][] = [
  ["gcn", (d) => new GcnModel(graph, { hidden: 7, dropout: 0.5, seed: 2, sparseWeightMaxDensity: d })],
  ["gin", (d) => new GinModel(graph, { hidden: 7, dropout: 0.5, seed: 2, sparseWeightMaxDensity: d })],
  ["gat", (d) => new GatModel(graph, { hidden: 3, heads: 2, inputDropout: 0.6, dropout: 0.6, attentionDropout: 0.6, seed: 2, sparseWeightMaxDensity: d })],
];

/** Keeps ~8% of the first weight (and half of the second), the same pattern on every model. */
function prune(model: PrunableModel, mode: "multiply" | "zeroed"): void {
  const rng = new Rng(3);
  for (const [i, w] of model.weights.entries()) w.mask = Float32Array.from(w.mask, () => (rng.next() < (i === 0 ? 0.08 : 0.5) ? 1 : 0));
  model.syncMasks();
  model.maskMode = mode;
  if (mode === "zeroed") model.zeroPruned();
}

describe.each(CONFIGS)("the sparse first layer on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const [kind, make] of MODELS) {
    for (const mode of ["multiply", "zeroed"] as const) {
      it(`${kind}, ${mode} mode: logits and gradients equal the dense-weight path's (pruned entries of dW1 skipped unless asked for)`, () => {
        const sparse = make(0.2);
        const dense = make(0);
        prune(sparse, mode);
        prune(dense, mode);
        expect(sparse.sparseFirstLayer).toBe(true);
        expect(dense.sparseFirstLayer).toBe(false);
        const targets = trainTargets(graph);
        for (const training of [false, true]) {
          const [a, b] = [sparse.forward(training, 5), dense.forward(training, 5)];
          expectClose(a.dataSync(), b.dataSync(), `logits, training ${training}`, 1e-5);
          tf.dispose([a, b]);
        }
        for (const denseGradients of [true, false]) {
          sparse.denseWeightGradients = denseGradients;
          const gs = lossAndGradients(sparse, targets, sparse.trainableVariables(), 5);
          const gd = lossAndGradients(dense, targets, dense.trainableVariables(), 5);
          expect(gs.loss).toBeCloseTo(gd.loss, 5);
          const w1 = sparse.weights[0];
          gs.grads.forEach((g, i) => {
            const expected = gd.grads[i]!.dataSync() as Float32Array;
            const actual = g!.dataSync() as Float32Array;
            if (g && sparse.trainableVariables()[i] === w1.value && mode === "zeroed" && !denseGradients) {
              // at kept entries the gradient; pruned ones are not computed (the masked optimizer step
              // ignores them): 0 for the GCN and GIN, only the attention scores' share for the GAT
              const kept = (a: Float32Array) => a.filter((_, k) => w1.mask[k] !== 0);
              expectClose(kept(actual), kept(expected), "masked dW1 at kept entries", 1e-5);
              if (kind !== "gat") expect(actual.some((v, k) => !w1.mask[k] && v !== 0)).toBe(false);
            } else {
              expectClose(actual, expected, `gradient ${i} (dense gradients ${denseGradients})`, 1e-5);
            }
          });
          tf.dispose([...gs.grads, ...gd.grads].filter((g): g is tf.Tensor => g !== null));
        }
        targets.dispose();
        // a denser mask leaves the sparse path
        sparse.weights[0].mask.fill(1);
        sparse.syncMasks();
        expect(sparse.sparseFirstLayer).toBe(false);
        sparse.dispose();
        dense.dispose();
      });
    }
  }
});
