/**
 * GAT attention coefficients over a fixed edge list, per head k, with a per-edge mask m ≥ 0 that
 * removes edges for real (a pruned edge is absent from the softmax, not given logit 0). The scores
 * come as one [N, 2H] tensor, [el | er] (what headDot gives for a = [a_src; a_dst]):
 *
 *   x_e = el[src_e, k] + er[dst_e, k],   s_e = LeakyReLU(x_e)
 *   α_e = m_e · exp(s_e) / Σ_{e' into dst_e} m_e' · exp(s_e')      (= softmax over v's in-edges of s + log m)
 *
 * A negative mask value counts as 0 (ticket/ticket.ts: a GAT's coefficient is ≥ 0). A destination
 * whose in-edges all have m ≤ 0 gets α = 0 on every in-edge, and no gradient.
 *
 * Gradients (g = dL/dα, γ_v = Σ_{e' into v} α_e' g_e', D_v = Σ m_e' exp(s_e' − M_v)):
 *
 *   dL/ds_e = α_e (g_e − γ_v)             dL/dx_e = dL/ds_e · (x_e > 0 ? 1 : slope)
 *   del[u]  = Σ_{e: src_e = u} dL/dx_e    der[v] = Σ_{e: dst_e = v} dL/dx_e
 *   dL/dm_e = Σ_k (g_e − γ_v) · exp(s_e − M_v) / D_v
 *
 * dL/dm_e is the derivative at max(m_e, 0) from the right, so at m_e = 0 it is defined and
 * nonzero (FastGLT's regrowth scores pruned edges by it), and a mask pushed below 0 can come back.
 *
 * Plain JS loops over E·H in float64 on every backend (Cora: 13k edges × 8 heads); the gradient
 * recomputes the softmax rather than saving it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { asAttrs, ensureKernel, F32Output, readF32 } from "./kernel-bridge.js";

const FORWARD_KERNEL = "FastgltEdgeSoftmax";

/** The edge list grouped by destination, built once per edge set. */
export interface EdgeSoftmaxGraph {
  readonly numNodes: number;
  readonly numEdges: number;
}

class PreparedEdges implements EdgeSoftmaxGraph {
  readonly numEdges: number;
  /** edges by destination: rowPtr over nodes, byDst[q] = edge id, srcByDst[q] = its source */
  readonly rowPtr: Int32Array;
  readonly byDst: Int32Array;
  readonly srcByDst: Int32Array;
  /** per-edge scratch of one destination row (exp(s − M) in float64) */
  readonly scratch: Float64Array;

  constructor(
    readonly src: Int32Array,
    readonly dst: Int32Array,
    readonly numNodes: number,
  ) {
    const e = src.length;
    this.numEdges = e;
    this.rowPtr = new Int32Array(numNodes + 1);
    for (let i = 0; i < e; i++) this.rowPtr[dst[i] + 1]++;
    let maxDegree = 0;
    for (let v = 0; v < numNodes; v++) {
      maxDegree = Math.max(maxDegree, this.rowPtr[v + 1]);
      this.rowPtr[v + 1] += this.rowPtr[v];
    }
    const next = this.rowPtr.slice(0, numNodes);
    this.byDst = new Int32Array(e);
    for (let i = 0; i < e; i++) this.byDst[next[dst[i]]++] = i;
    this.srcByDst = Int32Array.from(this.byDst, (i) => src[i]);
    this.scratch = new Float64Array(maxDegree);
  }
}

/** Groups the edges (src[e] → dst[e]) by destination. Multi-edges and self-loops are allowed; the arrays are copied. */
export function prepareEdgeSoftmax(src: Int32Array, dst: Int32Array, numNodes: number): EdgeSoftmaxGraph {
  if (src.length !== dst.length) throw new Error(`prepareEdgeSoftmax: src has ${src.length} edges but dst has ${dst.length}`);
  if (!Number.isInteger(numNodes) || numNodes < 0) throw new Error(`prepareEdgeSoftmax: bad numNodes ${numNodes}`);
  for (let e = 0; e < src.length; e++) {
    if (src[e] < 0 || src[e] >= numNodes || dst[e] < 0 || dst[e] >= numNodes) {
      throw new Error(`prepareEdgeSoftmax: edge ${e} (${src[e]} -> ${dst[e]}) names a node outside 0..${numNodes - 1}`);
    }
  }
  return new PreparedEdges(src.slice(), dst.slice(), numNodes);
}

interface Attrs {
  graph: PreparedEdges;
  negativeSlope: number;
}

/**
 * One destination row v and head k, scores [N, 2H] = [el | er]: writes t = exp(s − M) of every
 * in-edge (float64, `g.scratch`, in by-destination order) and returns D = Σ max(m, 0)·t (0 when no
 * in-edge has m > 0).
 */
function rowSoftmax(g: PreparedEdges, v: number, k: number, heads: number, scores: Float32Array, m: Float32Array, slope: number): number {
  const { rowPtr, byDst, srcByDst, scratch } = g;
  const start = rowPtr[v];
  const end = rowPtr[v + 1];
  const w = 2 * heads;
  const erv = scores[v * w + heads + k];
  let max = -Infinity;
  for (let q = start; q < end; q++) {
    const x = scores[srcByDst[q] * w + k] + erv;
    const s = x > 0 ? x : slope * x;
    scratch[q - start] = s;
    if (m[byDst[q]] > 0 && s > max) max = s;
  }
  if (max === -Infinity) return 0;
  let denom = 0;
  for (let q = start; q < end; q++) {
    const t = Math.exp(scratch[q - start] - max);
    scratch[q - start] = t;
    const me = m[byDst[q]];
    if (me > 0) denom += me * t;
  }
  return denom;
}

/** α [E, H] from {scores} [N, 2H] and {m} [E]. */
const forwardKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { graph: g, negativeSlope } = attrs as unknown as Attrs;
  const heads = inputs.scores!.shape[1] / 2;
  const out = new F32Output(backend, [g.numEdges, heads]);
  const scores = readF32(backend, inputs.scores!, "edgeSoftmax scores");
  const m = readF32(backend, inputs.m!, "edgeSoftmax m");
  const alpha = out.view();
  const { rowPtr, byDst, scratch } = g;
  for (let v = 0; v < g.numNodes; v++) {
    const start = rowPtr[v];
    for (let k = 0; k < heads; k++) {
      const denom = rowSoftmax(g, v, k, heads, scores, m, negativeSlope);
      for (let q = start; q < rowPtr[v + 1]; q++) {
        const e = byDst[q];
        alpha[e * heads + k] = denom > 0 && m[e] > 0 ? (m[e] * scratch[q - start]) / denom : 0;
      }
    }
  }
  return out.finish();
};

/** dL/d(scores, m) from dy = dL/dα ([E, H]); scores [N, 2H], m [E]. */
function softmaxGrad(g: PreparedEdges, heads: number, dy: Float32Array, scores: Float32Array, m: Float32Array, slope: number): { dScores: Float32Array; dm: Float32Array } {
  const w = 2 * heads;
  const dScores = new Float64Array(g.numNodes * w);
  const dm = new Float64Array(g.numEdges);
  const { rowPtr, byDst, srcByDst, scratch } = g;
  for (let v = 0; v < g.numNodes; v++) {
    const start = rowPtr[v];
    const end = rowPtr[v + 1];
    for (let k = 0; k < heads; k++) {
      const denom = rowSoftmax(g, v, k, heads, scores, m, slope);
      if (denom === 0) continue;
      let gamma = 0;
      for (let q = start; q < end; q++) {
        const e = byDst[q];
        if (m[e] > 0) gamma += ((m[e] * scratch[q - start]) / denom) * dy[e * heads + k];
      }
      const erv = scores[v * w + heads + k];
      let dErv = 0;
      for (let q = start; q < end; q++) {
        const e = byDst[q];
        const r = dy[e * heads + k] - gamma;
        const tOverD = scratch[q - start] / denom;
        dm[e] += r * tOverD;
        if (m[e] > 0) {
          const ds = m[e] * tOverD * r;
          const u = srcByDst[q];
          const dx = scores[u * w + k] + erv > 0 ? ds : slope * ds;
          dScores[u * w + k] += dx;
          dErv += dx;
        }
      }
      dScores[v * w + heads + k] += dErv;
    }
  }
  return { dScores: Float32Array.from(dScores), dm: Float32Array.from(dm) };
}

if (tf.getGradient(FORWARD_KERNEL) == null) {
  tf.registerGradient({
    kernelName: FORWARD_KERNEL,
    inputsToSave: ["scores", "m"],
    gradFunc: (dy, saved, attrs) => {
      const [scores, m] = saved;
      const { graph, negativeSlope } = attrs as unknown as Attrs;
      // one pass gives both; tfjs asks for each input's gradient in its own tidy, so the pass's
      // results are kept as plain arrays until asked for
      let grads: ReturnType<typeof softmaxGrad> | null = null;
      const all = () =>
        (grads ??= softmaxGrad(graph, scores.shape[1]! / 2, (dy as tf.Tensor).dataSync() as Float32Array, scores.dataSync() as Float32Array, m.dataSync() as Float32Array, negativeSlope));
      return {
        scores: () => tf.tensor(all().dScores, scores.shape, "float32"),
        m: () => tf.tensor(all().dm, m.shape, "float32"),
      };
    },
  });
}

/**
 * α [E, H]: per head, the softmax of LeakyReLU(el[src] + er[dst]) over each destination's in-edges,
 * weighted by m (see the file header). `scores` is [numNodes, 2·heads] = [el | er], `m` is
 * [numEdges] in the order given to prepareEdgeSoftmax. Differentiable in scores and m.
 */
export function edgeSoftmax(scores: tf.Tensor2D, m: tf.Tensor1D, graph: EdgeSoftmaxGraph, opts: { negativeSlope?: number } = {}): tf.Tensor2D {
  if (!(graph instanceof PreparedEdges)) throw new Error("edgeSoftmax: graph must come from prepareEdgeSoftmax");
  const n = graph.numNodes;
  if (scores.rank !== 2 || scores.shape[0] !== n || scores.shape[1] % 2 !== 0 || scores.shape[1] === 0) {
    throw new Error(`edgeSoftmax: scores must be [${n}, 2·heads] ([el | er]), got [${scores.shape.join(", ")}]`);
  }
  if (m.rank !== 1 || m.shape[0] !== graph.numEdges) throw new Error(`edgeSoftmax: m must be [${graph.numEdges}], got [${m.shape.join(", ")}]`);
  if (scores.dtype !== "float32" || m.dtype !== "float32") throw new Error("edgeSoftmax: scores and m must be float32");
  const negativeSlope = opts.negativeSlope ?? 0.2;
  ensureKernel(FORWARD_KERNEL, forwardKernelFunc);
  return tf.engine().runKernel(FORWARD_KERNEL, { scores, m }, asAttrs({ graph, negativeSlope })) as tf.Tensor2D;
}
