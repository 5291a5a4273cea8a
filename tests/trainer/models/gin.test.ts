import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../../trainer/backend.js";
import { csrToDense } from "../../../ticket/csr.js";
import { GinModel } from "../../../trainer/models/gin.js";
import { buildTicket } from "../../../trainer/ticket-builder.js";
import { referenceForward } from "../../../runtime-wasm/host/reference.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";
import { rawDir } from "../data/paths.js";
import type { Graph } from "../../../trainer/data/graph.js";

/**
 * The GIN by its definition, in f64 over the graph's edge list: h' = act(((1+0)·h_v + mean over
 * kept in-edges of m_e·h_u)·W + b). Independent of the model's coefficient bookkeeping.
 */
function referenceGin(graph: Graph, w: Float32Array[], b: Float32Array[], dims: number[], mask: Float32Array, keep: Float32Array): Float64Array {
  const n = graph.numNodes;
  let h = Float64Array.from(csrToDense(graph.features as never).data);
  for (let l = 0; l < 2; l++) {
    const [fin, fout] = [dims[l], dims[l + 1]];
    const kept = new Float64Array(n);
    const sum = new Float64Array(n * fin);
    graph.edgeSrc.forEach((u, e) => {
      if (keep[e] === 0) return;
      const v = graph.edgeDst[e];
      kept[v]++;
      for (let i = 0; i < fin; i++) sum[v * fin + i] += mask[e] * h[u * fin + i];
    });
    const out = new Float64Array(n * fout);
    for (let v = 0; v < n; v++) {
      for (let j = 0; j < fout; j++) {
        let s = b[l][j];
        for (let i = 0; i < fin; i++) s += (h[v * fin + i] + (kept[v] > 0 ? sum[v * fin + i] / kept[v] : 0)) * w[l][i * fout + j];
        out[v * fout + j] = l === 0 ? Math.max(0, s) : s;
      }
    }
    h = out;
  }
  return h;
}

function pruneSome(model: GinModel, seed: number): void {
  const e = model.edges.numGraphEdges;
  const keep = model.edgeKeep.slice();
  for (let k = 0; k < e; k++) if ((k * 7 + seed) % 3 === 0) keep[k] = 0;
  model.edgeKeep = keep;
  model.weights.forEach((w) => {
    const m = w.mask.slice();
    for (let i = 0; i < m.length; i++) if ((i * 5 + seed) % 4 === 0) m[i] = 0;
    w.mask = m;
  });
  model.syncMasks();
  // soft mask values other than 1, as UGS trains them
  tf.tidy(() => model.edgeMask.assign(tf.tensor1d(Float32Array.from({ length: model.edgeKeep.length }, (_, k) => 0.5 + ((k * 13) % 7) / 7))));
}

describe("GinModel", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  for (const maskMode of ["multiply", "zeroed"] as const) {
    it(`computes the GIN of its definition with pruned edges left out of the mean (${maskMode}), and the ticket holds the same model`, () => {
      const g = randomSmallGraph(3);
      const model = new GinModel(g, { hidden: 7, dropout: 0.5, seed: 2 });
      pruneSome(model, 1);
      model.maskMode = maskMode;
      if (maskMode === "zeroed") model.zeroPruned();
      const logits = model.forward(false).dataSync();
      const w = model.weights.map((p) => Float32Array.from(p.value.dataSync(), (v, i) => v * p.mask[i]));
      const b = model.biases.map((v) => v.dataSync() as Float32Array);
      const mask = model.edgeMask.dataSync() as Float32Array;
      const expected = referenceGin(g, w, b, [g.numFeatures, 7, g.numClasses], mask, model.edgeKeep);
      for (let i = 0; i < expected.length; i++) expect(logits[i]).toBeCloseTo(expected[i], 4);

      const ticket = buildTicket(model, g, { dataset: g.name, method: "oneshot", seed: 2, valAccuracy: 0, testAccuracy: 0, denseTestAccuracy: 0, trainingSeconds: 0 });
      expect(ticket.meta.model).toBe("gin");
      expect(ticket.layers.map((l) => l.kind)).toEqual(["gin", "gin"]);
      const fromTicket = referenceForward(ticket);
      for (let i = 0; i < expected.length; i++) expect(fromTicket[i]).toBeCloseTo(expected[i], 4);
      model.dispose();
    });
  }

  it("never masks the self term: its edge-mask entries get no gradient and searches may not prune them", () => {
    const g = randomSmallGraph(4);
    const model = new GinModel(g, { hidden: 5, dropout: 0, seed: 1 });
    expect(model.selfLoopsPrunable).toBe(false);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(false))) as tf.Scalar, [model.edgeMask]);
    const grad = grads[model.edgeMask.name].dataSync();
    const e = model.edges.numGraphEdges;
    for (let k = e; k < grad.length; k++) expect(Math.abs(grad[k])).toBe(0);
    expect(Array.from(grad.subarray(0, e)).some((x) => x !== 0)).toBe(true);
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it("trains on Cora to at least 77% test accuracy (dense, seed 0)", async () => {
    const { loadDataset } = await import("../../../trainer/data/load.js");
    const { train } = await import("../../../trainer/train.js");
    const { loadWasmKernels } = await import("../../../runtime-wasm/host/wasm-kernels.js");
    const { setSparseKernels } = await import("../../../trainer/ops/kernel-bridge.js");
    await initBackend("wasm", () => {});
    setSparseKernels(loadWasmKernels());
    const graph = await loadDataset("cora", { dataDir: rawDir });
    const model = new GinModel(graph, { hidden: 512, dropout: 0.5, seed: 0 });
    const r = train(model, graph, { epochs: 40, lr: 0.005, weightDecay: 5e-4, seed: 0 });
    expect(r.best.testAccuracy).toBeGreaterThanOrEqual(0.77);
    model.dispose();
  }, 120_000);
});
