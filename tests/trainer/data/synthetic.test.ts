import { describe, expect, it } from "vitest";
import { rowNormalise, type Graph } from "../../../trainer/data/graph.js";
import { syntheticGraph } from "../../../trainer/data/synthetic.js";

function sameGraph(a: Graph, b: Graph): boolean {
  if (a.features.kind !== "csr" || b.features.kind !== "csr") return false;
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>) => x.length === y.length && Array.prototype.every.call(x, (v: number, i: number) => v === y[i]);
  return (
    eq(a.edgeSrc, b.edgeSrc) &&
    eq(a.edgeDst, b.edgeDst) &&
    eq(a.labels, b.labels) &&
    eq(a.features.rowPtr, b.features.rowPtr) &&
    eq(a.features.colIdx, b.features.colIdx) &&
    eq(a.trainIdx, b.trainIdx) &&
    eq(a.valIdx, b.valIdx) &&
    eq(a.testIdx, b.testIdx)
  );
}

function homophily(g: Graph): number {
  let same = 0;
  for (let e = 0; e < g.edgeSrc.length; e++) if (g.labels[g.edgeSrc[e]] === g.labels[g.edgeDst[e]]) same++;
  return same / g.edgeSrc.length;
}

/**
 * Accuracy of a linear softmax model on Â^hops X (hops = 0: features only; hops = 2: SGC, a
 * close stand-in for a 2-layer GCN), trained full batch with Adam on the train nodes.
 * logits = Â^h (X W); dW = Xᵀ Â^h dlogits (Â is symmetric).
 */
function linearProbe(g: Graph, hops: number, epochs = 100): number {
  const f = rowNormalise(g.features);
  if (f.kind !== "csr") throw new Error("csr expected");
  const N = g.numNodes;
  const C = g.numClasses;
  const F = g.numFeatures;
  const { rowPtr, colIdx } = g.adjacency;
  const dinv = new Float64Array(N);
  for (let i = 0; i < N; i++) dinv[i] = 1 / Math.sqrt(rowPtr[i + 1] - rowPtr[i] + 1);
  const prop = (h: Float64Array) => {
    let cur = h;
    for (let t = 0; t < hops; t++) {
      const out = new Float64Array(N * C);
      for (let i = 0; i < N; i++) {
        for (let c = 0; c < C; c++) out[i * C + c] = dinv[i] * dinv[i] * cur[i * C + c];
        for (let k = rowPtr[i]; k < rowPtr[i + 1]; k++) {
          const j = colIdx[k];
          const w = dinv[i] * dinv[j];
          for (let c = 0; c < C; c++) out[i * C + c] += w * cur[j * C + c];
        }
      }
      cur = out;
    }
    return cur;
  };
  const W = new Float64Array(F * C);
  const m = new Float64Array(F * C);
  const v = new Float64Array(F * C);
  const forward = () => {
    const xw = new Float64Array(N * C);
    for (let i = 0; i < N; i++) {
      for (let k = f.rowPtr[i]; k < f.rowPtr[i + 1]; k++) for (let c = 0; c < C; c++) xw[i * C + c] += f.values[k] * W[f.colIdx[k] * C + c];
    }
    return prop(xw);
  };
  for (let ep = 1; ep <= epochs; ep++) {
    const logits = forward();
    const d = new Float64Array(N * C);
    for (const i of g.trainIdx) {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, logits[i * C + c]);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits[i * C + c] - mx);
      for (let c = 0; c < C; c++) d[i * C + c] = (Math.exp(logits[i * C + c] - mx) / s - (g.labels[i] === c ? 1 : 0)) / g.trainIdx.length;
    }
    const pd = prop(d);
    const grad = new Float64Array(F * C);
    for (let i = 0; i < N; i++) {
      for (let k = f.rowPtr[i]; k < f.rowPtr[i + 1]; k++) for (let c = 0; c < C; c++) grad[f.colIdx[k] * C + c] += f.values[k] * pd[i * C + c];
    }
    for (let p = 0; p < F * C; p++) {
      const gr = grad[p] + 5e-5 * W[p];
      m[p] = 0.9 * m[p] + 0.1 * gr;
      v[p] = 0.999 * v[p] + 0.001 * gr * gr;
      W[p] -= (0.2 * (m[p] / (1 - 0.9 ** ep))) / (Math.sqrt(v[p] / (1 - 0.999 ** ep)) + 1e-8);
    }
  }
  const logits = forward();
  let ok = 0;
  for (const i of g.testIdx) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
    if (best === g.labels[i]) ok++;
  }
  return ok / g.testIdx.length;
}

describe("syntheticGraph", () => {
  const g = syntheticGraph({ seed: 7 });

  it("is deterministic per seed and differs between seeds", () => {
    expect(sameGraph(g, syntheticGraph({ seed: 7 }))).toBe(true);
    expect(sameGraph(g, syntheticGraph({ seed: 8 }))).toBe(false);
    const a = syntheticGraph({ seed: 7, numNodes: 300 });
    expect(a.edgeSrc).not.toEqual(g.edgeSrc.subarray(0, a.edgeSrc.length));
  });

  it("has the requested counts with Cora-like defaults", () => {
    expect([g.numNodes, g.numClasses, g.numFeatures]).toEqual([2708, 7, 1433]);
    // avgDegree 3.9 undirected: 2708 * 3.9 = 10,561 directed edges, exactly 5,281 distinct pairs
    expect(g.edgeSrc.length).toBe(2 * Math.round((2708 * 3.9) / 2));
    const f = g.features;
    if (f.kind !== "csr") throw new Error("csr expected");
    expect([f.rows, f.cols]).toEqual([2708, 1433]);
    const wordsPerNode = f.rowPtr[2708] / 2708;
    expect(wordsPerNode).toBeGreaterThan(15);
    expect(wordsPerNode).toBeLessThan(19);
    expect(f.values.every((x) => x === 1)).toBe(true);
    let badRows = 0;
    for (let r = 0; r < f.rows; r++) {
      if (f.rowPtr[r + 1] <= f.rowPtr[r]) badRows++;
      for (let k = f.rowPtr[r] + 1; k < f.rowPtr[r + 1]; k++) if (f.colIdx[k] <= f.colIdx[k - 1]) badRows++;
    }
    expect(badRows).toBe(0);
    expect(homophily(g)).toBeGreaterThan(0.75);
    expect(homophily(g)).toBeLessThan(0.85);
    const perClass = new Array(7).fill(0);
    for (const l of g.labels) perClass[l]++;
    for (const n of perClass) expect(n).toBeGreaterThan(100);
  });

  it("has canonical edges (symmetric, sorted, no self loops or duplicates) and no isolated node", () => {
    const N = g.numNodes;
    const keys = new Set<number>();
    let selfLoops = 0;
    let unsorted = 0;
    for (let e = 0; e < g.edgeSrc.length; e++) {
      const k = g.edgeSrc[e] * N + g.edgeDst[e];
      if (g.edgeSrc[e] === g.edgeDst[e]) selfLoops++;
      if (e > 0 && k <= g.edgeSrc[e - 1] * N + g.edgeDst[e - 1]) unsorted++;
      keys.add(k);
    }
    expect([selfLoops, unsorted]).toEqual([0, 0]);
    let missingReverse = 0;
    for (let e = 0; e < g.edgeSrc.length; e++) if (!keys.has(g.edgeDst[e] * N + g.edgeSrc[e])) missingReverse++;
    expect(missingReverse).toBe(0);
    let isolated = 0;
    let wrongRow = 0;
    for (let i = 0; i < N; i++) {
      if (g.adjacency.rowPtr[i + 1] === g.adjacency.rowPtr[i]) isolated++;
      for (let k = g.adjacency.rowPtr[i]; k < g.adjacency.rowPtr[i + 1]; k++) if (g.edgeSrc[k] !== i) wrongRow++;
    }
    expect([isolated, wrongRow]).toEqual([0, 0]);
  });

  it("has a Planetoid-style split: 20 per class, 500 val, 1000 test, disjoint", () => {
    expect([g.trainIdx.length, g.valIdx.length, g.testIdx.length]).toEqual([140, 500, 1000]);
    const perClass = new Array(7).fill(0);
    for (const i of g.trainIdx) perClass[g.labels[i]]++;
    expect(perClass).toEqual(new Array(7).fill(20));
    const all = [...g.trainIdx, ...g.valIdx, ...g.testIdx];
    expect(new Set(all).size).toBe(1640);
  });

  it("scales the split down for tiny graphs and honours custom sizes", () => {
    const t = syntheticGraph({ seed: 1, numNodes: 60, numClasses: 3, numFeatures: 40, avgDegree: 4, wordsPerNode: 5 });
    expect([t.numNodes, t.numClasses, t.numFeatures]).toEqual([60, 3, 40]);
    expect(t.edgeSrc.length).toBe(240);
    const perClass = new Array(3).fill(0);
    for (const l of t.labels) perClass[l]++;
    const train = new Array(3).fill(0);
    for (const i of t.trainIdx) train[t.labels[i]]++;
    expect(train).toEqual(perClass.map((n) => Math.min(20, Math.floor(n / 2))));
    const rest = 60 - t.trainIdx.length;
    expect(t.valIdx.length).toBe(Math.floor((rest * 500) / 1500));
    expect(t.valIdx.length + t.testIdx.length).toBe(rest);
    const all = [...t.trainIdx, ...t.valIdx, ...t.testIdx];
    expect(new Set(all).size).toBe(all.length);
  });

  it("is learnable but not trivial: graph model (SGC, 2 hops) ~70-90%, features only clearly lower", () => {
    const featOnly = linearProbe(g, 0);
    const sgc = linearProbe(g, 2);
    expect(sgc).toBeGreaterThan(0.7);
    expect(sgc).toBeLessThan(0.92);
    expect(featOnly).toBeLessThan(sgc - 0.15);
    expect(featOnly).toBeGreaterThan(1 / 7 + 0.1); // the features do carry signal
  });

  it("builds a 100k-node graph in a few seconds", () => {
    const t0 = performance.now();
    const big = syntheticGraph({ seed: 3, numNodes: 100_000 });
    const secs = (performance.now() - t0) / 1000;
    expect(big.numNodes).toBe(100_000);
    expect(big.edgeSrc.length).toBe(390_000);
    expect([big.trainIdx.length, big.valIdx.length, big.testIdx.length]).toEqual([140, 500, 1000]);
    expect(secs).toBeLessThan(8);
  });

  it("rejects impossible options", () => {
    expect(() => syntheticGraph({ numNodes: 1 })).toThrowError(/numNodes/);
    expect(() => syntheticGraph({ numNodes: 10, numClasses: 11 })).toThrowError(/numClasses/);
    expect(() => syntheticGraph({ homophily: 1.5 })).toThrowError(/homophily/);
  });
});
