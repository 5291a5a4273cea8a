import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../trainer/backend.js";
import { GcnModel } from "../../../trainer/models/gcn.js";
import { edgeSaliency } from "../../../trainer/prune/edge-saliency.js";
import { pruneOneShot, measureSparsity } from "../../../trainer/prune/oneshot.js";
import { Rng } from "../../../trainer/util/rng.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";

describe("edge saliency", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  it("equals |m_e · dL/dm_e| by central differences of the self-distillation loss", () => {
    const g = randomSmallGraph(7);
    const model = new GcnModel(g, { hidden: 5, dropout: 0, seed: 1 });
    const rng = new Rng(2);
    const m0 = Float32Array.from({ length: model.edgeMask.size }, () => 0.5 + rng.next());
    model.edgeMask.assign(tf.tensor1d(m0));
    const score = edgeSaliency(model);
    expect(score.length).toBe(g.edgeSrc.length);

    const logits = model.forward(false);
    const c = g.numClasses;
    const pseudo = Array.from({ length: g.numNodes }, (_, v) => {
      const row = Array.from(logits.dataSync().slice(v * c, v * c + c));
      return row.indexOf(Math.max(...row));
    });
    logits.dispose();
    const loss = (m: Float32Array): number => {
      model.edgeMask.assign(tf.tensor1d(m));
      const z = model.forward(false).dataSync();
      let total = 0;
      for (let v = 0; v < g.numNodes; v++) {
        let max = -Infinity;
        for (let k = 0; k < c; k++) max = Math.max(max, z[v * c + k]);
        let sum = 0;
        for (let k = 0; k < c; k++) sum += Math.exp(z[v * c + k] - max);
        total -= z[v * c + pseudo[v]] - max - Math.log(sum);
      }
      return total / g.numNodes;
    };
    const h = 1e-2;
    for (const e of [0, 5, 17, g.edgeSrc.length - 1]) {
      const up = m0.slice();
      up[e] += h;
      const down = m0.slice();
      down[e] -= h;
      const numeric = Math.abs((m0[e] * (loss(up) - loss(down))) / (2 * h));
      expect(score[e]).toBeCloseTo(numeric, 3);
    }
    model.dispose();
  });

  it("one-shot pruning keeps every self-loop and the requested share of graph edges", () => {
    const g = randomSmallGraph(8);
    const model = new GcnModel(g, { hidden: 5, dropout: 0, seed: 1 });
    pruneOneShot(model, { weight: 0.5, graph: 0.4 }, 3);
    const s = measureSparsity(model);
    expect(s.edgesKept).toBe(Math.round(g.edgeSrc.length * 0.6));
    expect(s.edgesComputed).toBe(s.edgesKept + g.numNodes);
    for (let v = 0; v < g.numNodes; v++) expect(model.edgeKeep[g.edgeSrc.length + v]).toBe(1);
    model.dispose();
  });
});
