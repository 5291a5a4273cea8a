import type { CsrMatrix, DenseMatrix } from "../../ticket/csr.js";
import type { Rng } from "../util/rng.js";

export type Features = ({ kind: "csr" } & CsrMatrix) | ({ kind: "dense" } & DenseMatrix);

/**
 * A node-classification graph. Edges are directed pairs, both directions of every undirected edge
 * stored, without self-loops or duplicates, sorted by (src, dst); `adjacency` is the same edge set
 * as CSR over source nodes (row u lists the destinations of u's out-edges, edge id = position).
 * Because the graph is symmetric, row v also lists v's in-neighbours.
 */
export interface Graph {
  name: string;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  edgeSrc: Int32Array;
  edgeDst: Int32Array;
  adjacency: { rowPtr: Int32Array; colIdx: Int32Array };
  features: Features;
  /** class id per node, or -1 for a node without a label */
  labels: Int32Array;
  trainIdx: Int32Array;
  valIdx: Int32Array;
  testIdx: Int32Array;
}

export class GraphFormatError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "GraphFormatError";
  }
}

export function numEdges(g: Graph): number {
  return g.edgeSrc.length;
}

/**
 * Canonical edge set from arbitrary (src, dst) pairs: symmetrised, self-loops and duplicates
 * dropped, sorted by (src, dst). `source` names the file in errors.
 */
export function canonicalEdges(
  pairsSrc: ArrayLike<number>,
  pairsDst: ArrayLike<number>,
  numNodes: number,
  source: string,
): { edgeSrc: Int32Array; edgeDst: Int32Array; adjacency: { rowPtr: Int32Array; colIdx: Int32Array } } {
  if (pairsSrc.length !== pairsDst.length) throw new GraphFormatError(source, "edge source and destination lists differ in length");
  const keys: number[] = [];
  for (let i = 0; i < pairsSrc.length; i++) {
    const u = pairsSrc[i];
    const v = pairsDst[i];
    for (const x of [u, v]) {
      if (!Number.isInteger(x) || x < 0 || x >= numNodes) {
        throw new GraphFormatError(source, `edge ${i} (${u} -> ${v}) names node ${x}, but nodes are 0..${numNodes - 1}`);
      }
    }
    if (u === v) continue;
    keys.push(u * numNodes + v, v * numNodes + u);
  }
  const sorted = Float64Array.from(keys).sort();
  const edgeSrc: number[] = [];
  const edgeDst: number[] = [];
  let prev = -1;
  for (const k of sorted) {
    if (k === prev) continue;
    prev = k;
    edgeSrc.push(Math.floor(k / numNodes));
    edgeDst.push(k % numNodes);
  }
  const src = Int32Array.from(edgeSrc);
  const dst = Int32Array.from(edgeDst);
  const rowPtr = new Int32Array(numNodes + 1);
  for (const u of src) rowPtr[u + 1]++;
  for (let i = 0; i < numNodes; i++) rowPtr[i + 1] += rowPtr[i];
  return { edgeSrc: src, edgeDst: dst, adjacency: { rowPtr, colIdx: dst } };
}

/** Divides every feature row by its sum (rows summing to 0 stay 0), as Kipf's GCN does. */
export function rowNormalise(f: Features): Features {
  if (f.kind === "csr") {
    const values = f.values.slice();
    for (let r = 0; r < f.rows; r++) {
      let sum = 0;
      for (let k = f.rowPtr[r]; k < f.rowPtr[r + 1]; k++) sum += values[k];
      if (sum !== 0) for (let k = f.rowPtr[r]; k < f.rowPtr[r + 1]; k++) values[k] /= sum;
    }
    return { ...f, values };
  }
  const data = f.data.slice();
  for (let r = 0; r < f.rows; r++) {
    let sum = 0;
    for (let c = 0; c < f.cols; c++) sum += data[r * f.cols + c];
    if (sum !== 0) for (let c = 0; c < f.cols; c++) data[r * f.cols + c] /= sum;
  }
  return { ...f, data };
}

/**
 * A seeded Planetoid-style split over the labelled nodes (label >= 0): `trainPerClass` random nodes
 * of every class for training, then `numVal` and `numTest` random nodes of the rest. On small
 * graphs it is capped: a class gives at most half its nodes to training, and val/test share the
 * remaining labelled nodes in the ratio numVal : numTest. Index arrays are sorted. O(N).
 */
export function seededSplit(
  labels: Int32Array,
  numClasses: number,
  rng: Rng,
  opts: { trainPerClass?: number; numVal?: number; numTest?: number } = {},
): { trainIdx: Int32Array; valIdx: Int32Array; testIdx: Int32Array } {
  const trainPerClass = opts.trainPerClass ?? 20;
  const numVal = opts.numVal ?? 500;
  const numTest = opts.numTest ?? 1000;
  // nodes grouped by class (counting sort), in id order within a class
  const start = new Int32Array(numClasses + 1);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) start[labels[i] + 1]++;
  for (let c = 0; c < numClasses; c++) start[c + 1] += start[c];
  const byClass = new Int32Array(start[numClasses]);
  const next = start.slice(0, numClasses);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) byClass[next[labels[i]]++] = i;
  // partial Fisher–Yates: the first k entries of a[lo, hi) become a uniform random sample
  const sample = (a: Int32Array, lo: number, hi: number, k: number): void => {
    for (let i = 0; i < k; i++) {
      const j = lo + i + rng.int(hi - lo - i);
      const t = a[lo + i];
      a[lo + i] = a[j];
      a[j] = t;
    }
  };
  const train: number[] = [];
  const rest = new Int32Array(byClass.length);
  let r = 0;
  for (let c = 0; c < numClasses; c++) {
    const lo = start[c];
    const hi = start[c + 1];
    const k = Math.min(trainPerClass, Math.floor((hi - lo) / 2));
    sample(byClass, lo, hi, k);
    for (let i = lo; i < hi; i++) {
      if (i < lo + k) train.push(byClass[i]);
      else rest[r++] = byClass[i];
    }
  }
  const v = Math.min(numVal, Math.floor((r * numVal) / Math.max(1, numVal + numTest)));
  const t = Math.min(numTest, r - v);
  sample(rest, 0, r, v + t);
  return {
    trainIdx: Int32Array.from(train).sort(),
    valIdx: rest.slice(0, v).sort(),
    testIdx: rest.slice(v, v + t).sort(),
  };
}
