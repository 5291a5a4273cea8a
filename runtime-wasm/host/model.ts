/**
 * A GCN model on the wasm kernels, built from a Ticket: plan once (plan.ts), lay out every
 * buffer once in the instance's heap, run many times.
 *
 * Layer l computes H ← act(Â·(H·W) + b) (or (Â·H)·W + b when that is cheaper). Two activation
 * buffers serve all layers: A holds each layer's input and output (the input is dead once the
 * intermediate exists), B the intermediate (H·W or Â·H). Bias and ReLU are fused into whichever
 * kernel runs last in the layer.
 */
import type { CsrMatrix, DenseMatrix } from "../../ticket/csr.js";
import type { Ticket, TicketMeta } from "../../ticket/ticket.js";
import { WasmRuntime, type WasmVariant } from "./wasm-module.js";
import { GrowableRegion } from "./heap.js";
import { validateCsr } from "./wasm-kernels.js";
import { makePlan, planSteps, type InputKind, type LayerPlan, type Plan, type PlanOptions, type StepInfo } from "./plan.js";
import type { FeatureInput } from "./reference.js";

export type { FeatureInput } from "./reference.js";

export interface ModelOptions extends PlanOptions {
  /** wasm build: "release" (default) or "debug" (kernel assertions on) */
  variant?: WasmVariant;
}

export interface RunOptions {
  /** node features (numNodes × numFeatures): CSR, dense, or row-major Float32Array; default: the ticket's own */
  features?: FeatureInput;
  /** where to write the logits (numNodes × numClasses floats); default: a new array */
  out?: Float32Array;
}

/** A Ticket that cannot be run: what is wrong and where. */
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
}

export class GltModel {
  readonly numNodes: number;
  readonly numClasses: number;
  readonly numFeatures: number;
  readonly meta: TicketMeta;
  readonly plan: Plan;

  private readonly graph: CsrPtrs;
  private readonly layerBufs: LayerBuffers[];
  private readonly ownFeatures: CsrPtrs | null;
  private readonly bufA: GrowableRegion;
  private readonly bufB: GrowableRegion;
  private readonly scratch: GrowableRegion;
  private readonly input: [GrowableRegion, GrowableRegion, GrowableRegion];
  /** u8 per input feature, 1 if read (0 pointer: all are read) */
  private readonly featureMask: number;
  private disposed = false;

  constructor(
    ticket: Ticket,
    private readonly rt: WasmRuntime,
    opts: PlanOptions = {},
  ) {
    checkTicket(ticket);
    this.numNodes = ticket.graph.numNodes;
    this.numClasses = ticket.numClasses;
    this.numFeatures = ticket.layers[0].inFeatures;
    this.meta = ticket.meta;
    this.plan = makePlan(ticket, opts);
    const heap = rt.heap;
    const g = ticket.graph;
    this.graph = { rowPtr: heap.allocI32(g.rowPtr), colIdx: heap.allocI32(g.colIdx), values: heap.allocF32(g.coef), nnz: g.colIdx.length };
    this.layerBufs = this.plan.layers.map((lp) => ({ bias: lp.bias ? heap.allocF32(lp.bias) : 0, packed: 0, wt: null, wcsr: null, wdense: 0 }));
    this.ownFeatures = ticket.features ? this.uploadCsr(filterFeatures(ticket.features, this.plan), null) : null;
    this.bufA = new GrowableRegion(heap);
    this.bufB = new GrowableRegion(heap);
    this.scratch = new GrowableRegion(heap);
    this.input = [new GrowableRegion(heap), new GrowableRegion(heap), new GrowableRegion(heap)];
    this.featureMask = 0;
    if (this.plan.usedFeatures < this.numFeatures) {
      this.featureMask = heap.alloc(this.numFeatures);
      new Uint8Array(heap.memory.buffer, this.featureMask, this.numFeatures).set(this.plan.featureUsed);
    }
    // lay out everything the default input kind needs now, so run() allocates nothing
    this.prepare(this.ownFeatures ? "csr" : "dense");
  }

  /** The steps (kernel, shape, MACs) a run executes for the ticket's own features, or for a dense input. */
  steps(input: InputKind = this.ownFeatures ? "csr" : "dense"): StepInfo[] {
    const counts = new Int32Array(this.numFeatures);
    if (input === "csr" && this.ownFeatures) {
      const col = this.rt.heap.i32(this.ownFeatures.colIdx, this.ownFeatures.nnz);
      for (let k = 0; k < col.length; k++) counts[col[k]]++;
    }
    return planSteps(this.plan, input, counts);
  }

  /** Bytes of wasm linear memory this model's instance holds. */
  get memoryBytes(): number {
    return this.rt.heap.memoryBytes;
  }

  /** Logits, numNodes × numClasses, row-major. */
  run(opts: RunOptions = {}): Float32Array {
    if (this.disposed) throw new ModelError("run() after dispose()");
    const n = this.numNodes;
    const f0 = this.numFeatures;
    const x = opts.features;
    let kind: InputKind;
    let csr: CsrPtrs | null = null;
    if (x === undefined) {
      if (!this.ownFeatures) throw new ModelError("run(): the ticket carries no features; pass { features } (CSR, dense, or a Float32Array of numNodes × numFeatures)");
      kind = "csr";
      csr = this.ownFeatures;
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
    const out = opts.out ?? new Float32Array(n * this.numClasses);
    if (out.length < n * this.numClasses) throw new ModelError(`run(): out has ${out.length} floats, needs ${n * this.numClasses}`);
    this.forward(kind, csr);
    out.set(this.rt.heap.f32(this.bufA.get(0), n * this.numClasses));
    return out;
  }

  /**
   * Copies a dense input into buffer A; if it is sparse enough (plan.denseInputMaxDensity), the
   * wasm converts it to CSR in the input regions and the run takes the sparse-input path.
   */
  private stageDense(data: Float32Array): { kind: InputKind; csr: CsrPtrs | null } {
    const n = this.numNodes;
    const f0 = this.numFeatures;
    const heap = this.rt.heap;
    const a = this.bufA.get(n * f0 * 4);
    heap.f32(a, n * f0).set(data);
    const limit = Math.floor(this.plan.denseInputMaxDensity * n * f0);
    if (limit > 0) {
      // the input regions are other regions than A: allocating them keeps A's contents
      const rowPtr = this.input[0].get((n + 1) * 4);
      const colIdx = this.input[1].get(limit * 4);
      const values = this.input[2].get(limit * 4);
      const nnz = this.rt.exports.f32_csr_from_dense(n, f0, a, limit, this.featureMask, rowPtr, colIdx, values);
      if (nnz >= 0) {
        this.prepare("csr");
        return { kind: "csr", csr: { rowPtr, colIdx, values, nnz } };
      }
    }
    this.prepare("dense"); // A already holds n × f0 floats, so this does not move it
    return { kind: "dense", csr: null };
  }

  /** Marks the model unusable. Its wasm instance and memory belong to it alone and are reclaimed by GC once the model is unreferenced. */
  dispose(): void {
    this.disposed = true;
  }

  private forward(kind: InputKind, x: CsrPtrs | null): void {
    const ex = this.rt.exports;
    const n = this.numNodes;
    const g = this.graph;
    const a = this.bufA.get(0);
    const b = this.bufB.get(0);
    const scratch = this.scratch.get(0);
    this.plan.layers.forEach((lp, l) => {
      const lb = this.layerBufs[l];
      const relu = lp.relu ? 1 : 0;
      const fin = lp.inFeatures;
      const fout = lp.outFeatures;
      const aggregate = (src: number, f: number, bias: number, rl: number, dst: number) =>
        ex.f32_spmm_csr(n, f, n, g.rowPtr, g.colIdx, g.values, src, bias, rl, dst);
      if (l === 0 && kind === "csr") {
        const xs = x as CsrPtrs;
        if (lp.kernelCsr === "sparse") {
          const w = lb.wcsr as CsrPtrs;
          ex.f32_spgemm_csr(n, fin, fout, xs.rowPtr, xs.colIdx, xs.values, w.rowPtr, w.colIdx, w.values, 0, 0, b);
        } else {
          ex.f32_spmm_csr(n, fout, fin, xs.rowPtr, xs.colIdx, xs.values, lb.wdense, 0, 0, b);
        }
        aggregate(b, fout, lb.bias, relu, a);
        return;
      }
      const transform = (src: number, bias: number, rl: number, dst: number) => {
        if (lp.kernelDense === "sparse") {
          const w = lb.wt as CsrPtrs;
          ex.f32_spmm_w_nm(n, fin, fout, src, w.rowPtr, w.colIdx, w.values, bias, rl, dst, scratch);
        } else {
          ex.f32_gemm(n, fout, fin, src, fin, lb.packed, bias, rl, dst, fout);
        }
      };
      if (lp.order === "aggregate-first") {
        aggregate(a, fin, 0, 0, b);
        transform(b, lb.bias, relu, a);
      } else {
        transform(a, 0, 0, b);
        aggregate(b, fout, lb.bias, relu, a);
      }
    });
  }

  /** Makes the weight forms and buffers an input of this kind needs (idempotent). */
  private prepare(kind: InputKind): void {
    const heap = this.rt.heap;
    const ex = this.rt.exports;
    const n = this.numNodes;
    let maxA = this.numClasses;
    let maxB = 0;
    let scratchBytes = 0;
    this.plan.layers.forEach((lp, l) => {
      const lb = this.layerBufs[l];
      const csrInput = l === 0 && kind === "csr";
      maxA = Math.max(maxA, lp.outFeatures, csrInput ? 0 : lp.inFeatures);
      maxB = Math.max(maxB, !csrInput && lp.order === "aggregate-first" ? lp.inFeatures : lp.outFeatures);
      if (csrInput) {
        if (lp.kernelCsr === "sparse" && !lb.wcsr) lb.wcsr = this.uploadCsr(denseToCsrArrays(lp.weight, lp.inFeatures, lp.outFeatures), null);
        if (lp.kernelCsr === "dense" && !lb.wdense) lb.wdense = heap.allocF32(lp.weight);
      } else if (lp.kernelDense === "sparse") {
        if (!lb.wt) lb.wt = this.uploadCsr(denseToCsrArrays(lp.weight, lp.inFeatures, lp.outFeatures, true), null);
        scratchBytes = Math.max(scratchBytes, ex.f32_spmm_w_nm_scratch(lp.inFeatures, lp.outFeatures));
      } else if (!lb.packed) {
        const tmp = heap.allocF32(lp.weight);
        lb.packed = heap.alloc(ex.f32_gemm_packed_size(lp.inFeatures, lp.outFeatures) * 4);
        ex.f32_gemm_pack_b(lp.inFeatures, lp.outFeatures, tmp, lp.outFeatures, lb.packed);
        heap.free(tmp);
      }
    });
    this.bufA.get(n * maxA * 4);
    this.bufB.get(n * maxB * 4);
    this.scratch.get(scratchBytes);
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

interface CsrArrays {
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

function isDense(x: FeatureInput): x is DenseMatrix {
  return !(x instanceof Float32Array) && "data" in x && x.data instanceof Float32Array;
}

function isCsr(x: FeatureInput): x is CsrMatrix {
  return !(x instanceof Float32Array) && "rowPtr" in x && x.rowPtr instanceof Int32Array && x.colIdx instanceof Int32Array && x.values instanceof Float32Array;
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
  const at = (r: number, c: number) => (transpose ? w[c * cols + r] : w[r * cols + c]);
  const rowPtr = new Int32Array(R + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = at(r, c);
      if (v !== 0) {
        colIdx.push(c);
        values.push(v);
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

/** Structural checks on an in-memory Ticket: everything a kernel indexes must be in range. */
export function checkTicket(t: Ticket): void {
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
  if (t.layers.length === 0) fail("layers", "there are none");
  t.layers.forEach((l, i) => {
    const where = `layer ${i}`;
    if (l.kind !== "gcn") fail(where, `kind "${l.kind}" is not supported by this runtime (gcn only)`);
    if (l.activation !== "relu" && l.activation !== "none") fail(where, `unknown activation "${l.activation}"`);
    if (i > 0 && l.inFeatures !== t.layers[i - 1].outFeatures) fail(where, `inFeatures ${l.inFeatures} ≠ previous outFeatures ${t.layers[i - 1].outFeatures}`);
    const w = l.weight;
    if (w.rows !== l.inFeatures || w.cols !== l.outFeatures) fail(where, `weight is ${w.rows} × ${w.cols}, expected ${l.inFeatures} × ${l.outFeatures}`);
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
}

/** Builds a runnable model from an in-memory Ticket (synchronous wasm compile, cached). */
export function createModel(ticket: Ticket, opts: ModelOptions = {}): GltModel {
  return new GltModel(ticket, WasmRuntime.create(opts.variant ?? "release"), opts);
}

/** Same, compiling the wasm asynchronously (browsers' main thread). */
export async function createModelAsync(ticket: Ticket, opts: ModelOptions = {}): Promise<GltModel> {
  return new GltModel(ticket, await WasmRuntime.createAsync(opts.variant ?? "release"), opts);
}
