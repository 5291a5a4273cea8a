import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../trainer/backend.js";
import { csrToDense } from "../../../ticket/csr.js";
import type { Graph } from "../../../trainer/data/graph.js";
import { GcnModel } from "../../../trainer/models/gcn.js";
import { readCheckpoint } from "../../../trainer/prune/checkpoint.js";
import { sparsityCounts } from "../../../trainer/prune/search.js";
import { runUgs, ugsDefaults, ugsPrune, ugsPruneCount, ugsRemaining, ugsRoundsFor, type UgsOptions, type UgsResult } from "../../../trainer/prune/ugs.js";
import { buildTicket } from "../../../trainer/ticket-builder.js";
import { evaluate } from "../../../trainer/train.js";
import { Rng } from "../../../trainer/util/rng.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";

const HIDDEN = 8;

function options(over: Partial<UgsOptions> = {}): UgsOptions {
  return { ...ugsDefaults("cora"), rounds: 3, maskEpochs: 4, fixEpochs: 3, seed: 2, ...over };
}

/**
 * UGS's GCN in float64: Â = D̃^-1/2 (A⊙m + I) D̃^-1/2 with D̃ the row sums of the masked matrix
 * (row u holds u's out-edges: the mask entry (u, v) scales the message u → v), then
 * logits = Â relu(Â X W1 + b1) W2 + b2.
 */
function referenceUgsGcn(graph: Graph, model: GcnModel, m: Float32Array, w: Float32Array[], b: Float32Array[]): Float64Array {
  const { src, dst, numGraphEdges } = model.edges;
  const n = graph.numNodes;
  const deg = new Float64Array(n).fill(1);
  // UGS: D = row sums of A ⊙ m + I, row v = what v aggregates = v's in-edges
  for (let e = 0; e < numGraphEdges; e++) deg[dst[e]] += m[e];
  const coef = (e: number) => (e < numGraphEdges ? m[e] : 1) / Math.sqrt(deg[src[e]] * deg[dst[e]]);
  let h = Float64Array.from(csrToDense(graph.features as never).data);
  const dims = [graph.numFeatures, model.config.hidden, graph.numClasses];
  for (let l = 0; l < 2; l++) {
    const [fin, fout] = [dims[l], dims[l + 1]];
    const agg = new Float64Array(n * fin);
    for (let e = 0; e < src.length; e++) for (let j = 0; j < fin; j++) agg[dst[e] * fin + j] += coef(e) * h[src[e] * fin + j];
    const out = new Float64Array(n * fout);
    for (let v = 0; v < n; v++) {
      for (let j = 0; j < fout; j++) {
        let s = b[l][j];
        for (let i = 0; i < fin; i++) s += agg[v * fin + i] * w[l][i * fout + j];
        out[v * fout + j] = l === 0 ? Math.max(0, s) : s;
      }
    }
    h = out;
  }
  return h;
}

function strip(r: UgsResult) {
  return { ...r, seconds: 0, best: r.best ? { ...r.best, seconds: 0 } : null, rounds: r.rounds.map((x) => ({ ...x, seconds: 0, roundSeconds: 0 })), checkpointPath: null };
}

describe("UGS", () => {
  let g: Graph;
  beforeAll(async () => {
    await initBackend("cpu", () => {});
    g = randomSmallGraph(31, 90, 20, 3);
  });

  it("the renormalised GCN with trainable weight masks computes D̃^-1/2(A⊙m + I)D̃^-1/2 on the soft masks, W ⊙ m_train ⊙ M", () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 3, normalisation: "renormalised" });
    model.enableTrainableWeightMasks();
    const rng = new Rng(4);
    const m = Float32Array.from({ length: model.edgeKeep.length }, () => 0.3 + rng.next());
    model.edgeKeep = Float32Array.from(model.edgeKeep, (_, e) => (e < model.edges.numGraphEdges && e % 4 === 0 ? 0 : 1));
    for (const w of model.weights) {
      w.mask = Float32Array.from(w.mask, () => (rng.next() < 0.6 ? 1 : 0));
      tf.tidy(() => w.maskTrain!.assign(tf.tensor2d(Float32Array.from({ length: w.mask.length }, () => 0.5 + rng.next()), [w.rows, w.cols])));
    }
    tf.tidy(() => model.edgeMask.assign(tf.tensor1d(m)));
    tf.tidy(() => model.biases[0].assign(tf.tensor1d(Float32Array.from({ length: HIDDEN }, () => rng.normal() * 0.1))));
    model.syncMasks();
    const effM = Float32Array.from(m, (x, e) => x * model.edgeKeep[e]);
    const w = model.weights.map((p) => Float32Array.from(p.value.dataSync(), (x, i) => x * p.mask[i] * p.maskTrain!.dataSync()[i]));
    const b = model.biases.map((x) => x.dataSync() as Float32Array);
    const want = referenceUgsGcn(g, model, effM, w, b);
    const got = model.forward(false).dataSync();
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);

    // the edge-mask gradient flows through the degrees: central differences of the reference
    model.trainEdgeMask = true;
    model.trainWeightMasks = true;
    const loss = () => tf.sum(tf.mul(model.forward(false), tf.linspace(-1, 1, g.numNodes * g.numClasses).reshape([g.numNodes, g.numClasses]))) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [model.edgeMask, model.weights[0].maskTrain!]);
    const ge = grads[model.edgeMask.name].dataSync();
    const lin = tf.linspace(-1, 1, g.numNodes * g.numClasses).dataSync();
    const refLoss = (mm: Float32Array) => referenceUgsGcn(g, model, mm, w, b).reduce((s, x, i) => s + x * lin[i], 0);
    const h = 1e-3;
    for (const e of [1, 2, 7]) {
      const up = effM.slice();
      up[e] += h;
      const down = effM.slice();
      down[e] -= h;
      expect(ge[e]).toBeCloseTo((refLoss(up) - refLoss(down)) / (2 * h), 3);
    }
    expect(ge[0] === 0).toBe(true); // a pruned edge
    expect(grads[model.weights[0].maskTrain!.name]).toBeDefined();
    // the ticket bakes the renormalised coefficients in: its forward equals the model's
    const ticket = buildTicket(model, g, { dataset: g.name, method: "ugs", seed: 0, valAccuracy: 0, testAccuracy: 0, denseTestAccuracy: 0, trainingSeconds: 0 });
    expect(ticket.graph.rowPtr[g.numNodes]).toBe(sparsityCounts(model).edgesKeptWithSelfLoops);
    tf.dispose(Object.values(grads));
    model.dispose();
  });

  it("prunes one global |m| threshold over all weight matrices, 5% of active edges and 20% of active weights (+1, UGS's threshold rule)", () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 3, normalisation: "renormalised" });
    const rng = new Rng(8);
    model.weights[0].mask = Float32Array.from(model.weights[0].mask, () => (rng.next() < 0.9 ? 1 : 0));
    model.syncMasks();
    // w1's soft masks sit in [0.5, 1.5], w2's in [0, 0.6]: one global threshold takes most from w2
    const soft = [Float32Array.from(model.weights[0].mask, () => 0.5 + rng.next()), Float32Array.from(model.weights[1].mask, () => 0.6 * rng.next())];
    const edge = Float32Array.from(model.edgeKeep, () => rng.normal());
    const prev = model.weights.map((w) => w.mask.slice());
    const count = (m: Float32Array) => m.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0);
    const before = prev.map(count);
    const e = model.edges.numGraphEdges;
    ugsPrune(model, { edge, weights: soft }, { prune: "both", pruneRateGraph: 0.05, pruneRateWeight: 0.2 });
    const after = model.weights.map((w) => count(w.mask));
    const total = before[0] + before[1];
    expect(total - after[0] - after[1]).toBe(Math.floor(total * 0.2) + 1);
    expect(1 - after[1] / before[1]).toBeGreaterThan(0.2);
    expect(1 - after[0] / before[0]).toBeLessThan(0.2);
    let minKept = Infinity;
    let maxPruned = -Infinity;
    model.weights.forEach((w, l) => {
      for (let i = 0; i < w.mask.length; i++) {
        if (w.mask[i] !== 0) minKept = Math.min(minKept, Math.abs(soft[l][i]));
        else if (prev[l][i] !== 0) maxPruned = Math.max(maxPruned, Math.abs(soft[l][i]));
      }
    });
    expect(minKept).toBeGreaterThanOrEqual(maxPruned);
    // edges: 5% (+1) of the graph edges by |m|; self-loops untouched
    const s = sparsityCounts(model);
    expect(e - s.edgesKept).toBe(Math.floor(e * 0.05) + 1);
    expect(s.edgesKeptWithSelfLoops - s.edgesKept).toBe(g.numNodes);
    let minE = Infinity;
    let maxE = -Infinity;
    for (let i = 0; i < e; i++) {
      if (model.edgeKeep[i] !== 0) minE = Math.min(minE, Math.abs(edge[i]));
      else maxE = Math.max(maxE, Math.abs(edge[i]));
    }
    expect(minE).toBeGreaterThanOrEqual(maxE);
    model.dispose();
  });

  it("sparsity after round k is 1 − 0.95^k (graph) and 1 − 0.8^k (weights), up to UGS's +1 per round", async () => {
    // the arithmetic on Cora's sizes, 20 rounds
    for (let k = 1; k <= 20; k++) {
      expect(Math.abs(1 - ugsRemaining(10556, 0.05, k) / 10556 - (1 - 0.95 ** k))).toBeLessThanOrEqual(k / 10556 + 1e-12);
      expect(Math.abs(1 - ugsRemaining(737280, 0.2, k) / 737280 - (1 - 0.8 ** k))).toBeLessThanOrEqual(k / 737280 + 1e-12);
    }
    expect(ugsPruneCount(100, 0.05)).toBe(6);
    expect(ugsRoundsFor({ prune: "both", targetGraph: 0.35, targetWeight: 0.9, pruneRateGraph: 0.05, pruneRateWeight: 0.2 }, 10556, 737280)).toBe(11); // 1 − 0.8^11 = 91.4% (0.8^10: 89.3%)
    // a run: each round's counts are exactly those
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 3, normalisation: "renormalised" });
    const s0 = sparsityCounts(model);
    const r = await runUgs(model, g, options({ rounds: 4 }));
    expect(r.status).toBe("done");
    expect(r.rounds.map((x) => x.round)).toEqual([1, 2, 3, 4]);
    r.rounds.forEach((x, i) => {
      const k = i + 1;
      expect(x.edgesKept).toBe(ugsRemaining(s0.edgesTotal, 0.05, k));
      expect(x.weightsKept).toBe(ugsRemaining(s0.weightsTotal, 0.2, k));
      expect(Math.abs(x.graphSparsity - (1 - 0.95 ** k))).toBeLessThanOrEqual(k / s0.edgesTotal + 1e-12);
      expect(Math.abs(x.weightSparsity - (1 - 0.8 ** k))).toBeLessThanOrEqual(k / s0.weightsTotal + 1e-12);
    });
    expect(r.epochs).toBe(4 * 7);
    // the model holds the last round's ticket: its masks, the fix phase's best-validation variables
    const last = r.rounds[3];
    expect(sparsityCounts(model).edgesKept).toBe(last.edgesKept);
    const ev = evaluate(model, g);
    expect(ev.valAccuracy).toBe(last.valAccuracy);
    expect(ev.testAccuracy).toBe(last.testAccuracy);
    expect(model.weights.every((w) => w.maskTrain === null)).toBe(true);
    model.dispose();
  });

  it("stops at the first round that reaches the targets; prune weight only leaves the graph alone", async () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 3, normalisation: "renormalised" });
    const r = await runUgs(model, g, options({ prune: "weight", rounds: 10, targetWeight: 0.45, maskEpochs: 2, fixEpochs: 2 }));
    expect(r.rounds.length).toBe(3); // 1 − 0.8³ = 48.8% ≥ 45%
    expect(r.rounds.every((x) => x.graphSparsity === 0)).toBe(true);
    model.dispose();
  });

  it("resume continues a stopped run (mid-round, both phases, abort signal) to the same result as an uninterrupted one", async () => {
    const o = options({ rounds: 2, maskEpochs: 4, fixEpochs: 3 });
    const full = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 5, normalisation: "renormalised" });
    const want = strip(await runUgs(full, g, o));
    const wantVars = [...full.namedVariables()].map(([k, v]) => [k, Array.from(v.dataSync())]);
    const wantMasks = [Array.from(full.edgeKeep), ...full.weights.map((w) => Array.from(w.mask))];
    full.dispose();

    const path = join(mkdtempSync(join(tmpdir(), "ugs-resume-")), "run.ckpt");
    let model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 5, normalisation: "renormalised" });
    // stop in round 1's mask phase (epoch 2), round 1's fix phase (epoch 5), round 2's mask phase (epoch 9)
    let r = await runUgs(model, g, o, { checkpointPath: path, stopAtEpoch: 2 });
    for (const stop of [5, 9, -1]) {
      expect(r.status).toBe("interrupted");
      const ck = await readCheckpoint(path);
      model.dispose();
      model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 5, normalisation: "renormalised" });
      if (stop > 0) r = await runUgs(model, g, o, { checkpointPath: path, stopAtEpoch: stop, resume: ck });
      else {
        const ac = new AbortController();
        let n = 0;
        const progress = { update: () => void (++n === 3 && ac.abort()), message() {}, end() {} };
        r = await runUgs(model, g, o, { checkpointPath: path, signal: ac.signal, progress, resume: ck });
        expect(r.status).toBe("interrupted");
        model.dispose();
        model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 5, normalisation: "renormalised" });
        r = await runUgs(model, g, o, { checkpointPath: path, resume: await readCheckpoint(path) });
      }
    }
    expect(strip(r)).toEqual(want);
    expect([...model.namedVariables()].map(([k, v]) => [k, Array.from(v.dataSync())])).toEqual(wantVars);
    expect([Array.from(model.edgeKeep), ...model.weights.map((w) => Array.from(w.mask))]).toEqual(wantMasks);
    model.dispose();
  });
});
