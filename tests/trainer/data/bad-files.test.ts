import { copyFileSync, cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GraphFormatError } from "../../../trainer/data/graph.js";
import { parseNpy, readNpyFile } from "../../../trainer/data/npy.js";
import { loadPlanetoidFlat } from "../../../trainer/data/planetoid-flat.js";
import { loadPlanetoidRaw } from "../../../trainer/data/planetoid-raw.js";
import { loadUserGraph } from "../../../trainer/data/user-graph.js";
import { flatDir, rawDir, tempDir } from "./paths.js";

const dirs: string[] = [];
const tmp = (tag: string) => {
  const d = tempDir(tag);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Expects fn to throw a GraphFormatError whose message starts with `file:` and matches `problem`. */
function expectFormatError(fn: () => unknown, file: string, problem: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a GraphFormatError").toBeInstanceOf(GraphFormatError);
  const e = err as GraphFormatError;
  expect(e.file).toBe(file);
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.message).toMatch(problem);
}

/** A .npy file: version 1/2/3 header, padded to 64 bytes like numpy does. */
function npy(descr: string, shape: number[], data: ArrayBufferView, opts: { version?: 1 | 2 | 3; fortran?: boolean } = {}): Buffer {
  const version = opts.version ?? 1;
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? "True" : "False"}, 'shape': ${shapeStr}, }`;
  const pre = version === 1 ? 10 : 12;
  header += " ".repeat((64 - ((pre + header.length + 1) % 64)) % 64) + "\n";
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, "latin1"), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

// a valid 6-node user graph, two classes
const FEATURES = "f0,f1,f2\n1,0,0\n0,1,0\n0,0,1\n1,1,0\n0,1,1\n2.5,0,0\n";
const LABELS = "# one label per node\n0\n0\n0\n1\n1\n1\n";
const EDGES = "src,dst\n# a comment line\n0,1\n1,2  # trailing comment\n2,0\n3,4\n4,5\n5,3\n2,3\n1,0\n4,4\n";

function userDir(files: Record<string, string | Buffer>): string {
  const d = tmp("user");
  const all: Record<string, string | Buffer> = { "features.csv": FEATURES, "labels.csv": LABELS, "edges.csv": EDGES, ...files };
  for (const [name, content] of Object.entries(all)) if (content !== "") writeFileSync(join(d, name), content);
  return d;
}

describe("user graph (CSV / TSV / npy)", () => {
  it("loads a valid graph: header and comments skipped, edges symmetrised, self loop and duplicate dropped", () => {
    const g = loadUserGraph(userDir({}), { seed: 1 });
    expect(g.numNodes).toBe(6);
    expect(g.numFeatures).toBe(3);
    expect(g.numClasses).toBe(2);
    expect(g.edgeSrc.length).toBe(14); // 7 distinct undirected edges
    expect(Array.from(g.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    // tiny graph: at most half of each class trains, the rest is shared 1:2 by val and test
    expect(g.trainIdx.length).toBe(2);
    expect(g.valIdx.length + g.testIdx.length).toBeLessThanOrEqual(4);
    const all = [...g.trainIdx, ...g.valIdx, ...g.testIdx];
    expect(new Set(all).size).toBe(all.length);
  });

  it("accepts node,label pairs, TSV edges, a split file and .npy features", () => {
    const feats = new Float32Array([1, 0, 0, 1, 0.5, 0.5, 0, 0]);
    const d = userDir({
      "features.csv": "",
      "features.npy": npy("<f4", [4, 2], feats),
      "labels.csv": "",
      "labels.txt": "node,label\n3,2\n0,0\n1,1\n",
      "edges.csv": "",
      "edges.tsv": "0\t1\n1\t2\n",
      "split.json": JSON.stringify({ train: [0], val: [1], test: [3] }),
    });
    const g = loadUserGraph(d);
    expect(g.numNodes).toBe(4);
    expect(g.numClasses).toBe(3);
    expect(Array.from(g.labels)).toEqual([0, 1, -1, 2]);
    expect(g.features.kind).toBe("csr");
    expect([Array.from(g.trainIdx), Array.from(g.valIdx), Array.from(g.testIdx)]).toEqual([[0], [1], [3]]);
  });

  it("an edge naming a node that does not exist", () => {
    const d = userDir({ "edges.csv": "0,1\n1,2\n2,9\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "edges.csv"), /line 3: edge 2 -> 9 names node 9, which does not exist .*has 6 rows: nodes 0\.\.5/);
  });

  it("a negative node id, a non-integer id and a third column", () => {
    let d = userDir({ "edges.csv": "0,1\n-1,2\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "edges.csv"), /line 2: edge -1 -> 2 names node -1, which does not exist/);
    d = userDir({ "edges.csv": "0,1\n1.5,2\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "edges.csv"), /line 2: node id '1\.5' is not an integer/);
    d = userDir({ "edges.csv": "0,1\n1,2,0.5\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "edges.csv"), /line 2: expected 2 columns \(source, destination\), found 3/);
  });

  it("a ragged feature row, NaN, and a non-number", () => {
    let d = userDir({ "features.csv": "1,0,0\n0,1\n0,0,1\n1,1,0\n0,1,1\n1,0,0\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "features.csv"), /line 2: ragged row with 2 values, the first row has 3/);
    d = userDir({ "features.csv": "1,0,0\n0,1,0\n0,0,1\n1,NaN,0\n0,1,1\n1,0,0\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "features.csv"), /line 4, column 2: NaN \(features must be finite numbers\)/);
    d = userDir({ "features.csv": "1,0,0\n0,1,0\n0,x,1\n1,1,0\n0,1,1\n1,0,0\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "features.csv"), /line 3, column 2: 'x' is not a number/);
  });

  it("labels out of range, the wrong number of labels, a node labelled twice", () => {
    let d = userDir({ "labels.csv": "0\n0\n-3\n1\n1\n1\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /line 3: label -3 is out of range/);
    d = userDir({});
    expectFormatError(() => loadUserGraph(d, { numClasses: 1 }), join(d, "labels.csv"), /line 5: label 1 is out of range 0\.\.0/);
    d = userDir({ "labels.csv": "0\n0\n0\n1\n1\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /has 5 labels, but .*features\.csv has 6 rows/);
    d = userDir({ "labels.csv": "0\n0\n0\n1\n1\n999\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /label 999 is out of range: 6 nodes cannot have 1000 classes/);
    d = userDir({ "labels.csv": "0,1\n2,1\n0,0\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /line 3: node 0 is labelled twice/);
    d = userDir({ "labels.csv": "0,1\n7,1\n" });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /line 2: node 7 does not exist/);
  });

  it("a split naming a missing node, a node twice, or an unlabelled node", () => {
    let d = userDir({ "split.json": JSON.stringify({ train: [0, 3], val: [1], test: [6] }) });
    expectFormatError(() => loadUserGraph(d), join(d, "split.json"), /"test"\[0\] = 6 is not a node id in 0\.\.5/);
    d = userDir({ "split.json": JSON.stringify({ train: [0, 3], val: [1], test: [3] }) });
    expectFormatError(() => loadUserGraph(d), join(d, "split.json"), /node 3 is in "train" and again in "test"/);
    d = userDir({ "split.json": "{ not json" });
    expectFormatError(() => loadUserGraph(d), join(d, "split.json"), /invalid JSON/);
  });

  it("two feature files, or none, in a directory", () => {
    let d = userDir({ "features.npy": npy("<f4", [6, 1], new Float32Array(6)) });
    expectFormatError(() => loadUserGraph(d), d, /holds features\.csv and features\.npy: keep only one features file/);
    d = userDir({ "features.csv": "" });
    expectFormatError(() => loadUserGraph(d), d, /no features file/);
  });
});

describe(".npy reader", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]);
  it("reads v1, v2 and v3 headers, and all four dtypes", () => {
    for (const version of [1, 2, 3] as const) {
      const a = parseNpy(npy("<f4", [2, 3], data, { version }), "a.npy");
      expect(a.shape).toEqual([2, 3]);
      expect(a.data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
    }
    expect(parseNpy(npy("<f8", [2], new Float64Array([1.5, -2])), "b.npy").data).toEqual(new Float64Array([1.5, -2]));
    expect(parseNpy(npy("<i4", [3], new Int32Array([1, -2, 3])), "c.npy").data).toEqual(new Int32Array([1, -2, 3]));
    expect(parseNpy(npy("<i8", [1], new BigInt64Array([7n])), "d.npy").data).toEqual(new BigInt64Array([7n]));
  });

  it("rejects a truncated file, at the header or in the data", () => {
    const d = tmp("npy");
    const full = npy("<f4", [2, 3], data);
    for (const [cut, msg] of [
      [full.length - 1, /truncated: shape \(2, 3\) of <f4 needs 24 data bytes, the file has 23/],
      [40, /truncated: header of 118 bytes runs past the end/],
      [5, /truncated: 5 bytes is shorter than the \.npy preamble/],
    ] as const) {
      const p = join(d, `cut${cut}.npy`);
      writeFileSync(p, full.subarray(0, cut));
      expectFormatError(() => readNpyFile(p), p, msg);
    }
  });

  it("rejects big-endian and unsupported dtypes, Fortran order, trailing bytes and a bad magic", () => {
    expectFormatError(() => parseNpy(npy(">f4", [6], data), "be.npy"), "be.npy", /unsupported dtype '>f4'/);
    expectFormatError(() => parseNpy(npy("<u2", [12], data), "u2.npy"), "u2.npy", /unsupported dtype '<u2'/);
    expectFormatError(() => parseNpy(npy("<f4", [2, 3], data, { fortran: true }), "f.npy"), "f.npy", /Fortran-ordered arrays are not supported/);
    expectFormatError(() => parseNpy(Buffer.concat([npy("<f4", [6], data), Buffer.from([0])]), "t.npy"), "t.npy", /1 unexpected trailing byte/);
    expectFormatError(() => parseNpy(Buffer.from("PK\x03\x04 this is a zip............"), "z.npy"), "z.npy", /not a \.npy file/);
  });

  it("as features: wrong shape and NaN are rejected", () => {
    let d = userDir({ "features.csv": "", "features.npy": npy("<f4", [6], new Float32Array(6)) });
    expectFormatError(() => loadUserGraph(d), join(d, "features.npy"), /features must be a 2-D array \(nodes x features\), got shape \(6\)/);
    const nan = new Float64Array(12);
    nan[7] = NaN;
    d = userDir({ "features.csv": "", "features.npy": npy("<f8", [6, 2], nan) });
    expectFormatError(() => loadUserGraph(d), join(d, "features.npy"), /row 3, column 1: NaN/);
    d = userDir({ "features.csv": "", "features.npy": npy("<f4", [5, 2], new Float32Array(10)) });
    expectFormatError(() => loadUserGraph(d), join(d, "labels.csv"), /has 6 labels, but .*features\.npy has 5 rows/);
  });
});

describe("flat (planetoid-npz-free) folder", () => {
  const copyCora = () => {
    const d = tmp("flat");
    cpSync(flatDir("cora"), d, { recursive: true });
    return d;
  };

  /** a tiny flat folder without per-file sizes in meta.json */
  function tinyFlat(over: { labels?: number[]; edges?: number[]; indptr?: number[]; meta?: object } = {}): string {
    const d = tmp("tiny");
    const meta = { name: "tiny", num_nodes: 4, num_features: 3, num_classes: 2, num_edges: 2, features_available: true, ...over.meta };
    writeFileSync(join(d, "meta.json"), JSON.stringify(meta));
    writeFileSync(join(d, "labels.i32"), new Int32Array(over.labels ?? [0, 1, 0, 1]));
    writeFileSync(join(d, "edges.u32"), new Uint32Array(over.edges ?? [0, 1, 1, 0]));
    writeFileSync(join(d, "features.indptr.u32"), new Uint32Array(over.indptr ?? [0, 1, 2, 2, 3]));
    writeFileSync(join(d, "features.indices.u32"), new Uint32Array([0, 2, 1]));
    writeFileSync(join(d, "features.values.f32"), new Float32Array([1, 1, 1]));
    writeFileSync(join(d, "split.json"), JSON.stringify({ train: [0, 1], val: [2], test: [3] }));
    return d;
  }

  it("a tiny valid folder loads", () => {
    const g = loadPlanetoidFlat(tinyFlat());
    expect([g.numNodes, g.edgeSrc.length, g.numClasses]).toEqual([4, 2, 2]);
  });

  it("a truncated file is caught by its size in meta.json", () => {
    const d = copyCora();
    const p = join(d, "labels.i32");
    writeFileSync(p, readFileSync(p).subarray(0, 1000));
    expectFormatError(() => loadPlanetoidFlat(d), p, /is 1000 bytes, meta\.json says 10832 \(truncated or replaced\?\)/);
  });

  it("a corrupted file of the right size is caught by its sha256", () => {
    const d = copyCora();
    const p = join(d, "edges.u32");
    const b = readFileSync(p);
    b[5] ^= 1;
    writeFileSync(p, b);
    expectFormatError(() => loadPlanetoidFlat(d), p, /sha256 [0-9a-f]{64} differs from meta\.json's c112ab27/);
  });

  it("wrong shapes: indptr length, a truncated array whose length is no multiple of 4", () => {
    let d = tinyFlat({ indptr: [0, 1, 2, 3] });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "features.indptr.u32"), /holds 4 values, expected 5/);
    d = tinyFlat();
    writeFileSync(join(d, "edges.u32"), Buffer.alloc(15));
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "edges.u32"), /size 15 bytes is not a multiple of 4/);
    d = tinyFlat({ meta: { num_edges: 3 } });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "edges.u32"), /holds 4 values, expected 6/);
  });

  it("labels out of range and an edge to a nonexistent node", () => {
    let d = tinyFlat({ labels: [0, 1, 5, 1] });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "labels.i32"), /node 2 has label 5, outside -1\.\.1/);
    d = tinyFlat({ edges: [0, 1, 1, 7] });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "edges.u32"), /edge 1 \(1 -> 7\) names a node outside 0\.\.3/);
    d = tinyFlat({ edges: [0, 1, 0, 1] });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "edges.u32"), /is not in canonical form/);
  });

  it("a column id beyond num_features", () => {
    const d = tinyFlat({ meta: { num_features: 2 } });
    expectFormatError(() => loadPlanetoidFlat(d), join(d, "features.indices.u32"), /row 1 has column 2, outside 0\.\.1/);
  });
});

describe("raw Planetoid files", () => {
  const copyRaw = (name: string) => {
    const d = tmp("raw");
    for (const f of readdirSync(rawDir)) if (f.startsWith(`ind.${name}.`)) copyFileSync(join(rawDir, f), join(d, f));
    return d;
  };

  it("a truncated pickle is a GraphFormatError naming the file", () => {
    const d = copyRaw("cora");
    const p = join(d, "ind.cora.ally");
    writeFileSync(p, readFileSync(p).subarray(0, 2000));
    expectFormatError(() => loadPlanetoidRaw(d, "cora"), p, /pickle offset \d+: truncated/);
  });

  it("a test.index line that is not a node id, and a test.index that does not match tx", () => {
    let d = copyRaw("cora");
    let p = join(d, "ind.cora.test.index");
    writeFileSync(p, readFileSync(p, "utf8").replace(/^(\d+)\n(\d+)\n/, "$1\nabc\n"));
    expectFormatError(() => loadPlanetoidRaw(d, "cora"), p, /line 2: 'abc' is not a node id/);
    d = copyRaw("cora");
    p = join(d, "ind.cora.test.index");
    writeFileSync(p, readFileSync(p, "utf8").split("\n").slice(1).join("\n"));
    expectFormatError(() => loadPlanetoidRaw(d, "cora"), p, /lists 999 test nodes but .*ind\.cora\.tx has 1000 rows/);
  });

  it("labels of the wrong shape (CiteSeer ty in place of Cora ty)", () => {
    const d = copyRaw("cora");
    copyFileSync(join(rawDir, "ind.citeseer.ty"), join(d, "ind.cora.ty"));
    expectFormatError(() => loadPlanetoidRaw(d, "cora"), join(d, "ind.cora.ty"), /has 6 classes but .*ind\.cora\.ally has 7/);
  });
});
