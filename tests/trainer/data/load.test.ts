import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GraphFormatError, rowNormalise, type Features, type Graph } from "../../../trainer/data/graph.js";
import { loadDataset, parseSyntheticSpec } from "../../../trainer/data/load.js";
import { flatDir, rawDir, sharedData, tempDir } from "./paths.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** row sums of a feature matrix */
function rowSums(f: Features): Float64Array {
  const out = new Float64Array(f.rows);
  if (f.kind === "csr") {
    for (let r = 0; r < f.rows; r++) for (let k = f.rowPtr[r]; k < f.rowPtr[r + 1]; k++) out[r] += f.values[k];
  } else {
    for (let r = 0; r < f.rows; r++) for (let c = 0; c < f.cols; c++) out[r] += f.data[r * f.cols + c];
  }
  return out;
}

function expectNormalised(g: Graph, emptyRows: number): void {
  const sums = rowSums(g.features);
  let zero = 0;
  let bad = 0;
  for (const s of sums) {
    if (s === 0) zero++;
    else if (Math.abs(s - 1) > 1e-5) bad++;
  }
  expect(bad).toBe(0);
  expect(zero).toBe(emptyRows);
}

describe("rowNormalise", () => {
  it("makes CSR and dense rows sum to 1, leaving empty rows at 0, without touching the input", () => {
    const csr: Features = { kind: "csr", rows: 3, cols: 3, rowPtr: Int32Array.from([0, 2, 2, 3]), colIdx: Int32Array.from([0, 2, 1]), values: Float32Array.from([1, 3, 0.5]) };
    const n = rowNormalise(csr);
    if (n.kind !== "csr") throw new Error("csr expected");
    expect(Array.from(n.values)).toEqual([0.25, 0.75, 1]);
    expect(Array.from(csr.values)).toEqual([1, 3, 0.5]);
    const dense: Features = { kind: "dense", rows: 2, cols: 2, data: Float32Array.from([2, 2, 0, 0]) };
    const d = rowNormalise(dense);
    if (d.kind !== "dense") throw new Error("dense expected");
    expect(Array.from(d.data)).toEqual([0.5, 0.5, 0, 0]);
  });
});

describe("loadDataset", () => {
  it("cora from a data dir: normalised by default (rows sum to 1), raw with normalise: false", async () => {
    const logs: string[] = [];
    const g = await loadDataset("cora", { dataDir: rawDir, log: (m) => logs.push(m) });
    expect([g.numNodes, g.edgeSrc.length, g.numFeatures, g.numClasses]).toEqual([2708, 10556, 1433, 7]);
    expectNormalised(g, 0);
    expect(logs.join("\n")).toMatch(/cora: 2708 nodes, 10556 directed edges, 1433 features \(csr\), 7 classes, split 140\/500\/1000, rows normalised/);
    const raw = await loadDataset("Cora", { dataDir: rawDir, normalise: false });
    if (raw.features.kind !== "csr") throw new Error("csr expected");
    expect(raw.features.values.every((v) => v === 1)).toBe(true);
  });

  it("citeseer via $FASTGLT_DATA pointing at the shared data root (planetoid/ subfolder): 15 empty rows stay 0", async () => {
    const old = process.env.FASTGLT_DATA;
    process.env.FASTGLT_DATA = sharedData;
    try {
      const g = await loadDataset("citeseer");
      expect([g.numNodes, g.edgeSrc.length]).toEqual([3327, 9104]);
      expectNormalised(g, 15);
    } finally {
      if (old === undefined) delete process.env.FASTGLT_DATA;
      else process.env.FASTGLT_DATA = old;
    }
  });

  it("pubmed from the shared data dir fails on the missing allx, pointing to 'Completing PubMed'", async () => {
    await expect(loadDataset("pubmed", { dataDir: sharedData })).rejects.toThrowError(/ind\.pubmed\.allx: file not found.*Completing PubMed/);
    await expect(loadDataset(flatDir("pubmed"))).rejects.toThrowError(/features are not available for 'pubmed'/);
  });

  it("paths: a flat folder, a raw folder with one dataset, a user graph directory", async () => {
    const flat = await loadDataset(flatDir("citeseer"));
    expect([flat.name, flat.numNodes, flat.edgeSrc.length]).toEqual(["citeseer", 3327, 9104]);
    expectNormalised(flat, 15);

    const oneRaw = tempDir("one");
    dirs.push(oneRaw);
    for (const s of ["x", "y", "allx", "ally", "tx", "ty", "graph", "test.index"]) cpSync(join(rawDir, `ind.cora.${s}`), join(oneRaw, `ind.cora.${s}`));
    const g = await loadDataset(oneRaw);
    expect([g.name, g.numNodes]).toEqual(["cora", 2708]);

    await expect(loadDataset(rawDir)).rejects.toThrowError(/holds several Planetoid datasets \(.*cora.*\)/);

    const user = tempDir("user");
    dirs.push(user);
    writeFileSync(join(user, "edges.csv"), "0,1\n1,2\n2,3\n");
    writeFileSync(join(user, "features.csv"), "1,1\n0,2\n3,0\n0,0\n");
    writeFileSync(join(user, "labels.csv"), "0\n1\n0\n1\n");
    const u = await loadDataset(user, { seed: 4 });
    expect([u.numNodes, u.edgeSrc.length, u.numClasses]).toEqual([4, 6, 2]);
    expectNormalised(u, 1);
  });

  it("synthetic specs: defaults, options, seed from opts or spec", async () => {
    const a = await loadDataset("synthetic:nodes=600,features=120,classes=4", { seed: 3 });
    expect([a.numNodes, a.numFeatures, a.numClasses]).toEqual([600, 120, 4]);
    expectNormalised(a, 0);
    const b = await loadDataset("synthetic:nodes=600,features=120,classes=4,seed=3");
    expect(b.edgeSrc).toEqual(a.edgeSrc);
    const c = await loadDataset("synthetic");
    expect([c.numNodes, c.numFeatures, c.numClasses]).toEqual([2708, 1433, 7]);
    expect(parseSyntheticSpec("synthetic:nodes=1_000_000,degree=5,homophily=0.6,words=10")).toEqual({
      numNodes: 1_000_000,
      avgDegree: 5,
      homophily: 0.6,
      wordsPerNode: 10,
    });
  });

  it("bad specs fail clearly", async () => {
    await expect(loadDataset("synthetic:nodez=5")).rejects.toThrowError(/unknown option 'nodez'/);
    await expect(loadDataset("synthetic:nodes=abc")).rejects.toThrowError(/'nodes' needs a number, got 'abc'/);
    await expect(loadDataset("no-such-dataset")).rejects.toThrowError(/unknown dataset 'no-such-dataset'/);
    const empty = tempDir("empty");
    dirs.push(empty);
    await expect(loadDataset(empty)).rejects.toBeInstanceOf(GraphFormatError);
    await expect(loadDataset("cora", { dataDir: empty })).rejects.toThrowError(/no ind\.cora\.\* files here/);
  });
});
