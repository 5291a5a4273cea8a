import type { Graph } from "../data/graph.js";

/**
 * The edge set a GCN aggregates over: the graph's directed edges plus one self-loop per node
 * (self-loops come last, edge id E + v for node v). This is the set the per-edge mask covers and
 * the graph-sparsity denominator (13,264 on Cora, as in FastGLT's GCN).
 */
export interface GcnEdges {
  numNodes: number;
  /** edges of the graph itself; ids ≥ this are the self-loops */
  numGraphEdges: number;
  src: Int32Array;
  dst: Int32Array;
  /** D^-1/2 (A + I) D^-1/2 coefficient of each edge, degrees of the unpruned graph */
  norm: Float32Array;
}

export function gcnEdges(graph: Graph): GcnEdges {
  const n = graph.numNodes;
  const e = graph.edgeSrc.length;
  const src = new Int32Array(e + n);
  const dst = new Int32Array(e + n);
  src.set(graph.edgeSrc);
  dst.set(graph.edgeDst);
  for (let v = 0; v < n; v++) {
    src[e + v] = v;
    dst[e + v] = v;
  }
  const degree = new Float64Array(n);
  for (let k = 0; k < src.length; k++) degree[dst[k]] += 1;
  const norm = new Float32Array(src.length);
  for (let k = 0; k < src.length; k++) norm[k] = 1 / Math.sqrt(degree[src[k]] * degree[dst[k]]);
  return { numNodes: n, numGraphEdges: e, src, dst, norm };
}

/**
 * D^-1/2 (A+I) D^-1/2 of the kept edges (self-loops included when kept), degree = kept in-edges.
 * A pruned edge gets the coefficient it would have at the kept degrees (at least 1): it carries no
 * message (its mask value is 0), but its mask gradient, which FastGLT's regrowth reads, stays defined.
 */
export function keptNormalisation(edges: GcnEdges, keep: Float32Array): Float32Array {
  const degree = new Float64Array(edges.numNodes);
  for (let k = 0; k < edges.src.length; k++) if (keep[k] !== 0) degree[edges.dst[k]] += 1;
  const norm = new Float32Array(edges.src.length);
  for (let k = 0; k < edges.src.length; k++) norm[k] = 1 / Math.sqrt(Math.max(1, degree[edges.src[k]]) * Math.max(1, degree[edges.dst[k]]));
  return norm;
}
