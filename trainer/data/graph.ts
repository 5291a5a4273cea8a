import type { CsrMatrix, DenseMatrix } from "../../ticket/csr.js";

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
