import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatModel, GAT_DEFAULTS, type GatConfig } from "../../../trainer/models/gat.js";
import { buildTicket } from "../../../trainer/ticket-builder.js";
import { referenceForward } from "../../../runtime-wasm/host/reference.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import { gatMacs } from "../../../ticket/ticket.js";
import { Rng } from "../../../trainer/util/rng.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";
import { rowErr } from "../../runtime/helpers.js";
import { configs, useBackend } from "../ops/helpers.js";
import { rawDir } from "../data/paths.js";
import type { Graph } from "../../../trainer/data/graph.js";

const CONFIGS = await configs();
const SMALL: GatConfig = { hidden: 4, heads: 3, inputDropout: 0.6, dropout: 0.6, attentionDropout: 0.6, seed: 3 };
const INFO = { dataset: "random", method: "oneshot", seed: 0, valAccuracy: 0, testAccuracy: 0, denseTestAccuracy: 0, trainingSeconds: 0 };

function logitsOf(model: GatModel): Float32Array {
  const t = model.forward(false);
  const v = t.dataSync().slice() as Float32Array;
  t.dispose();
  return v;
}

/** Random values in place of the initial ones: attention far from uniform, nonzero biases, soft edge-mask values. */
function randomise(model: GatModel, seed: number): void {
  const rng = new Rng(seed);
  tf.tidy(() => {
    for (const a of model.attention) a.assign(tf.tensor(Float32Array.from({ length: a.size }, () => 1.5 * rng.normal()), a.shape));
    for (const b of model.biases) b.assign(tf.tensor(Float32Array.from({ length: b.size }, () => 0.3 * rng.normal()), b.shape));
    for (const w of model.weights) w.value.assign(tf.tensor(Float32Array.from({ length: w.rows * w.cols }, () => rng.normal()), [w.rows, w.cols]));
    model.edgeMask.assign(tf.tensor1d(Float32Array.from({ length: model.edgeKeep.length }, () => 0.3 + 1.4 * rng.next())));
  });
}

/** Prunes every third graph edge and every fourth weight (pattern shifted by `seed`). */
function pruneSome(model: GatModel, seed: number): void {
  const keep = model.edgeKeep.slice();
  for (let k = 0; k < model.edges.numGraphEdges; k++) if ((k * 7 + seed) % 3 === 0) keep[k] = 0;
  model.edgeKeep = keep;
  for (const w of model.weights) w.mask = Float32Array.from(w.mask, (_, i) => ((i * 5 + seed) % 4 === 0 ? 0 : 1));
  model.syncMasks();
}

function countNonzero(a: Float32Array): number {
  return a.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);
}

describe.each(CONFIGS)("GatModel on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const maskMode of ["multiply", "zeroed"] as const) {
    it(`eval logits equal referenceForward of its ticket, edges and weights pruned (${maskMode})`, () => {
      const g = randomSmallGraph(5);
      const model = new GatModel(g, SMALL);
      randomise(model, 17);
      pruneSome(model, 1);
      model.maskMode = maskMode;
      if (maskMode === "zeroed") model.zeroPruned();
      const logits = logitsOf(model);

      const ticket = buildTicket(model, g, INFO);
      expect(ticket.meta.model).toBe("gat");
      expect(ticket.layers.map((l) => [l.kind, l.inFeatures, l.outFeatures, l.activation, l.attention?.heads, l.attention?.headFeatures, l.attention?.concat])).toEqual([
        ["gat", g.numFeatures, 12, "elu", 3, 4, true],
        ["gat", 12, g.numClasses, "none", 1, g.numClasses, false],
      ]);
      expect(ticket.layers.every((l) => l.attention!.negativeSlope === 0.2)).toBe(true);
      const keptGraphEdges = countNonzero(model.edgeKeep.subarray(0, model.edges.numGraphEdges));
      expect(keptGraphEdges).toBeLessThan(model.edges.numGraphEdges);
      expect(ticket.graph.rowPtr[g.numNodes]).toBe(keptGraphEdges + g.numNodes);
      const nnz = model.weights.map((w) => countNonzero(w.mask));
      expect(ticket.meta.macsTicket).toBe(
        gatMacs(g.numNodes, keptGraphEdges + g.numNodes, nnz[0], 3, 4) + gatMacs(g.numNodes, keptGraphEdges + g.numNodes, nnz[1], 1, g.numClasses),
      );

      const expected = referenceForward(ticket);
      expect(rowErr(logits, expected, g.numClasses)).toBeLessThanOrEqual(1e-4);
      // the ticket's coefficients are the soft mask values, not just 0/1
      expect(new Set(ticket.graph.coef).size).toBeGreaterThan(10);
      model.dispose();
    });
  }

  it("a pruned edge contributes nothing: a node whose only out-edge is pruned cannot change its neighbour's logits", () => {
    const g = randomSmallGraph(5);
    const outDegree = new Int32Array(g.numNodes);
    for (const u of g.edgeSrc) outDegree[u]++;
    const u = outDegree.indexOf(1);
    expect(u).toBeGreaterThanOrEqual(0);
    const e = g.edgeSrc.indexOf(u);
    const v = g.edgeDst[e];
    // the same graph with u's features replaced
    const x = g.features;
    if (x.kind !== "csr") throw new Error("expected CSR features");
    const values = x.values.slice();
    for (let k = x.rowPtr[u]; k < x.rowPtr[u + 1]; k++) values[k] = 5 + 3 * k;
    expect(x.rowPtr[u + 1]).toBeGreaterThan(x.rowPtr[u]);
    const g2: Graph = { ...g, features: { ...x, values } };

    for (const maskMode of ["multiply", "zeroed"] as const) {
      const run = (graph: Graph, pruned: boolean) => {
        const model = new GatModel(graph, SMALL);
        randomise(model, 23);
        if (pruned) {
          const keep = model.edgeKeep.slice();
          keep[e] = 0;
          model.edgeKeep = keep;
          model.syncMasks();
        }
        model.maskMode = maskMode;
        if (maskMode === "zeroed") model.zeroPruned();
        const logits = logitsOf(model);
        model.dispose();
        return logits;
      };
      const c = g.numClasses;
      const row = (l: Float32Array, node: number) => Array.from(l.subarray(node * c, (node + 1) * c));
      // kept: u's features reach v
      const [k1, k2] = [run(g, false), run(g2, false)];
      expect(row(k2, v)).not.toEqual(row(k1, v));
      // pruned: only u's own logits change
      const [p1, p2] = [run(g, true), run(g2, true)];
      expect(row(p2, u)).not.toEqual(row(p1, u));
      for (let w = 0; w < g.numNodes; w++) if (w !== u) expect(row(p2, w), `node ${w} (${maskMode})`).toEqual(row(p1, w));
    }
  });

  it("the edge-mask gradient reaches pruned edges in zeroed mode (regrowth) and not in multiply mode; self-loops are never prunable", () => {
    const g = randomSmallGraph(6);
    const model = new GatModel(g, SMALL);
    expect(model.selfLoopsPrunable).toBe(false);
    randomise(model, 29);
    pruneSome(model, 2);
    const gradOf = () => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(false))) as tf.Scalar, [model.edgeMask]);
      const grad = grads[model.edgeMask.name].dataSync().slice();
      tf.dispose(Object.values(grads));
      return grad;
    };
    const pruned = Array.from(model.edgeKeep.keys()).filter((k) => model.edgeKeep[k] === 0);
    expect(pruned.length).toBeGreaterThan(0);
    const multiply = gradOf();
    for (const k of pruned) expect(Math.abs(multiply[k])).toBe(0);
    model.maskMode = "zeroed";
    model.zeroPruned();
    const zeroed = gradOf();
    // every pruned edge whose destination has attention spread over ≥ 2 kept in-edges moves the loss
    expect(pruned.filter((k) => zeroed[k] !== 0).length).toBeGreaterThan(pruned.length / 2);
    model.dispose();
  });

  it("UGS's trainable weight masks multiply the weights and are trained", () => {
    const g = randomSmallGraph(7);
    const model = new GatModel(g, SMALL);
    randomise(model, 31);
    pruneSome(model, 3);
    model.enableTrainableWeightMasks();
    model.trainWeightMasks = true;
    const rng = new Rng(5);
    const soft = model.weights.map((w) => Float32Array.from({ length: w.rows * w.cols }, () => 0.5 + rng.next()));
    model.weights.forEach((w, i) => tf.tidy(() => w.maskTrain!.assign(tf.tensor2d(soft[i], [w.rows, w.cols]))));
    const vars = model.trainableVariables();
    for (const w of model.weights) expect(vars).toContain(w.maskTrain);
    expect(model.namedVariables().has("w1.maskTrain")).toBe(true);
    const withMasks = logitsOf(model);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(false))) as tf.Scalar, [model.weights[0].maskTrain!]);
    const gm = Object.values(grads)[0].dataSync();
    // nonzero where the weight is kept, zero where it is pruned
    const m0 = model.weights[0].mask;
    expect(Array.from(gm).some((x, i) => m0[i] !== 0 && x !== 0)).toBe(true);
    expect(Array.from(gm).every((x, i) => m0[i] !== 0 || x === 0)).toBe(true);
    tf.dispose(Object.values(grads));
    // the same logits as the weights multiplied by the soft masks
    model.disableTrainableWeightMasks();
    model.weights.forEach((w, i) => tf.tidy(() => w.value.assign(tf.mul(w.value, tf.tensor2d(soft[i], [w.rows, w.cols])))));
    expect(rowErr(withMasks, logitsOf(model), g.numClasses)).toBeLessThanOrEqual(1e-5);
    expect(model.trainableVariables().length).toBe(vars.length - 2);
    model.dispose();
  });

  it("snapshot and restore round-trip every variable; dropout only in training", () => {
    const g = randomSmallGraph(8);
    const model = new GatModel(g, SMALL);
    randomise(model, 37);
    const before = logitsOf(model);
    const s = model.snapshot();
    expect(s.length).toBe(model.allVariables().length);
    expect([...model.namedVariables().keys()]).toEqual(["w1", "w2", "b1", "b2", "att1", "att2", "edgeMask"]);
    randomise(model, 38);
    expect(logitsOf(model)).not.toEqual(before);
    model.restore(s);
    expect(logitsOf(model)).toEqual(before);
    const t1 = model.forward(true, 1);
    const t2 = model.forward(true, 2);
    expect(t1.dataSync()).not.toEqual(t2.dataSync());
    tf.dispose([t1, t2]);
    model.dispose();
  });
});

describe("GatModel on Cora", () => {
  afterAll(() => setSparseKernels(referenceKernels));

  it("trains to at least 78% dense test accuracy (8 heads × 64, 200 epochs, lr 0.005, wd 5e-4, seed 0), and its ticket predicts the same", async () => {
    const { loadDataset } = await import("../../../trainer/data/load.js");
    const { train } = await import("../../../trainer/train.js");
    const { loadWasmKernels } = await import("../../../runtime-wasm/host/wasm-kernels.js");
    const { accuracy } = await import("../../../trainer/metrics.js");
    await useBackend("wasm");
    setSparseKernels(loadWasmKernels());
    const graph = await loadDataset("cora", { dataDir: rawDir });
    const model = new GatModel(graph, { ...GAT_DEFAULTS, hidden: 64, seed: 0 });
    const r = train(model, graph, { epochs: 200, lr: 0.005, weightDecay: 5e-4, seed: 0 });
    expect(r.best.testAccuracy).toBeGreaterThanOrEqual(0.78);
    const ticket = buildTicket(model, graph, { ...INFO, dataset: "cora", method: "dense" });
    const fromTicket = referenceForward(ticket);
    expect(rowErr(r.best.logits, fromTicket, graph.numClasses)).toBeLessThanOrEqual(1e-4);
    expect(accuracy(fromTicket, graph.numClasses, graph.labels, graph.testIdx)).toBe(r.best.testAccuracy);
    model.dispose();
  }, 300_000);
});
