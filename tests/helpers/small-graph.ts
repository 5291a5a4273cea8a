import { canonicalEdges, type Graph } from "../../trainer/data/graph.js";
import { Rng } from "../../trainer/util/rng.js";

/** A random small graph with awkward sizes: isolated nodes, sparse CSR features, a few classes. */
export function randomSmallGraph(seed: number, numNodes = 37, numFeatures = 13, numClasses = 3): Graph {
  const rng = new Rng(seed);
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < numNodes * 2; i++) {
    const u = rng.int(numNodes - 3); // the last three nodes stay isolated
    const v = rng.int(numNodes - 3);
    src.push(u);
    dst.push(v);
  }
  const edges = canonicalEdges(src, dst, numNodes, "random graph");
  const rowPtr = new Int32Array(numNodes + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < numNodes; r++) {
    for (let c = 0; c < numFeatures; c++) {
      if (rng.next() < 0.3) {
        cols.push(c);
        vals.push(rng.next());
      }
    }
    rowPtr[r + 1] = cols.length;
  }
  const labels = Int32Array.from({ length: numNodes }, () => rng.int(numClasses));
  const order = rng.shuffle(Int32Array.from({ length: numNodes }, (_, i) => i));
  return {
    name: `random-${seed}`,
    numNodes,
    numFeatures,
    numClasses,
    ...edges,
    features: { kind: "csr", rows: numNodes, cols: numFeatures, rowPtr, colIdx: Int32Array.from(cols), values: Float32Array.from(vals) },
    labels,
    trainIdx: order.slice(0, 10),
    valIdx: order.slice(10, 20),
    testIdx: order.slice(20),
  };
}
