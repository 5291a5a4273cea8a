/**
 * Message passing over a fixed edge list with per-edge weights that change every step:
 *
 *   y[v] = Σ_{e: src_e → v} w_e · h[src_e]          (y = A_w · h, A_w[v, u] = Σ w_e over edges u → v)
 *
 * Gradients (registered with tf.registerGradient, so tfjs asks for each input's gradient lazily and
 * never computes dw when w does not depend on a trained variable):
 *
 *   dh[u] = Σ_{e: u → v} w_e · dy[v]                 (the same aggregation, source and destination swapped)
 *   dw_e  = dot(dy[dst_e], h[src_e])                 (an SDDMM over the edges)
 *
 * On the wasm and cpu backends the op runs the injected SparseKernels (spmm / sddmm over CSR
 * structures built once by prepareMessagePassing); on other backends (native TensorFlow) it is the
 * stock gather → mul → unsortedSegmentSum, which is fast there.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CsrHandle, SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import { asAttrs, ensureKernel, F32Output, getSparseKernels, readF32, useCustom, type OpImpl } from "./kernel-bridge.js";

const MP_KERNEL = "FastgltMessagePassing";
const MP_EDGE_GRAD_KERNEL = "FastgltMessagePassingEdgeGrad";

/**
 * When at least this fraction of the edge weights are 0 (GAT's attention dropout zeroes 60%; pruned
 * edges are 0), the aggregation runs on a copy of the CSR without them: a zero weight's term adds
 * nothing, and skipping it skips reading its source row. The gradient of the weights (SDDMM) still
 * covers every edge: a pruned edge's gradient is what FastGLT regrows by.
 */
export const SKIP_ZERO_WEIGHTS_FROM = 0.25;

/** One orientation of the edge set as CSR: row r lists edges by position k, perm[k] = edge id. */
interface CsrSide {
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly perm: Int32Array;
  readonly handle: CsrHandle;
  /** edge weights permuted into CSR order, handed to handle.setValues */
  readonly values: Float32Array;
  /** SDDMM output in CSR order */
  readonly dots: Float32Array;
  /** dataId of the weight tensor whose values the handle holds (skip setValues when unchanged) */
  weightKey: object | null;
  /** the CSR without the zero-weight edges, when enough are zero; else null (use `handle`) */
  nonzero: CsrHandle | null;
  /** where that CSR is assembled before the kernels copy it (allocated on first use, full size) */
  compact: { rowPtr: Int32Array; colIdx: Int32Array; values: Float32Array } | null;
}

/** Counting sort of edges by `rowOf`, stable; columns from `colOf`. */
function buildSide(rowOf: Int32Array, colOf: Int32Array, numNodes: number, kernels: SparseKernels): CsrSide {
  const e = rowOf.length;
  const rowPtr = new Int32Array(numNodes + 1);
  for (let i = 0; i < e; i++) rowPtr[rowOf[i] + 1]++;
  for (let r = 0; r < numNodes; r++) rowPtr[r + 1] += rowPtr[r];
  const next = rowPtr.slice(0, numNodes);
  const perm = new Int32Array(e);
  const colIdx = new Int32Array(e);
  for (let i = 0; i < e; i++) {
    const k = next[rowOf[i]]++;
    perm[k] = i;
    colIdx[k] = colOf[i];
  }
  const values = new Float32Array(e);
  const handle = kernels.csr(rowPtr, colIdx, values, numNodes);
  return { rowPtr, colIdx, perm, handle, values, dots: new Float32Array(e), weightKey: null, nonzero: null, compact: null };
}

/** The graph side of message passing, built once per edge set; edge weights are per call. */
export interface MessagePassingGraph {
  readonly numNodes: number;
  readonly numEdges: number;
  readonly src: Int32Array;
  readonly dst: Int32Array;
  /** the SparseKernels implementation whose CsrHandles this graph holds */
  readonly kernels: SparseKernels;
  /** frees the kernel handles and any cached index tensors */
  dispose(): void;
}

class PreparedGraph implements MessagePassingGraph {
  readonly numEdges: number;
  /** CSR over destination: row v lists v's in-edges, column = source (forward y = A h) */
  readonly byDst: CsrSide;
  /** CSR over source: row u lists u's out-edges, column = destination (dh = Aᵀ dy) */
  readonly bySrc: CsrSide;
  private srcT: tf.Tensor1D | null = null;
  private dstT: tf.Tensor1D | null = null;
  private disposed = false;

  constructor(
    readonly src: Int32Array,
    readonly dst: Int32Array,
    readonly numNodes: number,
    readonly kernels: SparseKernels,
  ) {
    this.numEdges = src.length;
    this.byDst = buildSide(dst, src, numNodes, kernels);
    this.bySrc = buildSide(src, dst, numNodes, kernels);
  }

  checkLive(): void {
    if (this.disposed) throw new Error("messagePassing: the graph was disposed");
  }

  /**
   * Loads edge weights (in edge order) into one side unless it already holds them, and returns the
   * handle to aggregate with: the side's full CSR, or its copy without the zero-weight edges.
   */
  setWeights(side: CsrSide, w: Float32Array, key: object): CsrHandle {
    if (side.weightKey !== key) {
      const { perm, values } = side;
      let zeros = 0;
      for (let k = 0; k < perm.length; k++) {
        const v = w[perm[k]];
        values[k] = v;
        if (v === 0) zeros++;
      }
      side.nonzero?.free();
      side.nonzero = null;
      if (zeros > 0 && zeros >= SKIP_ZERO_WEIGHTS_FROM * perm.length) side.nonzero = this.withoutZeros(side, perm.length - zeros);
      else side.handle.setValues(values);
      side.weightKey = key;
    }
    return side.nonzero ?? side.handle;
  }

  private withoutZeros(side: CsrSide, nnz: number): CsrHandle {
    const { rowPtr, colIdx, values } = side;
    const rows = rowPtr.length - 1;
    side.compact ??= { rowPtr: new Int32Array(rows + 1), colIdx: new Int32Array(colIdx.length), values: new Float32Array(colIdx.length) };
    const { rowPtr: ptr, colIdx: col, values: val } = side.compact;
    let n = 0;
    for (let r = 0; r < rows; r++) {
      for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
        if (values[k] === 0) continue;
        col[n] = colIdx[k];
        val[n++] = values[k];
      }
      ptr[r + 1] = n;
    }
    return this.kernels.csr(ptr, col.subarray(0, nnz), val.subarray(0, nnz), this.numNodes);
  }

  /** int32 index tensors for the stock path, created on first use and kept until dispose */
  indexTensors(): { src: tf.Tensor1D; dst: tf.Tensor1D } {
    if (!this.srcT || !this.dstT) {
      this.srcT = tf.keep(tf.tensor1d(this.src, "int32"));
      this.dstT = tf.keep(tf.tensor1d(this.dst, "int32"));
    }
    return { src: this.srcT, dst: this.dstT };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const side of [this.byDst, this.bySrc]) {
      side.handle.free();
      side.nonzero?.free();
    }
    this.srcT?.dispose();
    this.dstT?.dispose();
  }
}

/**
 * Builds the CSR structures (over destination and over source, with edge-id permutations) for an
 * edge list: edge e goes src[e] → dst[e]. Multi-edges and self-loops are allowed. The arrays are
 * copied. `kernels` defaults to the ones set with setSparseKernels (the reference kernels).
 */
export function prepareMessagePassing(
  src: Int32Array,
  dst: Int32Array,
  numNodes: number,
  opts: { kernels?: SparseKernels } = {},
): MessagePassingGraph {
  if (src.length !== dst.length) {
    throw new Error(`prepareMessagePassing: src has ${src.length} edges but dst has ${dst.length}`);
  }
  if (!Number.isInteger(numNodes) || numNodes < 0) throw new Error(`prepareMessagePassing: bad numNodes ${numNodes}`);
  for (let e = 0; e < src.length; e++) {
    const u = src[e];
    const v = dst[e];
    if (u < 0 || u >= numNodes || v < 0 || v >= numNodes) {
      throw new Error(`prepareMessagePassing: edge ${e} (${u} -> ${v}) names a node outside 0..${numNodes - 1}`);
    }
  }
  return new PreparedGraph(src.slice(), dst.slice(), numNodes, opts.kernels ?? getSparseKernels());
}

function asPrepared(graph: MessagePassingGraph): PreparedGraph {
  if (!(graph instanceof PreparedGraph)) throw new Error("messagePassing: graph must come from prepareMessagePassing");
  graph.checkLive();
  return graph;
}

/** y = A_w · h (transpose false) or A_wᵀ · h (transpose true); inputs {h, w}. */
const mpKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const g = (attrs as unknown as { graph: PreparedGraph }).graph;
  const transpose = (attrs as unknown as { transpose: boolean }).transpose;
  const h = inputs.h!;
  const w = inputs.w!;
  const f = h.shape[1];
  const side = transpose ? g.bySrc : g.byDst;
  const out = new F32Output(backend, [g.numNodes, f]);
  const a = g.setWeights(side, readF32(backend, w, "messagePassing edge weights"), w.dataId);
  g.kernels.spmm(a, readF32(backend, h, "messagePassing h"), f, out.view());
  return out.finish();
};

/** dw_e = dot(dy[row], h[col]) over the edges of the side used by the forward; inputs {dy, h}. */
const edgeGradKernelFunc: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const g = (attrs as unknown as { graph: PreparedGraph }).graph;
  const transpose = (attrs as unknown as { transpose: boolean }).transpose;
  const dy = inputs.dy!;
  const h = inputs.h!;
  const f = h.shape[1];
  const side = transpose ? g.bySrc : g.byDst;
  const out = new F32Output(backend, [g.numEdges]);
  const dots = side.dots;
  g.kernels.sddmm(side.handle, readF32(backend, dy, "messagePassing dy"), readF32(backend, h, "messagePassing h"), f, dots);
  const o = out.view();
  const perm = side.perm;
  for (let k = 0; k < perm.length; k++) o[perm[k]] = dots[k];
  return out.finish();
};

if (tf.getGradient(MP_KERNEL) == null) {
  tf.registerGradient({
    kernelName: MP_KERNEL,
    inputsToSave: ["h", "w"],
    gradFunc: (dy, saved, attrs) => {
      const [h, w] = saved;
      const g = (attrs as unknown as { graph: PreparedGraph }).graph;
      const transpose = (attrs as unknown as { transpose: boolean }).transpose;
      const d = dy as tf.Tensor;
      return {
        h: () => tf.engine().runKernel(MP_KERNEL, { h: d, w }, asAttrs({ graph: g, transpose: !transpose })) as tf.Tensor,
        w: () => tf.engine().runKernel(MP_EDGE_GRAD_KERNEL, { dy: d, h }, asAttrs({ graph: g, transpose })) as tf.Tensor,
      };
    },
  });
}

export interface MessagePassingOptions {
  /** `auto` (default): custom kernels on wasm/cpu, stock tfjs ops elsewhere */
  impl?: OpImpl;
  /** aggregate along the reversed edges (y = A_wᵀ h); default false */
  transpose?: boolean;
}

/**
 * y[v] = Σ_{e: src_e → v} w_e · h[src_e]. `h` is numNodes × F (float32), `edgeWeight` has one value
 * per edge in the order given to prepareMessagePassing. Differentiable in both h and edgeWeight.
 */
export function messagePassing(
  h: tf.Tensor2D,
  edgeWeight: tf.Tensor1D,
  graph: MessagePassingGraph,
  opts: MessagePassingOptions = {},
): tf.Tensor2D {
  const g = asPrepared(graph);
  if (h.rank !== 2 || h.shape[0] !== g.numNodes) {
    throw new Error(`messagePassing: h must be [${g.numNodes}, F], got [${h.shape.join(", ")}]`);
  }
  if (edgeWeight.rank !== 1 || edgeWeight.shape[0] !== g.numEdges) {
    throw new Error(`messagePassing: edgeWeight must be [${g.numEdges}], got [${edgeWeight.shape.join(", ")}]`);
  }
  if (h.dtype !== "float32" || edgeWeight.dtype !== "float32") {
    throw new Error(`messagePassing: h and edgeWeight must be float32, got ${h.dtype} and ${edgeWeight.dtype}`);
  }
  const transpose = opts.transpose ?? false;
  if (!useCustom(opts.impl)) {
    return tf.tidy(() => {
      const idx = g.indexTensors();
      const [from, to] = transpose ? [idx.dst, idx.src] : [idx.src, idx.dst];
      const msgs = tf.mul(tf.gather(h, from), tf.reshape(edgeWeight, [-1, 1]));
      return tf.unsortedSegmentSum(msgs, to, g.numNodes) as tf.Tensor2D;
    });
  }
  ensureKernel(MP_KERNEL, mpKernelFunc);
  ensureKernel(MP_EDGE_GRAD_KERNEL, edgeGradKernelFunc);
  return tf.engine().runKernel(MP_KERNEL, { h, w: edgeWeight }, asAttrs({ graph: g, transpose })) as tf.Tensor2D;
}
