/**
 * A GCN, GIN or GAT model on the wasm kernels, built from a Ticket: plan once (plan.ts), time the
 * weight kernels on a warm-up, lay out every buffer once in the instance's heap (one arena), run
 * many times: the full graph (run) or the receptive field of a set of nodes (predict, query.ts).
 *
 * A GCN/GIN layer computes H ← act(Â·(H·W) + b) (or (Â·H)·W + b when that is cheaper). Two
 * activation buffers serve all layers: A holds each layer's input and output (the input is dead
 * once the intermediate exists), B the intermediate (H·W or Â·H). Bias and ReLU are fused into
 * whichever kernel runs last in the layer; ELU is a pass of its own. A GAT layer puts Z = H·W in
 * B, its attention scores el, er in a third region, and the fused softmax-aggregation kernel
 * writes act(heads + b) to A. A node query runs the same kernels, in the same order, on a
 * renumbered sub-CSR whose row prefixes are the hop sets, with fewer rows per layer.
 */
import type { CsrMatrix, DenseMatrix } from "../../ticket/csr.js";
import type { Ticket, TicketMeta } from "../../ticket/ticket.js";
import { WasmRuntime, type WasmVariant } from "./wasm-module.js";
import { GrowableRegion } from "./heap.js";
import { validateCsr } from "./wasm-kernels.js";
import {
  gatAggregateMacs, gatScoreMacs, makePlan, planSteps, STEP_KERNEL,
  type InputKind, type KernelTiming, type Order, type Plan, type PlanOptions, type StepInfo, type StepOp, type WeightKernel,
} from "./plan.js";
import { ACT_CODE } from "./reference-kernels.js";
import { ReceptiveField } from "./query.js";
import { DEFAULT_MAX_MEMORY_BYTES, memoryProblem, rangeProblem } from "./limits.js";
import type { FeatureInput } from "./reference.js";

export type { FeatureInput } from "./reference.js";

export interface ModelOptions extends PlanOptions {
  /** wasm build: "release" (default) or "debug" (kernel assertions on) */
  variant?: WasmVariant;
  /**
   * Time the sparse and the dense weight kernel of every layer on a warm-up at load and keep the
   * faster (default true). false: the density thresholds of plan.ts decide (deterministic).
   */
  measure?: boolean;
  /** refuse tickets that would need more memory than this (bytes, default 2 GiB) */
  maxMemoryBytes?: number;
}

export interface RunOptions {
  /** node features (numNodes × numFeatures): CSR, dense, or row-major Float32Array; default: the ticket's own */
  features?: FeatureInput;
  /** where to write the logits (numNodes × numClasses floats); default: a new array */
  out?: Float32Array;
  /** time every kernel and count the MACs it executes; the result is in `model.lastProfile` */
  profile?: boolean;
}

export interface PredictOptions {
  /**
   * New feature rows for the queried nodes, one per entry of nodeIds, in the same order
   * (nodeIds.length × numFeatures: CSR, dense, or row-major Float32Array). They replace those
   * nodes' stored features for this call; every other node of the receptive field keeps its own.
   */
  features?: FeatureInput;
  /** where to write the logits (nodeIds.length × numClasses floats); default: a new array */
  out?: Float32Array;
  /** as in RunOptions */
  profile?: boolean;
}

/** One executed kernel call. */
export interface StepProfile {
  layer: number;
  op: StepOp;
  kernel: string;
  /** output rows × inner dimension → output columns */
  rows: number;
  inner: number;
  cols: number;
  /** multiply-adds the kernel actually executed */
  macs: number;
  ms: number;
}

export interface LayerProfile {
  layer: number;
  /** rows computed (numNodes for a full run, the hop set for a query) */
  rows: number;
  ms: number;
  /** MACs this run executed in the layer (sparse inputs, dropped units, receptive field) */
  executedMacs: number;
  /** MACs of the layer in the ticket's accounting (full graph, algorithms.md §5) */
  ticketMacs: number;
  steps: StepProfile[];
}

export interface Profile {
  /** nodes queried (null: full graph) */
  nodes: number | null;
  /** input kind the run took */
  input: InputKind;
  /** wall time of the whole call, staging and read-back included */
  ms: number;
  /** Σ of the kernels' time */
  kernelMs: number;
  executedMacs: number;
  /** Σ layers' ticketMacs (the formula of meta.macsTicket) */
  ticketMacs: number;
  /** the dense model's MACs, from the ticket's meta */
  denseMacs: number;
  layers: LayerProfile[];
  logits: Float32Array;
}

/** A Ticket that cannot be run, or a bad call: what is wrong and where. */
export class ModelError extends Error {
  override name = "ModelError";
}

interface CsrPtrs {
  rowPtr: number;
  colIdx: number;
  values: number;
  nnz: number;
}

/** A layer's weights in the forms its kernels need, made on first use. */
interface LayerBuffers {
  bias: number;
  packed: number; // f32_gemm packed B
  wt: CsrPtrs | null; // Wᵀ CSR (out × in) for f32_spmm_w_nm
  wcsr: CsrPtrs | null; // W CSR (in × out) for f32_spgemm_csr
  wdense: number; // W row-major for f32_spmm_csr(X, W)
  attSrc: number; // GAT attention vectors, heads × headFeatures
  attDst: number;
}

type Form = "packed" | "wt" | "wcsr" | "wdense";

/** What one forward pass computes: which graph rows per layer, from which input. */
interface Exec {
  kind: InputKind;
  /** CSR input features (rowsIn[0] rows), or null when A holds a dense input */
  x: CsrPtrs | null;
  graph: CsrPtrs;
  rowsIn: number[];
  rowsOut: number[];
  /** in-edges of the first rowsOut[l] rows */
  edges: number[];
  orders: Order[];
}

interface CsrArrays {
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

export class GltModel {
  readonly numNodes: number;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly meta: TicketMeta;
  readonly plan: Plan;
  /** the profile of the last run/predict called with { profile: true } */
  lastProfile: Profile | null = null;

  private readonly graph: CsrPtrs;
  private readonly layerBufs: LayerBuffers[];
  private readonly ownFeatures: CsrPtrs | null;
  /** the stored features, filtered to the features some weight reads (node queries gather from them) */
  private readonly ownRows: CsrArrays | null;
  private readonly hostGraph: { rowPtr: Int32Array; colIdx: Int32Array; coef: Float32Array };
  private readonly field: ReceptiveField;
  private readonly bufA: GrowableRegion;
  private readonly bufB: GrowableRegion;
  private readonly scratch: GrowableRegion;
  /** GAT attention scores of the current layer: el (rowsIn × heads), then er (rowsOut × heads) */
  private readonly scores: GrowableRegion;
  private readonly input: [GrowableRegion, GrowableRegion, GrowableRegion];
  private readonly sub: [GrowableRegion, GrowableRegion, GrowableRegion];
  /** u8 per input feature, 1 if read (0 pointer: all are read) */
  private readonly featureMask: number;
  private readonly fullExec: (kind: InputKind, x: CsrPtrs | null) => Exec;
  private firstPos = new Int32Array(16);
  private disposed = false;

  constructor(
    ticket: Ticket,
    private readonly rt: WasmRuntime,
    opts: ModelOptions = {},
  ) {
    checkTicket(ticket, opts);
    this.numNodes = ticket.graph.numNodes;
    this.numClasses = ticket.numClasses;
    this.numFeatures = ticket.layers[0].inFeatures;
    this.meta = ticket.meta;
    this.plan = makePlan(ticket, opts);
    const heap = rt.heap;
    const g = ticket.graph;
    const n = this.numNodes;
    try {
      this.hostGraph = { rowPtr: g.rowPtr, colIdx: g.colIdx, coef: g.coef };
      this.graph = { rowPtr: heap.allocI32(g.rowPtr), colIdx: heap.allocI32(g.colIdx), values: heap.allocF32(g.coef), nnz: g.colIdx.length };
      this.layerBufs = this.plan.layers.map((lp) => ({
        bias: lp.bias ? heap.allocF32(lp.bias) : 0, packed: 0, wt: null, wcsr: null, wdense: 0,
        attSrc: lp.gat ? heap.allocF32(lp.gat.src) : 0,
        attDst: lp.gat ? heap.allocF32(lp.gat.dst) : 0,
      }));
      this.ownRows = ticket.features ? filterFeatures(ticket.features, this.plan) : null;
      this.ownFeatures = this.ownRows ? this.uploadCsr(this.ownRows, null) : null;
      this.bufA = new GrowableRegion(heap);
      this.bufB = new GrowableRegion(heap);
      this.scratch = new GrowableRegion(heap);
      this.scores = new GrowableRegion(heap);
      this.input = [new GrowableRegion(heap), new GrowableRegion(heap), new GrowableRegion(heap)];
      this.sub = [new GrowableRegion(heap), new GrowableRegion(heap), new GrowableRegion(heap)];
      this.featureMask = 0;
      if (this.plan.usedFeatures < this.numFeatures) {
        this.featureMask = heap.alloc(this.numFeatures);
        new Uint8Array(heap.memory.buffer, this.featureMask, this.numFeatures).set(this.plan.featureUsed);
      }
      this.field = new ReceptiveField({ numNodes: n, rowPtr: g.rowPtr, colIdx: g.colIdx }, this.plan.layers.length);
      const L = this.plan.layers.length;
      const fullRows = new Array<number>(L).fill(n);
      const fullEdges = new Array<number>(L).fill(this.graph.nnz);
      const fullOrders = this.plan.layers.map((lp) => lp.order);
      this.fullExec = (kind, x) => ({ kind, x, graph: this.graph, rowsIn: fullRows, rowsOut: fullRows, edges: fullEdges, orders: fullOrders });
      if (opts.measure !== false && !this.plan.kernelForced) this.measureKernels();
      // lay out everything the default input kind needs now, so run() allocates nothing
      this.prepare(this.ownFeatures ? "csr" : "dense");
    } catch (e) {
      if (e instanceof RangeError) throw new ModelError(`ticket: ${e.message}`);
      throw e;
    }
  }

  /** The steps (kernel, shape, MACs) a run executes for the ticket's own features, or for a dense input. */
  steps(input: InputKind = this.ownFeatures ? "csr" : "dense"): StepInfo[] {
    const counts = new Int32Array(this.numFeatures);
    if (input === "csr" && this.ownRows) {
      const col = this.ownRows.colIdx;
      for (let k = 0; k < col.length; k++) counts[col[k]]++;
    }
    return planSteps(this.plan, input, counts);
  }

  /** Whether the ticket carries node features (run() and predict() without { features } use them). */
  get hasFeatures(): boolean {
    return this.ownFeatures !== null;
  }

  /** Bytes of wasm linear memory this model's instance holds. */
  get memoryBytes(): number {
    return this.rt.heap.memoryBytes;
  }

  /** Logits, numNodes × numClasses, row-major. */
  run(opts: RunOptions = {}): Float32Array {
    const t0 = performance.now();
    this.checkLive("run");
    const n = this.numNodes;
    const f0 = this.numFeatures;
    const x = opts.features;
    const out = opts.out ?? new Float32Array(n * this.numClasses);
    if (out.length < n * this.numClasses) throw new ModelError(`run(): out has ${out.length} floats, needs ${n * this.numClasses}`);
    let kind: InputKind;
    let csr: CsrPtrs | null = null;
    if (x === undefined) {
      if (!this.ownFeatures) throw new ModelError("run(): the ticket carries no features; pass { features } (CSR, dense, or a Float32Array of numNodes × numFeatures)");
      kind = "csr";
      csr = this.ownFeatures;
      this.prepare(kind);
    } else if (x instanceof Float32Array || isDense(x)) {
      const data = x instanceof Float32Array ? x : x.data;
      if (!(x instanceof Float32Array) && (x.rows !== n || x.cols !== f0)) throw new ModelError(`run(): features are ${x.rows} × ${x.cols}, the model needs ${n} × ${f0}`);
      if (data.length !== n * f0) throw new ModelError(`run(): features have ${data.length} floats, the model needs ${n} × ${f0} = ${n * f0}`);
      ({ kind, csr } = this.stageDense(data));
    } else if (isCsr(x)) {
      if (x.rows !== n || x.cols !== f0) throw new ModelError(`run(): features are ${x.rows} × ${x.cols}, the model needs ${n} × ${f0}`);
      try {
        validateCsr("run(): features", x.rowPtr, x.colIdx, x.values, x.cols);
      } catch (e) {
        throw new ModelError((e as Error).message);
      }
      kind = "csr";
      this.prepare(kind);
      csr = this.uploadCsr(filterFeatures(x, this.plan), this.input);
    } else {
      throw new ModelError("run(): features must be a CsrMatrix, a DenseMatrix or a Float32Array");
    }
    const exec = this.fullExec(kind, csr);
    const prof = opts.profile ? new Profiler() : null;
    this.forward(exec, prof);
    out.set(this.rt.heap.f32(this.bufA.get(0), n * this.numClasses));
    if (prof) this.lastProfile = this.finishProfile(prof, exec, null, out, t0);
    return out;
  }

  /**
   * Logits of the given nodes (nodeIds.length × numClasses, in the order given; duplicates
   * allowed), computed over their receptive field only: k in-edge hops for k layers. Equal to the
   * corresponding rows of run() (the same kernels sum every row in the same order).
   */
  predict(nodeIds: Int32Array | readonly number[], opts: PredictOptions = {}): Float32Array {
    const t0 = performance.now();
    this.checkLive("predict");
    const n = this.numNodes;
    const C = this.numClasses;
    const L = this.plan.layers.length;
    if (!(nodeIds instanceof Int32Array) && !Array.isArray(nodeIds)) throw new ModelError("predict(): nodeIds must be an Int32Array or an array of node ids");
    const q = nodeIds.length;
    for (let p = 0; p < q; p++) {
      const v = nodeIds[p];
      if (!(Number.isInteger(v) && v >= 0 && v < n)) throw new ModelError(`predict(): node id ${String(v)} (entry ${p}) is not in [0, ${n})`);
    }
    const out = opts.out ?? new Float32Array(q * C);
    if (out.length < q * C) throw new ModelError(`predict(): out has ${out.length} floats, needs ${q} × ${C} = ${q * C}`);
    const repl = opts.features === undefined ? null : this.replacementRows(opts.features, q);
    const prof = opts.profile ? new Profiler() : null;
    if (q === 0) {
      if (prof) this.lastProfile = this.finishProfile(prof, { ...this.fullExec("csr", null), rowsIn: new Array(L).fill(0), rowsOut: new Array(L).fill(0), edges: new Array(L).fill(0) }, 0, out, t0);
      return out;
    }
    const field = this.field;
    field.build(nodeIds);
    try {
      const b = field.bounds;
      const heap = this.rt.heap;
      const ex = this.rt.exports;
      if (!repl && this.ownFeatures && b[L] === n) {
        // the field is the whole graph: run it as is, no renumbering
        this.prepare("csr");
        const exec = this.fullExec("csr", this.ownFeatures);
        this.forward(exec, prof);
        const a = this.bufA.get(0);
        const all = heap.f32(a, n * C);
        for (let p = 0; p < q; p++) out.set(all.subarray(nodeIds[p] * C, nodeIds[p] * C + C), p * C);
        if (prof) this.lastProfile = this.finishProfile(prof, exec, q, out, t0);
        return out;
      }

      // which row supplies each field node's features: a replacement row (queried nodes) or its own
      const uq = b[0];
      const firstPos = this.firstPosFor(uq);
      if (repl) {
        firstPos.fill(-1, 0, uq);
        for (let p = 0; p < q; p++) {
          const i = field.localOf(nodeIds[p]);
          if (firstPos[i] < 0) firstPos[i] = p;
          else if (!sameRow(repl, firstPos[i], p)) {
            throw new ModelError(`predict(): node ${nodeIds[p]} appears more than once (entries ${firstPos[i]} and ${p}) with different feature rows`);
          }
        }
      }
      const rowsX = b[L];
      if (!this.ownRows) {
        if (!repl) throw new ModelError("predict(): the ticket carries no features; pass { features } with one row per queried node");
        if (rowsX > uq) {
          throw new ModelError(
            `predict(): the ticket carries no features, and the receptive field of the query has ${rowsX - uq} node(s) besides the queried ones ` +
              `(e.g. node ${field.order[uq]}) whose features are unknown; use run({ features }) with features for every node`,
          );
        }
      }
      const own = this.ownRows;
      let nnzX = 0;
      for (let i = 0; i < rowsX; i++) {
        if (repl && i < uq) nnzX += repl.rowPtr[firstPos[i] + 1] - repl.rowPtr[firstPos[i]];
        else {
          const v = field.order[i];
          nnzX += own!.rowPtr[v + 1] - own!.rowPtr[v];
        }
      }
      // the stored features take the sparse-input path, as in run(); replaced rows may make the input dense enough for the dense one
      const kind: InputKind = !repl || nnzX <= this.plan.denseInputMaxDensity * rowsX * this.numFeatures ? "csr" : "dense";
      const subRows = b[L - 1];
      const subNnz = field.edgesOfPrefix(subRows);
      const rowsIn: number[] = [];
      const rowsOut: number[] = [];
      for (let l = 0; l < L; l++) {
        rowsOut.push(b[L - 1 - l]);
        rowsIn.push(b[L - l]);
      }

      // allocate everything before taking any view (an allocation may grow memory)
      this.ensureForms(kind);
      const sp = [this.sub[0].get((subRows + 1) * 4), this.sub[1].get(subNnz * 4), this.sub[2].get(subNnz * 4)];
      const xp = [this.input[0].get((rowsX + 1) * 4), this.input[1].get(nnzX * 4), this.input[2].get(nnzX * 4)];
      const subRowPtr = heap.i32(sp[0], subRows + 1);
      field.writeSubCsr(subRows, this.hostGraph.coef, subRowPtr, heap.i32(sp[1], subNnz), heap.f32(sp[2], subNnz));
      const edges = rowsOut.map((r) => subRowPtr[r]);
      // the plan's order, as in run(): every row is then summed in the same order by the same
      // kernel, so a query's logits are bitwise those of the full run (a per-query order by cost
      // would save little: the receptive field is small either way)
      const orders = this.plan.layers.map((lp) => lp.order);
      const exec: Exec = {
        kind, x: null, graph: { rowPtr: sp[0], colIdx: sp[1], values: sp[2], nnz: subNnz },
        rowsIn, rowsOut, edges, orders,
      };
      this.reserve([exec]);
      // gather the input rows (may not grow memory from here on)
      const xRowPtr = heap.i32(xp[0], rowsX + 1);
      const xCol = heap.i32(xp[1], nnzX);
      const xVal = heap.f32(xp[2], nnzX);
      let k = 0;
      xRowPtr[0] = 0;
      for (let i = 0; i < rowsX; i++) {
        let src: CsrArrays;
        let r: number;
        if (repl && i < uq) {
          src = repl;
          r = firstPos[i];
        } else {
          src = own!;
          r = field.order[i];
        }
        const sc = src.colIdx;
        const sv = src.values;
        for (let q = src.rowPtr[r], e = src.rowPtr[r + 1]; q < e; q++, k++) {
          xCol[k] = sc[q];
          xVal[k] = sv[q];
        }
        xRowPtr[i + 1] = k;
      }
      if (kind === "csr") {
        exec.x = { rowPtr: xp[0], colIdx: xp[1], values: xp[2], nnz: nnzX };
      } else {
        const f0 = this.numFeatures;
        const a = this.bufA.get(0);
        ex.f32_zero(a, rowsX * f0);
        const dense = heap.f32(a, rowsX * f0);
        for (let i = 0; i < rowsX; i++) for (let kk = xRowPtr[i]; kk < xRowPtr[i + 1]; kk++) dense[i * f0 + xCol[kk]] = xVal[kk];
      }
      this.forward(exec, prof);
      const res = heap.f32(this.bufA.get(0), uq * C);
      for (let p = 0; p < q; p++) {
        const i = field.localOf(nodeIds[p]);
        out.set(res.subarray(i * C, i * C + C), p * C);
      }
      if (prof) this.lastProfile = this.finishProfile(prof, exec, q, out, t0);
      return out;
    } finally {
      field.clear();
    }
  }

  /**
   * Runs once with every kernel timed and its MACs counted: the full graph, or a node query when
   * `nodes` is given. Also sets `lastProfile`.
   */
  profile(opts: { features?: FeatureInput; nodes?: Int32Array | readonly number[] } = {}): Profile {
    if (opts.nodes !== undefined) this.predict(opts.nodes, { features: opts.features, profile: true });
    else this.run({ features: opts.features, profile: true });
    return this.lastProfile!;
  }

  /** Marks the model unusable. Its wasm instance and memory belong to it alone and are reclaimed by GC once the model is unreferenced. */
  dispose(): void {
    this.disposed = true;
  }

  private checkLive(what: string): void {
    if (this.disposed) throw new ModelError(`${what}() after dispose()`);
  }

  /**
   * Copies a dense input into buffer A; if it is sparse enough (plan.denseInputMaxDensity), the
   * wasm converts it to CSR in the input regions and the run takes the sparse-input path.
   */
  private stageDense(data: Float32Array): { kind: InputKind; csr: CsrPtrs | null } {
    const n = this.numNodes;
    const f0 = this.numFeatures;
    const heap = this.rt.heap;
    // size A and B for either outcome first, so nothing moves A once the input is in it (weight
    // forms made afterwards are new regions: they may grow memory but never move A)
    this.reserve([this.fullExec("dense", null), this.fullExec("csr", null)]);
    const limit = Math.floor(this.plan.denseInputMaxDensity * n * f0);
    const rowPtr = limit > 0 ? this.input[0].get((n + 1) * 4) : 0;
    const colIdx = limit > 0 ? this.input[1].get(limit * 4) : 0;
    const values = limit > 0 ? this.input[2].get(limit * 4) : 0;
    const a = this.bufA.get(0);
    heap.f32(a, n * f0).set(data);
    if (limit > 0) {
      const nnz = this.rt.exports.f32_csr_from_dense(n, f0, a, limit, this.featureMask, rowPtr, colIdx, values);
      if (nnz >= 0) {
        this.ensureForms("csr");
        return { kind: "csr", csr: { rowPtr, colIdx, values, nnz } };
      }
    }
    this.ensureForms("dense");
    return { kind: "dense", csr: null };
  }

  private forward(e: Exec, prof: Profiler | null): void {
    const ex = this.rt.exports;
    const heap = this.rt.heap;
    const g = e.graph;
    const a = this.bufA.get(0);
    const b = this.bufB.get(0);
    const scratch = this.scratch.get(0);
    const layers = this.plan.layers;
    for (let l = 0; l < layers.length; l++) {
      const lp = layers[l];
      const lb = this.layerBufs[l];
      const relu = lp.relu ? 1 : 0;
      const fin = lp.inFeatures;
      const cols = lp.weightCols;
      const fout = lp.outFeatures;
      const rin = e.rowsIn[l];
      const rout = e.rowsOut[l];
      const csrInput = l === 0 && e.kind === "csr";
      const aggregate = (src: number, f: number, bias: number, rl: number, dst: number): void => {
        const t = prof ? performance.now() : 0;
        ex.f32_spmm_csr(rout, f, rin, g.rowPtr, g.colIdx, g.values, src, bias, rl, dst);
        if (prof) prof.step(l, "aggregate", STEP_KERNEL.aggregate, rout, rin, f, e.edges[l] * f, t);
      };
      // Y (rows × cols) = H · W into dst, from CSR input features (layer 0) or dense activations at src
      const transform = (rows: number, src: number, bias: number, rl: number, dst: number): void => {
        const t = prof ? performance.now() : 0;
        if (csrInput) {
          const xs = e.x as CsrPtrs;
          const sparse = lp.kernelCsr === "sparse";
          if (sparse) {
            const w = lb.wcsr as CsrPtrs;
            ex.f32_spgemm_csr(rows, fin, cols, xs.rowPtr, xs.colIdx, xs.values, w.rowPtr, w.colIdx, w.values, bias, rl, dst);
          } else {
            ex.f32_spmm_csr(rows, cols, fin, xs.rowPtr, xs.colIdx, xs.values, lb.wdense, bias, rl, dst);
          }
          if (prof) {
            const nnzX = heap.i32(xs.rowPtr, rows + 1)[rows];
            let macs = nnzX * cols;
            if (sparse) {
              macs = 0;
              const col = heap.i32(xs.colIdx, nnzX);
              for (let k = 0; k < nnzX; k++) macs += lp.rowNnz[col[k]];
            }
            prof.step(l, "transform", sparse ? STEP_KERNEL.spgemm : STEP_KERNEL.spmmX, rows, fin, cols, macs, t);
          }
          return;
        }
        const sparse = lp.kernelDense === "sparse";
        if (sparse) {
          const w = lb.wt as CsrPtrs;
          ex.f32_spmm_w_nm(rows, fin, cols, src, w.rowPtr, w.colIdx, w.values, bias, rl, dst, scratch);
        } else {
          ex.f32_gemm(rows, cols, fin, src, fin, lb.packed, bias, rl, dst, cols);
        }
        if (prof) prof.step(l, "transform", sparse ? STEP_KERNEL.spmmW : STEP_KERNEL.gemm, rows, fin, cols, sparse ? rows * lp.nnz : rows * fin * cols, t);
      };

      if (lp.gat) {
        const att = lp.gat;
        const heads = att.heads;
        const hf = att.headFeatures;
        transform(rin, a, 0, 0, b);
        const el = this.scores.get(0);
        const er = el + rin * heads * 4;
        let t = prof ? performance.now() : 0;
        ex.f32_gat_scores(rin, rout, heads, hf, b, lb.attSrc, lb.attDst, el, er);
        if (prof) prof.step(l, "attention", STEP_KERNEL.gatScores, rin, cols, heads, gatScoreMacs(att, rin, rout), t);
        t = prof ? performance.now() : 0;
        ex.f32_gat_aggregate(
          rout, heads, hf, rin, g.rowPtr, g.colIdx, g.values, b, el, er, att.negativeSlope, att.concat ? 1 : 0,
          lb.bias, ACT_CODE[lp.activation], a, scratch, this.plan.maxDegree,
        );
        if (prof) prof.step(l, "aggregate", STEP_KERNEL.gatAggregate, rout, rin, fout, gatAggregateMacs(att, this.positiveEdgesOf(g, rout)), t);
        continue;
      }
      if (csrInput || e.orders[l] === "transform-first") {
        transform(rin, a, 0, 0, b);
        aggregate(b, fout, lb.bias, relu, a);
      } else {
        aggregate(a, fin, 0, 0, b);
        transform(rout, b, lb.bias, relu, a);
      }
      if (lp.activation === "elu") {
        const t = prof ? performance.now() : 0;
        ex.f32_bias_act(rout, fout, a, 0, ACT_CODE.elu);
        if (prof) prof.step(l, "activation", STEP_KERNEL.elu, rout, fout, fout, 0, t);
      }
    }
  }

  /** Edges with a coefficient > 0 among the first `rows` rows of a graph in the heap (profiles only). */
  private positiveEdgesOf(g: CsrPtrs, rows: number): number {
    if (g === this.graph && rows === this.numNodes) return this.plan.positiveEdges;
    const heap = this.rt.heap;
    const end = heap.i32(g.rowPtr, rows + 1)[rows];
    const v = heap.f32(g.values, end);
    let n = 0;
    for (let k = 0; k < end; k++) if (v[k] > 0) n++;
    return n;
  }

  private finishProfile(prof: Profiler, e: Exec, nodes: number | null, logits: Float32Array, t0: number): Profile {
    const layers: LayerProfile[] = this.plan.layers.map((lp, l) => {
      const steps = prof.steps.filter((s) => s.layer === l);
      return {
        layer: l,
        rows: e.rowsOut[l],
        ms: steps.reduce((s, x) => s + x.ms, 0),
        executedMacs: steps.reduce((s, x) => s + x.macs, 0),
        ticketMacs: lp.ticketMacs,
        steps,
      };
    });
    return {
      nodes,
      input: e.kind,
      ms: performance.now() - t0,
      kernelMs: layers.reduce((s, x) => s + x.ms, 0),
      executedMacs: layers.reduce((s, x) => s + x.executedMacs, 0),
      ticketMacs: layers.reduce((s, x) => s + x.ticketMacs, 0),
      denseMacs: this.meta.macsDense,
      layers,
      logits,
    };
  }

  /** Checks and converts per-query feature rows to filtered CSR arrays (rows = q). */
  private replacementRows(x: FeatureInput, q: number): CsrArrays {
    const f0 = this.numFeatures;
    if (x instanceof Float32Array || isDense(x)) {
      const data = x instanceof Float32Array ? x : x.data;
      if (!(x instanceof Float32Array) && (x.rows !== q || x.cols !== f0)) throw new ModelError(`predict(): features are ${x.rows} × ${x.cols}, expected one row per queried node: ${q} × ${f0}`);
      if (data.length !== q * f0) throw new ModelError(`predict(): features have ${data.length} floats, expected one row of ${f0} per queried node: ${q} × ${f0} = ${q * f0}`);
      const used = this.plan.featureUsed;
      let nnz = 0;
      for (let i = 0; i < data.length; i++) if (data[i] !== 0 && used[i % f0]) nnz++;
      const rowPtr = new Int32Array(q + 1);
      const colIdx = new Int32Array(nnz);
      const values = new Float32Array(nnz);
      let k = 0;
      for (let r = 0; r < q; r++) {
        for (let c = 0; c < f0; c++) {
          const v = data[r * f0 + c];
          if (v !== 0 && used[c]) {
            colIdx[k] = c;
            values[k++] = v;
          }
        }
        rowPtr[r + 1] = k;
      }
      return { rowPtr, colIdx, values };
    }
    if (isCsr(x)) {
      if (x.rows !== q || x.cols !== f0) throw new ModelError(`predict(): features are ${x.rows} × ${x.cols}, expected one row per queried node: ${q} × ${f0}`);
      try {
        validateCsr("predict(): features", x.rowPtr, x.colIdx, x.values, x.cols);
      } catch (e) {
        throw new ModelError((e as Error).message);
      }
      return filterFeatures(x, this.plan);
    }
    throw new ModelError("predict(): features must be a CsrMatrix, a DenseMatrix or a Float32Array");
  }

  private firstPosFor(len: number): Int32Array {
    if (this.firstPos.length < len) this.firstPos = new Int32Array(Math.max(len, this.firstPos.length * 2));
    return this.firstPos;
  }

  /** The weight form layer l's kernel needs for an input of `kind`. */
  private formFor(kind: InputKind, l: number): Form {
    const lp = this.plan.layers[l];
    if (l === 0 && kind === "csr") return lp.kernelCsr === "sparse" ? "wcsr" : "wdense";
    return lp.kernelDense === "sparse" ? "wt" : "packed";
  }

  private ensureForm(l: number, form: Form): void {
    const heap = this.rt.heap;
    const ex = this.rt.exports;
    const lp = this.plan.layers[l];
    const lb = this.layerBufs[l];
    const cols = lp.weightCols;
    if (form === "wcsr" && !lb.wcsr) lb.wcsr = this.uploadCsr(denseToCsrArrays(lp.weight, lp.inFeatures, cols), null);
    else if (form === "wdense" && !lb.wdense) lb.wdense = heap.allocF32(lp.weight);
    else if (form === "wt" && !lb.wt) lb.wt = this.uploadCsr(denseToCsrArrays(lp.weight, lp.inFeatures, cols, true), null);
    else if (form === "packed" && !lb.packed) {
      const tmp = heap.allocF32(lp.weight);
      lb.packed = heap.alloc(ex.f32_gemm_packed_size(lp.inFeatures, cols) * 4);
      ex.f32_gemm_pack_b(lp.inFeatures, cols, tmp, cols, lb.packed);
      heap.free(tmp);
    }
  }

  private freeForm(l: number, form: Form): void {
    const heap = this.rt.heap;
    const lb = this.layerBufs[l];
    const freeCsr = (c: CsrPtrs | null) => {
      if (!c) return;
      heap.free(c.rowPtr);
      heap.free(c.colIdx);
      heap.free(c.values);
    };
    if (form === "wcsr") {
      freeCsr(lb.wcsr);
      lb.wcsr = null;
    } else if (form === "wt") {
      freeCsr(lb.wt);
      lb.wt = null;
    } else if (form === "wdense") {
      heap.free(lb.wdense);
      lb.wdense = 0;
    } else {
      heap.free(lb.packed);
      lb.packed = 0;
    }
  }

  private ensureForms(kind: InputKind): void {
    this.plan.layers.forEach((_, l) => this.ensureForm(l, this.formFor(kind, l)));
  }

  /** Sizes A, B, the scores and the kernel scratch for the given passes (grow-only: the largest pass so far wins). */
  private reserve(execs: Exec[]): void {
    const ex = this.rt.exports;
    let maxA = 0;
    let maxB = 0;
    let scoreBytes = 0;
    let scratchBytes = 0;
    for (const e of execs) {
      const L = this.plan.layers.length;
      maxA = Math.max(maxA, e.rowsOut[L - 1] * this.numClasses);
      this.plan.layers.forEach((lp, l) => {
        const csrInput = l === 0 && e.kind === "csr";
        const rin = e.rowsIn[l];
        const rout = e.rowsOut[l];
        maxA = Math.max(maxA, rout * lp.outFeatures, csrInput ? 0 : rin * lp.inFeatures);
        maxB = Math.max(maxB, !csrInput && e.orders[l] === "aggregate-first" ? rout * lp.inFeatures : rin * lp.weightCols);
        if (!csrInput && lp.kernelDense === "sparse") scratchBytes = Math.max(scratchBytes, ex.f32_spmm_w_nm_scratch(lp.inFeatures, lp.weightCols));
        if (lp.gat) {
          scoreBytes = Math.max(scoreBytes, (rin + rout) * lp.gat.heads * 4);
          scratchBytes = Math.max(scratchBytes, ex.f32_gat_aggregate_scratch(this.plan.maxDegree, lp.gat.heads));
        }
      });
    }
    this.bufA.get(maxA * 4);
    this.bufB.get(maxB * 4);
    this.scores.get(scoreBytes);
    this.scratch.get(scratchBytes);
  }

  /** Makes the weight forms and buffers a full-graph input of this kind needs (idempotent). */
  private prepare(kind: InputKind): void {
    this.ensureForms(kind);
    this.reserve([this.fullExec(kind, null)]);
  }

  /**
   * The warm-up: per layer and input kind (layer 0: the ticket's sparse features and a dense
   * input; later layers: dense activations), runs the sparse and the dense weight kernel on the
   * same rows (enough for ~2 M MACs of dense work, at least 64, at most numNodes), several
   * batches each, interleaved, and keeps the faster by the best batch. Weight forms that lose are
   * freed again.
   */
  private measureKernels(): void {
    const heap = this.rt.heap;
    const ex = this.rt.exports;
    const n = this.numNodes;
    if (n === 0) return;
    const BUDGET = 2e6;
    this.plan.layers.forEach((lp, l) => {
      const fin = lp.inFeatures;
      const fout = lp.weightCols;
      if (fin === 0 || fout === 0) return;
      const lb = this.layerBufs[l];
      // dense activations: f32_spmm_w_nm vs f32_gemm
      {
        const rows = Math.min(n, Math.max(64, Math.floor(BUDGET / (fin * fout))));
        this.ensureForm(l, "wt");
        this.ensureForm(l, "packed");
        const scratchBytes = ex.f32_spmm_w_nm_scratch(fin, fout);
        this.bufA.get(rows * fin * 4);
        this.bufB.get(rows * fout * 4);
        this.scratch.get(scratchBytes);
        const a = this.bufA.get(0);
        const b = this.bufB.get(0);
        const s = this.scratch.get(0);
        const h = heap.f32(a, rows * fin);
        let seed = 12345;
        for (let i = 0; i < h.length; i++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          h[i] = (seed >>> 8) / 8388608 - 1;
        }
        const wt = lb.wt as CsrPtrs;
        const timing = timeBoth(
          () => ex.f32_spmm_w_nm(rows, fin, fout, a, wt.rowPtr, wt.colIdx, wt.values, 0, 0, b, s),
          () => ex.f32_gemm(rows, fout, fin, a, fin, lb.packed, 0, 0, b, fout),
          rows,
        );
        lp.measured.dense = timing;
        lp.kernelDense = pick(timing);
        lp.kernelSource.dense = "measured";
        this.freeForm(l, lp.kernelDense === "sparse" ? "packed" : "wt");
      }
      // sparse features (layer 0, on the ticket's own): f32_spgemm_csr vs f32_spmm_csr
      if (l === 0 && this.ownRows && this.ownFeatures) {
        const rp = this.ownRows.rowPtr;
        const perRow = Math.max(1, rp[n] / n) * fout;
        const rows = Math.min(n, Math.max(64, Math.floor(BUDGET / perRow)));
        if (rp[rows] > 0) {
          this.ensureForm(l, "wcsr");
          this.ensureForm(l, "wdense");
          this.bufB.get(rows * fout * 4);
          const b = this.bufB.get(0);
          const x = this.ownFeatures;
          const w = lb.wcsr as CsrPtrs;
          const timing = timeBoth(
            () => ex.f32_spgemm_csr(rows, fin, fout, x.rowPtr, x.colIdx, x.values, w.rowPtr, w.colIdx, w.values, 0, 0, b),
            () => ex.f32_spmm_csr(rows, fout, fin, x.rowPtr, x.colIdx, x.values, lb.wdense, 0, 0, b),
            rows,
          );
          lp.measured.csr = timing;
          lp.kernelCsr = pick(timing);
          lp.kernelSource.csr = "measured";
          this.freeForm(l, lp.kernelCsr === "sparse" ? "wdense" : "wcsr");
        }
        // the ticket's own features take the sparse path: a dense input's form is made when one comes
        this.freeForm(l, lp.kernelDense === "sparse" ? "wt" : "packed");
      }
    });
  }

  /** Copies a CSR matrix into the heap: into fresh regions, or into the given reusable ones. */
  private uploadCsr(m: CsrArrays, regions: [GrowableRegion, GrowableRegion, GrowableRegion] | null): CsrPtrs {
    const heap = this.rt.heap;
    const nnz = m.colIdx.length;
    let rowPtr: number, colIdx: number, values: number;
    if (regions) {
      // allocate all three before writing: an allocation may grow memory
      rowPtr = regions[0].get(m.rowPtr.length * 4);
      colIdx = regions[1].get(nnz * 4);
      values = regions[2].get(nnz * 4);
      heap.i32(rowPtr, m.rowPtr.length).set(m.rowPtr);
      heap.i32(colIdx, nnz).set(m.colIdx);
      heap.f32(values, nnz).set(m.values);
    } else {
      rowPtr = heap.allocI32(m.rowPtr);
      colIdx = heap.allocI32(m.colIdx);
      values = heap.allocF32(m.values);
    }
    return { rowPtr, colIdx, values, nnz };
  }
}

/** Collects the steps of one profiled pass. */
class Profiler {
  readonly steps: StepProfile[] = [];
  step(layer: number, op: StepOp, kernel: string, rows: number, inner: number, cols: number, macs: number, t0: number): void {
    this.steps.push({ layer, op, kernel, rows, inner, cols, macs, ms: performance.now() - t0 });
  }
}

/** ms per call of each, best of several interleaved batches of ≥ ~0.25 ms (so coarse timers still resolve them). */
function timeBoth(sparse: () => void, dense: () => void, rows: number): KernelTiming {
  const fns = [sparse, dense];
  const reps = fns.map((fn) => {
    fn(); // warm
    let r = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < r; i++) fn();
      const dt = performance.now() - t0;
      if (dt >= 0.25 || r >= 1 << 14) return r;
      r *= dt > 0.025 ? Math.ceil(0.3 / dt) : 8;
    }
  });
  const best = [Infinity, Infinity];
  for (let round = 0; round < 3; round++) {
    for (let f = 0; f < 2; f++) {
      const t0 = performance.now();
      for (let i = 0; i < reps[f]; i++) fns[f]();
      best[f] = Math.min(best[f], (performance.now() - t0) / reps[f]);
    }
  }
  return { rows, sparseMs: best[0], denseMs: best[1] };
}

function pick(t: KernelTiming): WeightKernel {
  return t.sparseMs < t.denseMs ? "sparse" : "dense";
}

function sameRow(m: CsrArrays, a: number, b: number): boolean {
  const a0 = m.rowPtr[a];
  const b0 = m.rowPtr[b];
  const len = m.rowPtr[a + 1] - a0;
  if (m.rowPtr[b + 1] - b0 !== len) return false;
  for (let k = 0; k < len; k++) if (m.colIdx[a0 + k] !== m.colIdx[b0 + k] || m.values[a0 + k] !== m.values[b0 + k]) return false;
  return true;
}

function isDense(x: FeatureInput): x is DenseMatrix {
  return !(x instanceof Float32Array) && typeof x === "object" && x !== null && "data" in x && x.data instanceof Float32Array;
}

function isCsr(x: FeatureInput): x is CsrMatrix {
  return (
    !(x instanceof Float32Array) && typeof x === "object" && x !== null && "rowPtr" in x &&
    x.rowPtr instanceof Int32Array && x.colIdx instanceof Int32Array && x.values instanceof Float32Array
  );
}

/** Drops the stored entries of input features no weight reads (they would multiply zeros). */
function filterFeatures(x: CsrMatrix, plan: Plan): CsrArrays {
  if (plan.usedFeatures === x.cols) return x;
  const used = plan.featureUsed;
  const rowPtr = new Int32Array(x.rows + 1);
  let nnz = 0;
  for (let k = 0; k < x.colIdx.length; k++) if (used[x.colIdx[k]]) nnz++;
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let q = 0;
  for (let r = 0; r < x.rows; r++) {
    for (let k = x.rowPtr[r]; k < x.rowPtr[r + 1]; k++) {
      if (used[x.colIdx[k]]) {
        colIdx[q] = x.colIdx[k];
        values[q++] = x.values[k];
      }
    }
    rowPtr[r + 1] = q;
  }
  return { rowPtr, colIdx, values };
}

/** CSR of a dense rows × cols matrix (or of its transpose), dropping zeros. */
function denseToCsrArrays(w: Float32Array, rows: number, cols: number, transpose = false): CsrArrays {
  const R = transpose ? cols : rows;
  const C = transpose ? rows : cols;
  // element (r, c) of the result is w[r * rs + c * cs]
  const rs = transpose ? 1 : cols;
  const cs = transpose ? cols : 1;
  let nnz = 0;
  for (let k = 0; k < w.length; k++) if (w[k] !== 0) nnz++;
  const rowPtr = new Int32Array(R + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let q = 0;
  for (let r = 0; r < R; r++) {
    for (let c = 0, k = r * rs; c < C; c++, k += cs) {
      const v = w[k];
      if (v !== 0) {
        colIdx[q] = c;
        values[q++] = v;
      }
    }
    rowPtr[r + 1] = q;
  }
  return { rowPtr, colIdx, values };
}

/**
 * Checks on an in-memory Ticket before anything is allocated: structure (everything a kernel
 * indexes must be in range), memory (limits.ts: absurd sizes are refused) and value range (no
 * intermediate can overflow f32 on the ticket's own features).
 */
export function checkTicket(t: Ticket, opts: { maxMemoryBytes?: number } = {}): void {
  const fail = (where: string, what: string): never => {
    throw new ModelError(`ticket ${where}: ${what}`);
  };
  const g = t.graph;
  if (!g || !Number.isInteger(g.numNodes) || g.numNodes < 0) fail("graph", `numNodes must be a non-negative integer`);
  if (g.rowPtr.length !== g.numNodes + 1) fail("graph", `rowPtr has ${g.rowPtr.length} entries, expected numNodes + 1 = ${g.numNodes + 1}`);
  if (g.coef.length !== g.colIdx.length) fail("graph", `${g.colIdx.length} edges but ${g.coef.length} coefficients`);
  try {
    validateCsr("graph", g.rowPtr, g.colIdx, g.coef, g.numNodes);
  } catch (e) {
    fail("graph", (e as Error).message);
  }
  if (!Array.isArray(t.layers) || t.layers.length === 0) fail("layers", "there are none");
  const isGat = t.layers[0].kind === "gat";
  t.layers.forEach((l, i) => {
    const where = `layer ${i}`;
    if (l.kind !== "gcn" && l.kind !== "gin" && l.kind !== "gat") fail(where, `unknown kind "${l.kind}" (this runtime runs gcn, gin and gat)`);
    if ((l.kind === "gat") !== isGat) {
      fail(where, `is ${l.kind} but layer 0 is ${t.layers[0].kind}: a ticket's layers are all gat or all gcn/gin (the graph coefficients mean different things)`);
    }
    if (l.activation !== "relu" && l.activation !== "elu" && l.activation !== "none") fail(where, `unknown activation "${l.activation}" (relu, elu or none)`);
    if (!(Number.isInteger(l.inFeatures) && l.inFeatures >= 1 && Number.isInteger(l.outFeatures) && l.outFeatures >= 1)) {
      fail(where, `inFeatures ${l.inFeatures} and outFeatures ${l.outFeatures} must be positive integers`);
    }
    if (i > 0 && l.inFeatures !== t.layers[i - 1].outFeatures) fail(where, `inFeatures ${l.inFeatures} ≠ previous outFeatures ${t.layers[i - 1].outFeatures}`);
    let cols = l.outFeatures;
    let colsRule = "outFeatures";
    if (l.kind === "gat") {
      const a = l.attention;
      if (!a) fail(where, "is gat but has no attention (heads, headFeatures, src, dst, negativeSlope, concat)");
      const { heads, headFeatures: hf } = a!;
      if (!(Number.isInteger(heads) && heads >= 1 && Number.isInteger(hf) && hf >= 1)) fail(where, `attention heads ${heads} and headFeatures ${hf} must be positive integers`);
      const width = heads * hf;
      const expected = a!.concat ? width : hf;
      if (l.outFeatures !== expected) {
        fail(where, `outFeatures is ${l.outFeatures}, expected ${a!.concat ? `heads × headFeatures = ${heads} × ${hf} (concat)` : `headFeatures (heads averaged)`} = ${expected}`);
      }
      for (const side of ["src", "dst"] as const) {
        const v = a![side];
        if (!(v instanceof Float32Array) || v.length !== width) fail(where, `attention ${side} has ${v?.length} values, expected heads × headFeatures = ${width}`);
        for (let k = 0; k < width; k++) if (!Number.isFinite(v[k])) fail(where, `attention ${side}[${k}] is ${v[k]} (must be finite)`);
      }
      if (!Number.isFinite(a!.negativeSlope)) fail(where, `attention negativeSlope ${a!.negativeSlope} is not finite`);
      cols = width;
      colsRule = "heads × headFeatures";
    } else if (l.attention) {
      fail(where, `is ${l.kind} but carries attention (only gat layers have it)`);
    }
    const w = l.weight;
    if (w.rows !== l.inFeatures || w.cols !== cols) fail(where, `weight is ${w.rows} × ${w.cols}, expected inFeatures × ${colsRule} = ${l.inFeatures} × ${cols}`);
    if (w.format === "dense") {
      if (w.data.length !== w.rows * w.cols) fail(where, `dense weight has ${w.data.length} values, expected ${w.rows * w.cols}`);
    } else {
      if (w.rowPtr.length !== w.rows + 1) fail(where, `weight rowPtr has ${w.rowPtr.length} entries, expected ${w.rows + 1}`);
      try {
        validateCsr(`${where} weight`, w.rowPtr, w.colIdx, w.values, w.cols);
      } catch (e) {
        fail(where, (e as Error).message);
      }
    }
    if (l.bias && l.bias.length !== l.outFeatures) fail(where, `bias has ${l.bias.length} values, expected ${l.outFeatures}`);
  });
  if (isGat) {
    for (let k = 0; k < g.coef.length; k++) {
      if (!(g.coef[k] >= 0)) fail("graph", `coef[${k}] = ${g.coef[k]}: a gat ticket's edge coefficients are edge-mask values, ≥ 0`);
    }
  }
  const last = t.layers[t.layers.length - 1];
  if (last.outFeatures !== t.numClasses) fail("layers", `the last layer has ${last.outFeatures} outputs but numClasses is ${t.numClasses}`);
  if (t.features) {
    const x = t.features;
    if (x.rows !== g.numNodes || x.cols !== t.layers[0].inFeatures) fail("features", `are ${x.rows} × ${x.cols}, expected ${g.numNodes} × ${t.layers[0].inFeatures}`);
    if (x.rowPtr.length !== x.rows + 1) fail("features", `rowPtr has ${x.rowPtr.length} entries, expected ${x.rows + 1}`);
    try {
      validateCsr("features", x.rowPtr, x.colIdx, x.values, x.cols);
    } catch (e) {
      fail("features", (e as Error).message);
    }
  }
  const memory = memoryProblem(t, opts.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES);
  if (memory) fail("size", memory);
  const range = rangeProblem(t);
  if (range) fail("values", range);
}

/** Builds a runnable model from an in-memory Ticket (synchronous wasm compile, cached). */
export function createModel(ticket: Ticket, opts: ModelOptions = {}): GltModel {
  return new GltModel(ticket, WasmRuntime.create(opts.variant ?? "release"), opts);
}

/** Same, compiling the wasm asynchronously (browsers' main thread). */
export async function createModelAsync(ticket: Ticket, opts: ModelOptions = {}): Promise<GltModel> {
  return new GltModel(ticket, await WasmRuntime.createAsync(opts.variant ?? "release"), opts);
}
