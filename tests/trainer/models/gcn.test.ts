import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../trainer/backend.js";
import { csrToDense } from "../../../ticket/csr.js";
import { GcnModel } from "../../../trainer/models/gcn.js";
import { gcnEdges } from "../../../trainer/models/gcn-graph.js";
import { pruneOneShot, measureSparsity } from "../../../trainer/prune/oneshot.js";
import { buildTicket } from "../../../trainer/ticket-builder.js";
import { forwardMacs } from "../../../ticket/ticket.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";
import type { Graph } from "../../../trainer/data/graph.js";

/** Plain float64 GCN over the edge list: an independent statement of what the model computes. */
function referenceGcn(graph: Graph, w: Float32Array[], b: Float32Array[], dims: number[], edgeWeight: Float32Array, edges: { src: Int32Array; dst: Int32Array }): Float64Array {
  let h = Float64Array.from(csrToDense(graph.features as never).data);
  for (let l = 0; l < 2; l++) {
    const [fin, fout] = [dims[l], dims[l + 1]];
    const xw = new Float64Array(graph.numNodes * fout);
    for (let n = 0; n < graph.numNodes; n++) for (let i = 0; i < fin; i++) for (let j = 0; j < fout; j++) xw[n * fout + j] += h[n * fin + i] * w[l][i * fout + j];
    const out = new Float64Array(graph.numNodes * fout);
    for (let e = 0; e < edges.src.length; e++) for (let j = 0; j < fout; j++) out[edges.dst[e] * fout + j] += edgeWeight[e] * xw[edges.src[e] * fout + j];
    for (let n = 0; n < graph.numNodes; n++) for (let j = 0; j < fout; j++) {
      const v = out[n * fout + j] + b[l][j];
      out[n * fout + j] = l === 0 ? Math.max(0, v) : v;
    }
    h = out;
  }
  return h;
}

describe("GcnModel", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  it("gcnEdges adds one self-loop per node with symmetric normalisation of the unpruned graph", () => {
    const g = randomSmallGraph(1);
    const e = gcnEdges(g);
    expect(e.src.length).toBe(g.edgeSrc.length + g.numNodes);
    const deg = new Array(g.numNodes).fill(1);
    for (const v of g.edgeDst) deg[v]++;
    for (let k = 0; k < e.src.length; k++) expect(e.norm[k]).toBeCloseTo(1 / Math.sqrt(deg[e.src[k]] * deg[e.dst[k]]), 6);
    // an isolated node keeps only its self-loop, with coefficient 1
    const last = g.numNodes - 1;
    expect(e.norm[g.edgeSrc.length + last]).toBeCloseTo(1, 6);
  });

  it("computes the masked GCN forward pass of a plain reference, and the ticket holds the same model", async () => {
    const g = randomSmallGraph(2);
    const model = new GcnModel(g, { hidden: 6, dropout: 0.5, seed: 4 });
    pruneOneShot(model, { weight: 0.5, graph: 0.3 }, 9);
    const s = measureSparsity(model);
    expect(s.edgesKept).toBe(Math.round(s.edgesTotal * 0.7));
    for (const w of model.weights) expect(w.mask.reduce((a, b) => a + b, 0)).toBe(Math.round(w.mask.length * 0.5));

    const logits = model.forward(false).dataSync();
    const ew = model.edgeWeights().dataSync() as Float32Array;
    const w = model.weights.map((p) => Float32Array.from(p.value.dataSync(), (v, i) => v * p.mask[i]));
    const b = model.biases.map((v) => v.dataSync() as Float32Array);
    const expected = referenceGcn(g, w, b, [g.numFeatures, 6, g.numClasses], ew, model.edges);
    for (let i = 0; i < expected.length; i++) expect(logits[i]).toBeCloseTo(expected[i], 4);

    const ticket = buildTicket(model, g, { dataset: g.name, method: "oneshot", seed: 4, valAccuracy: 0, testAccuracy: 0, denseTestAccuracy: 0, trainingSeconds: 0 });
    expect(ticket.graph.rowPtr[g.numNodes]).toBe(s.edgesKept + g.numNodes);
    // the ticket's CSR over destinations, applied with the reference, gives the same logits
    const src = ticket.graph.colIdx;
    const dst = new Int32Array(src.length);
    for (let v = 0; v < g.numNodes; v++) for (let k = ticket.graph.rowPtr[v]; k < ticket.graph.rowPtr[v + 1]; k++) dst[k] = v;
    const tw = ticket.layers.map((l) => (l.weight.format === "dense" ? l.weight.data : csrToDense(l.weight).data));
    const fromTicket = referenceGcn(g, tw, ticket.layers.map((l) => l.bias!), [g.numFeatures, 6, g.numClasses], ticket.graph.coef, { src, dst });
    for (let i = 0; i < expected.length; i++) expect(fromTicket[i]).toBeCloseTo(expected[i], 5);
    // half of each weight matrix kept: 13·6/2 = 39 and 6·3/2 = 9 nonzeros
    expect(ticket.meta.macsTicket).toBe(forwardMacs(g.numNodes, s.edgesKept + g.numNodes, [
      { inFeatures: g.numFeatures, weightNnz: 39 },
      { inFeatures: 6, weightNnz: 9 },
    ]));
    expect(ticket.meta.graphSparsity).toBeCloseTo(0.3, 2);
    model.dispose();
  });
});

describe("GcnModel, kept normalisation", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  it("renormalises on the kept graph whenever the masks change: coef = 1/√(d_u·d_v) over kept in-edges (a degree of 0 counts as 1), 0 when pruned", () => {
    const g = randomSmallGraph(5);
    const model = new GcnModel(g, { hidden: 4, dropout: 0, seed: 1, normalisation: "kept" });
    const check = () => {
      const keep = model.edgeKeep;
      const { src, dst } = model.edges;
      const deg = new Array(g.numNodes).fill(0);
      for (let k = 0; k < src.length; k++) if (keep[k]) deg[dst[k]]++;
      const coef = model.edgeWeights().dataSync();
      for (let k = 0; k < src.length; k++) expect(coef[k]).toBeCloseTo(keep[k] ? 1 / Math.sqrt(Math.max(1, deg[src[k]]) * Math.max(1, deg[dst[k]])) : 0, 6);
    };
    check();
    const keep = model.edgeKeep.slice();
    for (let k = 0; k < keep.length; k += 3) keep[k] = 0;
    model.edgeKeep = keep;
    model.syncMasks();
    check();
    model.dispose();
  });
});

describe("tensor bookkeeping", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  it("a model built, run, given trainable masks and disposed leaves no tensor behind (GCN, GIN, GAT)", async () => {
    const tf = await import("@tensorflow/tfjs-core");
    const { GinModel } = await import("../../../trainer/models/gin.js");
    const { GatModel } = await import("../../../trainer/models/gat.js");
    const g = randomSmallGraph(6);
    const before = tf.memory().numTensors;
    for (const make of [() => new GcnModel(g, { hidden: 5, dropout: 0.5, seed: 1 }), () => new GcnModel(g, { hidden: 5, dropout: 0.5, seed: 1, normalisation: "renormalised" }), () => new GinModel(g, { hidden: 5, dropout: 0.5, seed: 1 }), () => new GatModel(g, { hidden: 3, heads: 2, inputDropout: 0.5, dropout: 0.5, attentionDropout: 0.5, seed: 1 })]) {
      const model = make();
      model.forward(true, 3).dispose();
      model.enableTrainableWeightMasks();
      model.disableTrainableWeightMasks();
      model.syncMasks();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe("training", () => {
  it("repeats exactly with the same seed and differs with another (wasm backend)", async () => {
    const { train } = await import("../../../trainer/train.js");
    const { loadWasmKernels } = await import("../../../runtime-wasm/host/wasm-kernels.js");
    const { setSparseKernels } = await import("../../../trainer/ops/kernel-bridge.js");
    await initBackend("wasm", () => {});
    setSparseKernels(loadWasmKernels());
    const g = randomSmallGraph(11, 60, 20, 3);
    const run = (seed: number) => {
      const model = new GcnModel(g, { hidden: 16, dropout: 0.5, seed });
      model.trainEdgeMask = true;
      const r = train(model, g, { epochs: 15, lr: 0.01, weightDecay: 5e-4, seed });
      const logits = r.best.logits.slice();
      model.dispose();
      return { logits, bestEpoch: r.bestEpoch };
    };
    const a = run(5);
    const b = run(5);
    const c = run(6);
    expect(b.bestEpoch).toBe(a.bestEpoch);
    expect(b.logits).toEqual(a.logits);
    expect(c.logits).not.toEqual(a.logits);
  });

  it("outputDropout drops logits while training only: each training logit is 0 or 1/(1−p) × the evaluation logit", () => {
    const g = randomSmallGraph(3);
    const plain = new GcnModel(g, { hidden: 5, dropout: 0, seed: 2 });
    const dropped = new GcnModel(g, { hidden: 5, dropout: 0, seed: 2, outputDropout: 0.4 });
    const evalLogits = plain.forward(false).dataSync();
    expect(Array.from(plain.forward(true, 7).dataSync())).toEqual(Array.from(evalLogits));
    expect(Array.from(dropped.forward(false).dataSync())).toEqual(Array.from(evalLogits));
    const train = dropped.forward(true, 7).dataSync();
    let zeros = 0;
    for (let i = 0; i < train.length; i++) {
      if (train[i] === 0 && evalLogits[i] !== 0) zeros++;
      else expect(train[i]).toBeCloseTo(evalLogits[i] / 0.6, 5);
    }
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThan(train.length);
    plain.dispose();
    dropped.dispose();
  });
});
