/**
 * The plan, made once when a model is created (pure TypeScript, no wasm):
 *  1. dead units: hidden units no later layer reads (all-zero row in the next weight matrix) are
 *     dropped from both weight matrices and the bias, from the last layer backwards; input
 *     features no weight reads are marked so sparse inputs skip them. A GAT layer's outputs are
 *     never dropped: each is a column of Z = H·W that its attention vectors also read;
 *  2. per layer, the order: Â·(H·W) (transform first) or (Â·H)·W (aggregate first), whichever
 *     multiplies Â by the narrower matrix (the weight MACs are the same either way); sparse input
 *     features are always transformed first, and so is every GAT layer (attention needs Z);
 *  3. per layer and input kind, sparse or dense weight kernel by weight density, against fixed
 *     thresholds measured with bench/kernels.ts. The model (model.ts) then times both kernels of
 *     every layer on a warm-up at load and keeps the faster (`kernelSource` says which rule
 *     decided); the thresholds remain the choice when measuring is off or impossible.
 */
import { gatMacs, weightNnz, type Activation, type LayerKind, type Ticket } from "../../ticket/ticket.js";
import { weightToDense } from "./reference.js";

/**
 * Densities at or below which the sparse-weight kernels beat the dense ones (bench/kernels.ts on
 * the project machine): dense activations, f32_spmm_w_nm vs f32_gemm, cross near 0.6;
 * sparse input features, f32_spgemm_csr (scalar scatter) vs f32_spmm_csr on dense weights,
 * cross near 0.1.
 */
export const SPARSE_WEIGHT_MAX_DENSITY_DENSE_INPUT = 0.5;
export const SPARSE_WEIGHT_MAX_DENSITY_SPARSE_INPUT = 0.1;

/**
 * A dense feature input with at most this fraction of nonzeros is converted to CSR and takes the
 * sparse-input path (f32_spmm_csr at ~25 GFLOP/s on the nonzeros against f32_gemm at ~35 on
 * everything; the O(N·F) scan costs a few % of the GEMM it may replace).
 */
export const DENSE_INPUT_MAX_DENSITY_FOR_CSR = 0.25;

export type InputKind = "csr" | "dense";
export type Order = "transform-first" | "aggregate-first";
export type WeightKernel = "sparse" | "dense";

export interface PlanOptions {
  /** force the order of every dense-input layer (tests); default: by cost */
  order?: "auto" | Order;
  /** force the weight kernel of every layer (tests); default: by density */
  weightKernel?: "auto" | WeightKernel;
  /** override SPARSE_WEIGHT_MAX_DENSITY_DENSE_INPUT */
  sparseDensityDenseInput?: number;
  /** override SPARSE_WEIGHT_MAX_DENSITY_SPARSE_INPUT */
  sparseDensitySparseInput?: number;
  /** override DENSE_INPUT_MAX_DENSITY_FOR_CSR (0: never convert a dense input) */
  denseInputMaxDensity?: number;
  /** drop dead hidden units (default true) */
  dropDeadUnits?: boolean;
}

/** A GAT layer's attention, as the kernels take it. */
export interface GatPlan {
  heads: number;
  headFeatures: number;
  /** heads × headFeatures, row-major by head */
  src: Float32Array;
  dst: Float32Array;
  negativeSlope: number;
  concat: boolean;
}

export interface LayerPlan {
  index: number;
  kind: LayerKind;
  /** width after dropping dead units (the input width of layer 0 is never reduced) */
  inFeatures: number;
  /** the layer's output width (a GAT layer: heads·headFeatures concatenated, headFeatures averaged) */
  outFeatures: number;
  /** columns of W: outFeatures, or heads·headFeatures for a GAT layer */
  weightCols: number;
  /** compacted weights, dense row-major inFeatures × weightCols */
  weight: Float32Array;
  nnz: number;
  density: number;
  bias: Float32Array | null;
  activation: Activation;
  /** activation === "relu": fused into the layer's last kernel */
  relu: boolean;
  /** the attention of a GAT layer, else null */
  gat: GatPlan | null;
  /** order for a dense input (a sparse input is always transformed first) */
  order: Order;
  /** weight kernel for a dense input / for a sparse (CSR) input */
  kernelDense: WeightKernel;
  kernelCsr: WeightKernel;
  /** hidden units of the original layer kept, in order (original output indices) */
  keptUnits: Int32Array;
  /** nonzero weights per input row (MAC accounting of the sparse first layer) */
  rowNnz: Int32Array;
  /** what decided kernelDense / kernelCsr: a forced option, the density threshold, or a timed warm-up */
  kernelSource: { dense: KernelSource; csr: KernelSource };
  /** the warm-up timings behind a measured choice (ms per call on `rows` rows) */
  measured: { dense?: KernelTiming; csr?: KernelTiming };
  /** MACs of this layer in the ticket's own accounting, original widths: edges · d_in + N · nnz(W) (algorithms.md §5), `gatMacs` for GAT */
  ticketMacs: number;
}

export type KernelSource = "forced" | "threshold" | "measured";

export interface KernelTiming {
  rows: number;
  sparseMs: number;
  denseMs: number;
}

export interface Plan {
  numNodes: number;
  numEdges: number;
  /** edges with a coefficient > 0 (the ones GAT aggregation reads) */
  positiveEdges: number;
  /** largest in-degree of a node (sizes the GAT kernel's scratch) */
  maxDegree: number;
  numClasses: number;
  layers: LayerPlan[];
  /** per input feature of layer 0: 1 if some weight reads it */
  featureUsed: Uint8Array;
  usedFeatures: number;
  droppedUnits: number;
  /** dense inputs at or below this density are run as CSR */
  denseInputMaxDensity: number;
  /** the order was forced by an option */
  orderForced: boolean;
  /** the weight kernel was forced by an option */
  kernelForced: boolean;
}

export function makePlan(ticket: Ticket, opts: PlanOptions = {}): Plan {
  const n = ticket.graph.numNodes;
  const numEdges = ticket.graph.rowPtr[n];
  const L = ticket.layers.length;
  const ws = ticket.layers.map((l) => (l.weight.format === "dense" ? l.weight.data.slice() : weightToDense(l.weight)));
  const biases = ticket.layers.map((l) => (l.bias ? l.bias.slice() : null));
  const ins = ticket.layers.map((l) => l.inFeatures);
  // columns of each W (a GAT layer's are heads·headFeatures, its outputs are fixed)
  const outs = ticket.layers.map((l) => l.weight.cols);
  const kept: Int32Array[] = ticket.layers.map((l) => Int32Array.from({ length: l.outFeatures }, (_, i) => i));
  let dropped = 0;

  if (opts.dropDeadUnits ?? true) {
    for (let l = L - 1; l >= 1; l--) {
      if (ticket.layers[l - 1].kind === "gat") continue;
      // rows of W_l (inputs of layer l = outputs of layer l − 1) that some kept weight reads
      const rows = ins[l];
      const cols = outs[l];
      const w = ws[l];
      const live: number[] = [];
      for (let i = 0; i < rows; i++) {
        let any = false;
        for (let j = 0; j < cols && !any; j++) any = w[i * cols + j] !== 0;
        if (any) live.push(i);
      }
      if (live.length === rows) continue;
      dropped += rows - live.length;
      // compact W_l rows
      const wl = new Float32Array(live.length * cols);
      live.forEach((i, r) => wl.set(w.subarray(i * cols, (i + 1) * cols), r * cols));
      ws[l] = wl;
      ins[l] = live.length;
      // compact W_{l−1} columns, its bias and kept-unit list
      const pr = ins[l - 1];
      const pc = outs[l - 1];
      const wp = ws[l - 1];
      const wc = new Float32Array(pr * live.length);
      const nl = live.length;
      for (let i = 0; i < pr; i++) {
        const src = i * pc;
        const dst = i * nl;
        for (let c = 0; c < nl; c++) wc[dst + c] = wp[src + live[c]];
      }
      ws[l - 1] = wc;
      outs[l - 1] = live.length;
      const b = biases[l - 1];
      if (b) biases[l - 1] = Float32Array.from(live, (j) => b[j]);
      kept[l - 1] = Int32Array.from(live, (j) => kept[l - 1][j]);
    }
  }

  const featureUsed = new Uint8Array(ins[0]);
  let usedFeatures = 0;
  for (let i = 0; i < ins[0]; i++) {
    const w0 = ws[0];
    let any = false;
    for (let k = i * outs[0], e = k + outs[0]; k < e && !any; k++) any = w0[k] !== 0;
    if (any) {
      featureUsed[i] = 1;
      usedFeatures++;
    }
  }

  const thrDense = opts.sparseDensityDenseInput ?? SPARSE_WEIGHT_MAX_DENSITY_DENSE_INPUT;
  const thrCsr = opts.sparseDensitySparseInput ?? SPARSE_WEIGHT_MAX_DENSITY_SPARSE_INPUT;
  let positiveEdges = 0;
  for (let k = 0; k < numEdges; k++) if (ticket.graph.coef[k] > 0) positiveEdges++;
  let maxDegree = 0;
  for (let v = 0; v < n; v++) maxDegree = Math.max(maxDegree, ticket.graph.rowPtr[v + 1] - ticket.graph.rowPtr[v]);

  const layers: LayerPlan[] = ticket.layers.map((layer, l) => {
    const att = layer.kind === "gat" ? layer.attention! : null;
    const w = ws[l];
    const fin = ins[l];
    const fout = outs[l];
    const rowNnz = new Int32Array(fin);
    let nnz = 0;
    for (let i = 0; i < fin; i++) {
      let c = 0;
      for (let k = i * fout, e = k + fout; k < e; k++) if (w[k] !== 0) c++;
      rowNnz[i] = c;
      nnz += c;
    }
    const density = w.length === 0 ? 0 : nnz / w.length;
    const force = opts.weightKernel && opts.weightKernel !== "auto" ? opts.weightKernel : null;
    const order: Order = att
      ? "transform-first"
      : opts.order && opts.order !== "auto" ? opts.order : ins[l] < outs[l] ? "aggregate-first" : "transform-first";
    const source = force ? "forced" : "threshold";
    return {
      index: l,
      kind: layer.kind,
      inFeatures: ins[l],
      outFeatures: att ? layer.outFeatures : outs[l],
      weightCols: outs[l],
      weight: w,
      nnz,
      density,
      bias: biases[l],
      activation: layer.activation,
      relu: layer.activation === "relu",
      gat: att && {
        heads: att.heads, headFeatures: att.headFeatures, src: att.src, dst: att.dst, negativeSlope: att.negativeSlope, concat: att.concat,
      },
      order,
      kernelDense: force ?? (density <= thrDense ? "sparse" : "dense"),
      kernelCsr: force ?? (density <= thrCsr ? "sparse" : "dense"),
      keptUnits: kept[l],
      rowNnz,
      kernelSource: { dense: source, csr: source },
      measured: {},
      ticketMacs: att
        ? gatMacs(n, numEdges, weightNnz(layer.weight), att.heads, att.headFeatures)
        : numEdges * layer.inFeatures + n * weightNnz(layer.weight),
    };
  });
  return {
    numNodes: n, numEdges, positiveEdges, maxDegree, numClasses: ticket.numClasses, layers, featureUsed, usedFeatures, droppedUnits: dropped,
    denseInputMaxDensity: opts.denseInputMaxDensity ?? DENSE_INPUT_MAX_DENSITY_FOR_CSR,
    orderForced: !!opts.order && opts.order !== "auto",
    kernelForced: !!opts.weightKernel && opts.weightKernel !== "auto",
  };
}

/** What a step does: H·W, GAT attention scores, aggregation over the graph, or a separate activation pass (ELU after a GCN/GIN layer). */
export type StepOp = "transform" | "attention" | "aggregate" | "activation";

/** One executed step, for reports. */
export interface StepInfo {
  layer: number;
  op: StepOp;
  kernel: string;
  /** rows × inner → cols */
  shape: string;
  macs: number;
}

/** Kernel names as steps and profiles report them. */
export const STEP_KERNEL = {
  spgemm: "f32_spgemm_csr (X csr · W csr)",
  spmmX: "f32_spmm_csr (X csr · W dense)",
  spmmW: "f32_spmm_w_nm (H · W csr)",
  gemm: "f32_gemm (H · W dense)",
  aggregate: "f32_spmm_csr (Â · H)",
  gatScores: "f32_gat_scores (el, er)",
  gatAggregate: "f32_gat_aggregate (edge softmax · Z)",
  elu: "f32_bias_act (ELU)",
} as const;

/** MACs of GAT attention scores: el over rowsL rows and er over rowsR, one dot product of headFeatures per head each. */
export function gatScoreMacs(g: GatPlan, rowsL: number, rowsR: number): number {
  return (rowsL + rowsR) * g.heads * g.headFeatures;
}

/** MACs of GAT aggregation over `edges` kept edges: per head, the weighted row of headFeatures plus the coefficient. */
export function gatAggregateMacs(g: GatPlan, edges: number): number {
  return edges * g.heads * (g.headFeatures + 1);
}

/**
 * The steps and MACs a run executes for an input of the given kind. `inputNnzPerFeature` (CSR
 * inputs) gives, per input feature, how many stored entries the input has; it sets the MACs of
 * the sparse first layer.
 */
export function planSteps(plan: Plan, input: InputKind, inputNnzPerFeature?: ArrayLike<number>): StepInfo[] {
  const steps: StepInfo[] = [];
  const n = plan.numNodes;
  const e = plan.numEdges;
  plan.layers.forEach((lp, l) => {
    const fin = lp.inFeatures;
    const cols = lp.weightCols;
    const fout = lp.outFeatures;
    let transform: StepInfo;
    if (l === 0 && input === "csr") {
      let macs = 0;
      const counts = inputNnzPerFeature ?? new Array<number>(fin).fill(0);
      for (let i = 0; i < fin; i++) if (plan.featureUsed[i]) macs += counts[i] * (lp.kernelCsr === "sparse" ? lp.rowNnz[i] : cols);
      transform = { layer: l, op: "transform", kernel: lp.kernelCsr === "sparse" ? STEP_KERNEL.spgemm : STEP_KERNEL.spmmX, shape: `${n} × ${fin} → ${cols}`, macs };
    } else {
      transform = {
        layer: l, op: "transform", kernel: lp.kernelDense === "sparse" ? STEP_KERNEL.spmmW : STEP_KERNEL.gemm,
        shape: `${n} × ${fin} → ${cols}`, macs: lp.kernelDense === "sparse" ? n * lp.nnz : n * fin * cols,
      };
    }
    if (lp.gat) {
      const g = lp.gat;
      steps.push(
        transform,
        { layer: l, op: "attention", kernel: STEP_KERNEL.gatScores, shape: `${n} × ${g.heads}·${g.headFeatures} → ${g.heads} × 2`, macs: gatScoreMacs(g, n, n) },
        {
          layer: l, op: "aggregate", kernel: STEP_KERNEL.gatAggregate,
          shape: `${n} × ${n} (kept ${plan.positiveEdges}) × ${g.heads} heads → ${fout}`, macs: gatAggregateMacs(g, plan.positiveEdges),
        },
      );
      return;
    }
    const agg = (f: number): StepInfo => ({ layer: l, op: "aggregate", kernel: STEP_KERNEL.aggregate, shape: `${n} × ${n} (nnz ${e}) → ${f}`, macs: e * f });
    if (lp.order === "aggregate-first" && !(l === 0 && input === "csr")) steps.push(agg(fin), transform);
    else steps.push(transform, agg(fout));
    if (lp.activation === "elu") steps.push({ layer: l, op: "activation", kernel: STEP_KERNEL.elu, shape: `${n} × ${fout}`, macs: 0 });
  });
  return steps;
}
