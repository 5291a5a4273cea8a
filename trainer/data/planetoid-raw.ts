/**
 * Loads the original Planetoid files `ind.<name>.{x,y,allx,ally,tx,ty,graph,test.index}` following
 * Kipf & Welling's `gcn/utils.py::load_data` (= PyG `Planetoid(split="public")`):
 *
 *  1. features = vstack(allx, tx); row k of tx belongs to node test.index[k]. If the sorted test ids
 *     leave gaps (CiteSeer: 15 isolated nodes), tx is first extended to cover min..max of test.index
 *     and the gap nodes get an all-zero feature row and label -1.
 *  2. labels = argmax of the one-hot rows of vstack(ally, ty) reordered the same way; an all-zero row
 *     is label -1.
 *  3. train = range(len(y)), val = range(len(y), len(y) + 500), test = sorted(test.index).
 *  4. edges: every (key, neighbour) entry of the graph dict, self loops removed, symmetrised,
 *     deduplicated (canonicalEdges).
 *
 * Features are returned as CSR (kind "csr"), not normalised.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalEdges, GraphFormatError, type Graph } from "./graph.js";
import { isNdArray, isPickledCsr, readPickle, type NdArray, type PickledCsr, type PyValue } from "./pickle.js";

export const PLANETOID_NAMES = ["cora", "citeseer", "pubmed"] as const;
export type PlanetoidName = (typeof PLANETOID_NAMES)[number];
export const PLANETOID_SUFFIXES = ["x", "y", "allx", "ally", "tx", "ty", "graph", "test.index"] as const;

export function planetoidFileNames(name: string): string[] {
  return PLANETOID_SUFFIXES.map((s) => `ind.${name}.${s}`);
}

const NUM_VAL = 500;

function readRaw(dir: string, name: string, suffix: string): { path: string; bytes: Buffer } {
  const path = join(dir, `ind.${name}.${suffix}`);
  if (!existsSync(path)) {
    let hint = "";
    if (name === "pubmed" && suffix === "allx") {
      hint =
        " (ind.pubmed.allx, the features of the 18,717 non-test PubMed nodes, is not in the shared data folder: see 'Completing PubMed' in /work/shared/data/README.md," +
        " or load 'pubmed' without a data directory to download it into the cache)";
    }
    throw new GraphFormatError(path, `file not found${hint}`);
  }
  return { path, bytes: readFileSync(path) };
}

function loadCsr(dir: string, name: string, suffix: string): { path: string; m: PickledCsr } {
  const { path, bytes } = readRaw(dir, name, suffix);
  const v = readPickle(bytes, path);
  if (!isPickledCsr(v)) throw new GraphFormatError(path, "expected a scipy csr_matrix");
  return { path, m: v };
}

function loadOneHot(dir: string, name: string, suffix: string): { path: string; a: NdArray } {
  const { path, bytes } = readRaw(dir, name, suffix);
  const v = readPickle(bytes, path);
  if (!isNdArray(v) || v.shape.length !== 2) throw new GraphFormatError(path, "expected a 2-D numpy array of one-hot labels");
  return { path, a: v };
}

/** Class id per row of a one-hot matrix; an all-zero row gives -1. Anything but 0/1 with at most one 1 is an error. */
function oneHotToLabels(a: NdArray, path: string): Int32Array {
  const [rows, cols] = a.shape;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let label = -1;
    for (let c = 0; c < cols; c++) {
      const x = Number(a.data[r * cols + c]);
      if (x === 0) continue;
      if (x !== 1) throw new GraphFormatError(path, `row ${r} is not one-hot: column ${c} holds ${x}`);
      if (label !== -1) throw new GraphFormatError(path, `row ${r} is not one-hot: columns ${label} and ${c} are both 1`);
      label = c;
    }
    out[r] = label;
  }
  return out;
}

function readTestIndex(dir: string, name: string): { path: string; ids: number[] } {
  const { path, bytes } = readRaw(dir, name, "test.index");
  const lines = bytes.toString("utf8").split(/\r?\n/);
  const ids: number[] = [];
  lines.forEach((line, i) => {
    const t = line.trim();
    if (t === "") return;
    if (!/^\d+$/.test(t)) throw new GraphFormatError(path, `line ${i + 1}: '${t.slice(0, 40)}' is not a node id`);
    ids.push(Number(t));
  });
  if (ids.length === 0) throw new GraphFormatError(path, "no test node ids");
  return { path, ids };
}

/** Loads `ind.<name>.*` from `dir` as Kipf's load_data does. Features: CSR, not normalised. */
export function loadPlanetoidRaw(dir: string, name: string): Graph {
  const y = loadOneHot(dir, name, "y");
  const x = loadCsr(dir, name, "x");
  const allx = loadCsr(dir, name, "allx");
  const ally = loadOneHot(dir, name, "ally");
  const tx = loadCsr(dir, name, "tx");
  const ty = loadOneHot(dir, name, "ty");
  const test = readTestIndex(dir, name);
  const graphPath = join(dir, `ind.${name}.graph`);
  const graphDict = readPickle(readRaw(dir, name, "graph").bytes, graphPath);

  const numTrain = y.a.shape[0];
  const numClasses = ally.a.shape[1];
  const numFeatures = allx.m.cols;
  const numAll = allx.m.rows;

  // shape consistency
  if (x.m.rows !== numTrain) throw new GraphFormatError(x.path, `has ${x.m.rows} rows but ${y.path} has ${numTrain}`);
  if (x.m.cols !== numFeatures) throw new GraphFormatError(x.path, `has ${x.m.cols} feature columns but ${allx.path} has ${numFeatures}`);
  if (tx.m.cols !== numFeatures) throw new GraphFormatError(tx.path, `has ${tx.m.cols} feature columns but ${allx.path} has ${numFeatures}`);
  if (ally.a.shape[0] !== numAll) throw new GraphFormatError(ally.path, `has ${ally.a.shape[0]} rows but ${allx.path} has ${numAll}`);
  if (y.a.shape[1] !== numClasses) throw new GraphFormatError(y.path, `has ${y.a.shape[1]} classes but ${ally.path} has ${numClasses}`);
  if (ty.a.shape[1] !== numClasses) throw new GraphFormatError(ty.path, `has ${ty.a.shape[1]} classes but ${ally.path} has ${numClasses}`);
  if (ty.a.shape[0] !== tx.m.rows) throw new GraphFormatError(ty.path, `has ${ty.a.shape[0]} rows but ${tx.path} has ${tx.m.rows}`);
  if (test.ids.length !== tx.m.rows) throw new GraphFormatError(test.path, `lists ${test.ids.length} test nodes but ${tx.path} has ${tx.m.rows} rows`);
  if (numTrain + NUM_VAL > numAll) throw new GraphFormatError(allx.path, `has ${numAll} rows, fewer than len(y) + ${NUM_VAL} = ${numTrain + NUM_VAL}`);

  const sortedTest = [...test.ids].sort((a, b) => a - b);
  for (let i = 1; i < sortedTest.length; i++) {
    if (sortedTest[i] === sortedTest[i - 1]) throw new GraphFormatError(test.path, `node ${sortedTest[i]} is listed twice`);
  }
  const minTest = sortedTest[0];
  const maxTest = sortedTest[sortedTest.length - 1];
  if (minTest !== numAll) {
    throw new GraphFormatError(test.path, `smallest test id is ${minTest}, but Planetoid test ids start right after the ${numAll} rows of allx`);
  }
  // vstack(allx, tx_extended): tx extended to min..max when test.index has gaps (CiteSeer)
  const numNodes = numAll + (maxTest - minTest + 1);

  const allxLabels = oneHotToLabels(ally.a, ally.path);
  const tyLabels = oneHotToLabels(ty.a, ty.path);
  oneHotToLabels(y.a, y.path); // validated only: Kipf uses len(y)

  // source row for every node: [matrix, row] ; test node test.index[k] takes tx row k
  const txRowOf = new Int32Array(numNodes - numAll).fill(-1);
  test.ids.forEach((id, k) => {
    txRowOf[id - numAll] = k;
  });

  const labels = new Int32Array(numNodes).fill(-1);
  labels.set(allxLabels, 0);
  const rowPtr = new Int32Array(numNodes + 1);
  for (let i = 0; i < numNodes; i++) {
    let len = 0;
    if (i < numAll) len = allx.m.rowPtr[i + 1] - allx.m.rowPtr[i];
    else {
      const k = txRowOf[i - numAll];
      if (k >= 0) {
        len = tx.m.rowPtr[k + 1] - tx.m.rowPtr[k];
        labels[i] = tyLabels[k];
      }
    }
    rowPtr[i + 1] = rowPtr[i] + len;
  }
  const nnz = rowPtr[numNodes];
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let i = 0; i < numNodes; i++) {
    let src: PickledCsr | null = null;
    let r = i;
    if (i < numAll) src = allx.m;
    else if (txRowOf[i - numAll] >= 0) {
      src = tx.m;
      r = txRowOf[i - numAll];
    }
    if (!src) continue;
    const a = src.rowPtr[r];
    const b = src.rowPtr[r + 1];
    colIdx.set(src.colIdx.subarray(a, b), rowPtr[i]);
    values.set(src.values.subarray(a, b), rowPtr[i]);
  }

  // edges from the defaultdict(list)
  if (!(graphDict instanceof Map)) throw new GraphFormatError(graphPath, "expected a dict of adjacency lists");
  const src: number[] = [];
  const dst: number[] = [];
  for (const [k, v] of graphDict) {
    if (typeof k !== "number" || !Number.isInteger(k) || k < 0 || k >= numNodes) {
      throw new GraphFormatError(graphPath, `key ${String(k)} is not a node id in 0..${numNodes - 1}`);
    }
    if (!Array.isArray(v)) throw new GraphFormatError(graphPath, `value of key ${k} is not a list`);
    for (const n of v as PyValue[]) {
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n >= numNodes) {
        throw new GraphFormatError(graphPath, `node ${k} has neighbour ${String(n)}, but nodes are 0..${numNodes - 1}`);
      }
      src.push(k);
      dst.push(n);
    }
  }
  const edges = canonicalEdges(src, dst, numNodes, graphPath);

  const trainIdx = Int32Array.from({ length: numTrain }, (_, i) => i);
  const valIdx = Int32Array.from({ length: NUM_VAL }, (_, i) => numTrain + i);
  const testIdx = Int32Array.from(sortedTest);
  return {
    name,
    numNodes,
    numFeatures,
    numClasses,
    ...edges,
    features: { kind: "csr", rows: numNodes, cols: numFeatures, rowPtr, colIdx, values },
    labels,
    trainIdx,
    valIdx,
    testIdx,
  };
}
