import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../trainer/backend.js";
import type { Graph } from "../../../trainer/data/graph.js";
import { GcnModel } from "../../../trainer/models/gcn.js";
import { readCheckpoint } from "../../../trainer/prune/checkpoint.js";
import { denoiseStep, dropFraction, edgeDegreeScore, fastgltDefaults, fastgltTensors, runFastGlt, weightSparsities, type FastGltOptions } from "../../../trainer/prune/fastglt.js";
import { sparsityCounts, type SearchResult } from "../../../trainer/prune/search.js";
import { evaluate } from "../../../trainer/train.js";
import { Rng } from "../../../trainer/util/rng.js";
import { randomSmallGraph } from "../../helpers/small-graph.js";

const HIDDEN = 8;

function options(over: Partial<FastGltOptions> = {}): FastGltOptions {
  return {
    ...fastgltDefaults("cora", "weight"),
    targetWeight: 0.8,
    targetGraph: 0.3,
    pretrainEpochs: 3,
    denoiseEpochs: 12,
    retrainEpochs: 6,
    delta: 3,
    accumulationN: 2,
    lr: 0.01,
    checkpointEvery: 1,
    seed: 4,
    ...over,
  };
}

/** Sort-based statement of one prune-and-regrow step on one tensor (ties to the lower index). */
function referenceStep(values: Float32Array, mask: Float32Array, score: ArrayLike<number>, nGrow: number, nPrune: number, limit: number): { mask: Float32Array; grown: number[] } {
  const active: number[] = [];
  for (let i = 0; i < limit; i++) if (mask[i] !== 0) active.push(i);
  const keep = active.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b).slice(0, active.length - nPrune);
  const next = mask.slice();
  next.fill(0, 0, limit);
  for (const i of keep) next[i] = 1;
  const rest: number[] = [];
  for (let i = 0; i < limit; i++) if (next[i] === 0) rest.push(i);
  const grown = rest.sort((a, b) => Math.abs(score[b]) - Math.abs(score[a]) || a - b).slice(0, nGrow);
  for (const i of grown) next[i] = 1;
  return { mask: next, grown };
}

function countActive(m: Float32Array, limit = m.length): number {
  let n = 0;
  for (let i = 0; i < limit; i++) if (m[i] !== 0) n++;
  return n;
}

/** Everything a run ends with: variables, masks and the selected record (minus timings). */
function outcome(model: GcnModel, r: SearchResult): unknown {
  const vars = [...model.namedVariables()].map(([k, v]) => [k, Array.from(v.dataSync())]);
  return {
    vars,
    edgeKeep: Array.from(model.edgeKeep),
    masks: model.weights.map((w) => Array.from(w.mask)),
    best: r.best ? { ...r.best, seconds: 0 } : null,
    status: r.status,
    epochs: r.epochs,
  };
}

describe("FastGLT", () => {
  let g: Graph;
  beforeAll(async () => {
    await initBackend("cpu", () => {});
    g = randomSmallGraph(21, 70, 24, 3);
  });

  it("cosine-decays the swap fraction from alpha to 0 over the denoising phase", () => {
    expect(dropFraction(0.3, 0, 400)).toBeCloseTo(0.3, 12);
    expect(dropFraction(0.3, 200, 400)).toBeCloseTo(0.15, 12);
    expect(dropFraction(0.3, 400, 400)).toBeCloseTo(0, 12);
    expect(dropFraction(0.3, 100, 400)).toBeCloseTo(0.15 * (1 + Math.SQRT1_2), 12);
    for (let t = 1; t <= 400; t++) expect(dropFraction(0.3, t, 400)).toBeLessThan(dropFraction(0.3, t - 1, 400));
  });

  it("scores edges by (d_u·d_v)^(-3/2) on the active graph, with FastGLT's fill values for degree 0", () => {
    // 0→1, 1→0, 1→2, 2→1, 3→0 (inactive), 0→0 (self-loop)
    const src = Int32Array.of(0, 1, 1, 2, 3, 0);
    const dst = Int32Array.of(1, 0, 2, 1, 0, 0);
    const active = Float32Array.of(1, 1, 1, 1, 0, 1);
    const s = edgeDegreeScore(src, dst, active, 4);
    const d = [2, 2, 1, 0]; // out-degree over active edges
    const f = (v: number) => (d[v] === 0 ? 1.1 * 1.21 : d[v] ** -1.5);
    for (let e = 0; e < src.length; e++) expect(s[e]).toBeCloseTo(f(src[e]) * f(dst[e]), 12);
    expect(s[4]).toBeCloseTo(1.331 * 2 ** -1.5, 12); // an isolated endpoint scores higher than degree 1
  });

  it("a denoising step keeps the active count, drops the smallest |value|, regrows by score; grown weights start at 0, grown edges at the mean mask", () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 2 });
    const o = options({ prune: "both", alpha: 0.4, denoiseEpochs: 30 });
    model.maskMode = "zeroed";
    model.trainEdgeMask = true;
    const tensors = fastgltTensors(model, o);
    const rng = new Rng(9);
    // a sparse state: random masks, random edge-mask values, random accumulated gradients
    model.edgeKeep = Float32Array.from(model.edgeKeep, () => (rng.next() < 0.7 ? 1 : 0));
    for (const w of model.weights) w.mask = Float32Array.from(w.mask, () => (rng.next() < 0.25 ? 1 : 0));
    tf.tidy(() => model.edgeMask.assign(tf.tensor1d(Float32Array.from({ length: model.edgeKeep.length }, () => 0.2 + rng.next()))));
    model.syncMasks();
    model.zeroPruned();
    for (const p of tensors) p.acc = Float32Array.from({ length: p.variable.size }, () => rng.normal());

    const before = tensors.map((p) => ({
      values: p.variable.dataSync().slice() as Float32Array,
      mask: (p.kind === "edge" ? model.edgeKeep : model.weights[p.index].mask).slice(),
      acc: p.acc!.slice(),
    }));
    const t = 6;
    const stats = denoiseStep(model, tensors, o, t);
    const fraction = dropFraction(0.4, t, 30);
    tensors.forEach((p, j) => {
      const b = before[j];
      const mask = p.kind === "edge" ? model.edgeKeep : model.weights[p.index].mask;
      const nOnes = countActive(b.mask, p.limit);
      const nGrow = Math.floor(nOnes * fraction);
      expect(nGrow).toBeGreaterThan(0);
      expect(countActive(mask, p.limit)).toBe(nOnes);
      expect(stats[j].activeAfter).toBe(nOnes);
      const score = p.kind === "edge" ? edgeDegreeScore(model.edges.src, model.edges.dst, b.mask, model.edges.numNodes).map((s, i) => s + Math.abs(b.acc[i])) : b.acc;
      const ref = referenceStep(b.values, b.mask, score, nGrow, nGrow, p.limit);
      expect(Array.from(mask)).toEqual(Array.from(ref.mask));
      const values = p.variable.dataSync();
      let meanActive = 0;
      let nActive = 0;
      for (let i = 0; i < b.mask.length; i++) if (b.mask[i] !== 0) (meanActive += b.values[i]), nActive++;
      meanActive /= nActive;
      let newConnections = 0;
      for (const i of ref.grown) {
        if (b.mask[i] === 0) {
          newConnections++;
          if (p.kind === "weight") expect(values[i]).toBe(0);
          else expect(values[i]).toBeCloseTo(meanActive, 6);
        } else expect(values[i]).toBe(b.values[i]); // regrown while active: value kept
      }
      expect(stats[j].newConnections).toBe(newConnections);
      for (let i = 0; i < values.length; i++) if (mask[i] === 0) expect(values[i]).toBe(0);
    });
    model.dispose();
  });

  it("the exponential ramp prunes ⌊(k−1)·S·n⌋ more per step and reaches the target after warmupSteps", () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 2 });
    const o = options({ prune: "weight", targetWeight: 0.8, beta: 0.5, warmupSteps: 4, alpha: 0.3 });
    model.maskMode = "zeroed";
    const tensors = fastgltTensors(model, o);
    const k = Math.pow(0.5, -1 / 4);
    expect(tensors[0].S).toBeCloseTo(0.4, 12);
    for (const p of tensors) {
      const m = model.weights[p.index].mask;
      m.fill(0, 0, Math.floor(p.S * m.length)); // start at S = target·beta
      p.acc = new Float32Array(m.length).fill(1);
    }
    model.syncMasks();
    for (let step = 0; step < 4; step++) {
      const before = tensors.map((p) => ({ active: countActive(model.weights[p.index].mask), S: p.S, n: p.limit }));
      denoiseStep(model, tensors, o, 3 * (step + 1));
      tensors.forEach((p, j) => {
        expect(countActive(model.weights[p.index].mask)).toBe(before[j].active - Math.floor((k - 1) * before[j].S * before[j].n));
        expect(p.S).toBeCloseTo(before[j].S * k, 12);
      });
    }
    for (const p of tensors) {
      expect(p.S).toBeCloseTo(0.8, 10);
      const sparsity = 1 - countActive(model.weights[p.index].mask) / p.limit;
      expect(Math.abs(sparsity - 0.8)).toBeLessThanOrEqual(5 / p.limit); // one rounding per step
    }
    // after the ramp the count stays
    const after = tensors.map((p) => countActive(model.weights[p.index].mask));
    denoiseStep(model, tensors, o, 15);
    expect(tensors.map((p) => countActive(model.weights[p.index].mask))).toEqual(after);
    model.dispose();
  });

  it("one-shot: a random mask with exactly ⌊S·n⌋ zeros per tensor when E = 0; self-loops are pruned with the graph", async () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 3 });
    const o = options({ prune: "both", pretrainEpochs: 0, targetGraph: 0.35, targetWeight: 0.9 });
    const r = await runFastGlt(model, g, o, { stopAtEpoch: 1 });
    expect(r.status).toBe("interrupted");
    expect(countActive(model.edgeKeep)).toBe(model.edgeKeep.length - Math.floor(0.35 * model.edgeKeep.length));
    for (const w of model.weights) expect(countActive(w.mask)).toBe(w.mask.length - Math.floor(0.9 * w.mask.length));
    const selfLoopsPruned = model.edgeKeep.length - model.edges.numGraphEdges - countActive(model.edgeKeep.subarray(model.edges.numGraphEdges));
    expect(selfLoopsPruned).toBeGreaterThan(0);
    model.dispose();

    const kept = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 3 });
    await runFastGlt(kept, g, { ...o, pruneSelfLoops: false }, { stopAtEpoch: 1 });
    const e = kept.edges.numGraphEdges;
    expect(countActive(kept.edgeKeep.subarray(e))).toBe(g.numNodes);
    expect(countActive(kept.edgeKeep, e)).toBe(e - Math.floor(0.35 * e));
    kept.dispose();
  });

  it("ERK allocation: density ∝ (rows + cols)/(rows·cols), matrices over density 1 kept dense, the total at the target", () => {
    const shapes = [{ rows: 1433, cols: 512 }, { rows: 512, cols: 7 }, { rows: 300, cols: 200 }];
    const S = weightSparsities(shapes, 0.95, "erk");
    const sizes = shapes.map((w) => w.rows * w.cols);
    const kept = S.reduce((a, s, i) => a + (1 - s) * sizes[i], 0);
    expect(kept / sizes.reduce((a, b) => a + b, 0)).toBeCloseTo(0.05, 10);
    // the 512 × 7 matrix would need density > 1: dense; the other two share one scale
    expect(S[1]).toBe(0);
    const scale = (i: number) => (1 - S[i]) / ((shapes[i].rows + shapes[i].cols) / sizes[i]);
    expect(scale(0)).toBeCloseTo(scale(2), 10);
    expect(weightSparsities(shapes, 0.9, "uniform")).toEqual([0.9, 0.9, 0.9]);
  });

  it("one-shot with weightAllocation erk prunes each matrix to its ERK share", async () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 3 });
    const o = options({ prune: "weight", pretrainEpochs: 0, targetWeight: 0.9, weightAllocation: "erk" });
    await runFastGlt(model, g, o, { stopAtEpoch: 1 });
    const S = weightSparsities(model.weights, 0.9, "erk");
    model.weights.forEach((w, i) => expect(countActive(w.mask)).toBe(w.mask.length - Math.floor(S[i] * w.mask.length)));
    expect(S[0]).not.toBeCloseTo(S[1], 2);
    model.dispose();
  });

  for (const prune of ["weight", "graph", "both"] as const) {
    it(`a ${prune} run selects a ticket that meets the target, and the model holds it`, async () => {
      // (the joint run also ramps: 32 hidden units keep its rounding within FastGLT's 1-point tolerance)
      const model = new GcnModel(g, { hidden: prune === "both" ? 32 : HIDDEN, dropout: 0.5, seed: 5 });
      const o = options({ prune, targetGraph: 0.3, targetWeight: 0.8, beta: prune === "both" ? 0.6 : 1, warmupSteps: prune === "both" ? 2 : 0 });
      const r = await runFastGlt(model, g, o);
      expect(r.status).toBe("done");
      expect(r.epochs).toBe(21);
      expect(r.best).not.toBeNull();
      const s = sparsityCounts(model);
      if (prune !== "weight") expect(s.graphWithSelfLoops).toBeGreaterThanOrEqual(0.29);
      else expect(s.graph).toBe(0);
      if (prune !== "graph") expect(s.weight).toBeGreaterThanOrEqual(0.79);
      else expect(s.weight).toBe(0);
      expect(r.best!.weightSparsity).toBe(s.weight);
      expect(r.best!.graphSparsityWithSelfLoops).toBe(s.graphWithSelfLoops);
      const ev = evaluate(model, g);
      expect(ev.valAccuracy).toBe(r.best!.valAccuracy);
      expect(ev.testAccuracy).toBe(r.best!.testAccuracy);
      // pruned entries are exactly 0 in the variables too
      for (const w of model.weights) {
        const v = w.value.dataSync();
        for (let i = 0; i < v.length; i++) if (w.mask[i] === 0) expect(v[i] === 0).toBe(true);
      }
      model.dispose();
    });
  }

  it("resume continues a stopped run to the same result as an uninterrupted one (pre-train, denoise with a live gradient window, retrain; abort signal)", async () => {
    const o = options({ prune: "both", beta: 0.6, warmupSteps: 2, edgeDelta: 4, edgeAccumulationN: 3, edgeLr: 0.003 });
    const full = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 7 });
    const want = outcome(full, await runFastGlt(full, g, o));
    full.dispose();

    const dir = mkdtempSync(join(tmpdir(), "fastglt-resume-"));
    const path = join(dir, "run.ckpt");
    // stops: in pre-training, in a denoising epoch whose gradient window is open (t = 2), at the
    // start of retraining, and by an abort signal in the middle of retraining
    const stops = [2, 5, 15];
    let model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 7 });
    let r = await runFastGlt(model, g, o, { checkpointPath: path, stopAtEpoch: stops[0] });
    for (const stop of [...stops.slice(1), -1]) {
      expect(r.status).toBe("interrupted");
      const ck = await readCheckpoint(path);
      model.dispose();
      model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 7 });
      if (stop > 0) {
        r = await runFastGlt(model, g, o, { checkpointPath: path, stopAtEpoch: stop, resume: ck });
      } else {
        const ac = new AbortController();
        let n = 0;
        const progress = { update: () => void (++n === 3 && ac.abort()), message() {}, end() {} };
        r = await runFastGlt(model, g, o, { checkpointPath: path, signal: ac.signal, progress, resume: ck });
        expect(r.status).toBe("interrupted");
        expect(r.epochs).toBe(18);
        model.dispose();
        model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 7 });
        r = await runFastGlt(model, g, o, { checkpointPath: path, resume: await readCheckpoint(path) });
      }
    }
    expect(r.status).toBe("done");
    expect(outcome(model, r)).toEqual(want);
    model.dispose();
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    // a checkpoint of another run is refused
    const other = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 7 });
    await expect(runFastGlt(other, g, { ...o, lr: 0.02 }, { resume: await readCheckpoint(path) })).rejects.toThrow(/lr = 0.01, this one 0.02/);
    other.dispose();
  });

  it("a joint run keeps each family's schedule: weights every delta, the edge mask every edgeDelta epochs", async () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0.5, seed: 5 });
    const r = await runFastGlt(model, g, options({ prune: "both", denoiseEpochs: 12, delta: 3, accumulationN: 2, edgeDelta: 4, edgeAccumulationN: 3 }));
    expect(r.denoiseSteps).toEqual({ edgeMask: 3, w1: 4, w2: 4 });
    const d = fastgltDefaults("cora", "both");
    expect([d.delta, d.accumulationN, d.lr, d.edgeDelta, d.edgeAccumulationN, d.edgeLr]).toEqual([3, 2, 0.01, 10, 9, 0.001]);
    model.dispose();
  });

  it("rejects options the official code rejects", async () => {
    const model = new GcnModel(g, { hidden: HIDDEN, dropout: 0, seed: 1 });
    await expect(runFastGlt(model, g, options({ accumulationN: 3, delta: 3 }))).rejects.toThrow(/0 < acc_n < delta/);
    await expect(runFastGlt(model, g, options({ beta: 0.5, warmupSteps: 0 }))).rejects.toThrow(/warmupSteps/);
    model.dispose();
  });
});
