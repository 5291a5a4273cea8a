/**
 * SparseKernels (kernel-api.ts) backed by the AssemblyScript SIMD kernels.
 *
 * Memory: each loadWasmKernels() owns one wasm instance. A CSR handle copies its structure and
 * values into the instance's heap once (setValues rewrites only the values). Dense operands are
 * staged through scratch regions that are reused across calls and only reallocated when a call
 * needs more than the last one, so repeated spmm/sddmm at a fixed size copy the operands in and
 * the result out and never allocate. Operands that already live in this instance's memory
 * (a view of `runtime.heap.memory.buffer`) are used in place, without a copy.
 */
import type { CsrHandle, SparseKernels } from "./kernel-api.js";
import { WasmRuntime, type KernelExports, type WasmVariant } from "./wasm-module.js";
import { GrowableRegion, type RegionAllocator } from "./heap.js";

/** What WasmSparseKernels runs on: a WasmRuntime, or the trainer's kernels on another module's memory (shared-heap-kernels.ts). */
export interface KernelHost {
  readonly exports: Pick<KernelExports, "f32_spmm_csr" | "f32_sddmm_csr" | "f32_spgemm_csr" | "f32_spgemm_dw_csr">;
  readonly heap: RegionAllocator;
  readonly variant: string;
}

export interface WasmKernelOptions {
  /** "release" (default) or "debug" (assertions on). */
  variant?: WasmVariant;
}

/** Checks a CSR structure before it reaches a kernel; throws a RangeError naming the problem. */
export function validateCsr(what: string, rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array | null, cols: number): void {
  const rows = rowPtr.length - 1;
  if (rows < 0) throw new RangeError(`${what}: rowPtr must have rows + 1 entries (got an empty array)`);
  if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`${what}: cols must be a non-negative integer (got ${cols})`);
  if (rowPtr[0] !== 0) throw new RangeError(`${what}: rowPtr[0] must be 0 (got ${rowPtr[0]})`);
  const nnz = rowPtr[rows];
  if (nnz !== colIdx.length) throw new RangeError(`${what}: rowPtr[rows] = ${nnz} but colIdx has ${colIdx.length} entries`);
  if (values && values.length !== nnz) throw new RangeError(`${what}: ${nnz} stored entries but ${values.length} values`);
  for (let i = 0; i < rows; i++) {
    if (rowPtr[i + 1] < rowPtr[i]) throw new RangeError(`${what}: rowPtr decreases at row ${i} (${rowPtr[i]} → ${rowPtr[i + 1]})`);
  }
  for (let k = 0; k < nnz; k++) {
    const j = colIdx[k];
    if (!(j >= 0 && j < cols)) throw new RangeError(`${what}: colIdx[${k}] = ${j} is outside [0, ${cols})`);
  }
}

class WasmCsr implements CsrHandle {
  readonly rowPtrPtr: number;
  readonly colIdxPtr: number;
  readonly valuesPtr: number;
  readonly nnz: number;
  private live = true;

  constructor(
    private readonly rt: KernelHost,
    rowPtr: Int32Array,
    colIdx: Int32Array,
    values: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    this.rowPtrPtr = rt.heap.allocI32(rowPtr);
    this.colIdxPtr = rt.heap.allocI32(colIdx);
    this.valuesPtr = rt.heap.allocF32(values);
    this.nnz = colIdx.length;
  }


  setValues(values: Float32Array): void {
    this.check();
    const nnz = this.nnz;
    if (values.length !== nnz) throw new Error(`setValues: expected ${nnz} values, got ${values.length}`);
    this.rt.heap.f32(this.valuesPtr, nnz).set(values);
  }

  free(): void {
    if (!this.live) return;
    this.live = false;
    this.rt.heap.free(this.rowPtrPtr);
    this.rt.heap.free(this.colIdxPtr);
    this.rt.heap.free(this.valuesPtr);
  }

  check(): void {
    if (!this.live) throw new Error("CSR handle used after free()");
  }
}

export class WasmSparseKernels<H extends KernelHost = WasmRuntime> implements SparseKernels {
  readonly name: string;
  private readonly scratch: GrowableRegion[];

  constructor(readonly runtime: H, name?: string) {
    this.name = name ?? (runtime.variant === "debug" ? "wasm-simd-debug" : "wasm-simd");
    this.scratch = [new GrowableRegion(runtime.heap), new GrowableRegion(runtime.heap), new GrowableRegion(runtime.heap)];
  }

  csr(rowPtr: Int32Array, colIdx: Int32Array, values: Float32Array, cols: number): CsrHandle {
    validateCsr("csr", rowPtr, colIdx, values, cols);
    return new WasmCsr(this.runtime, rowPtr, colIdx, values, rowPtr.length - 1, cols);
  }

  spmm(a: CsrHandle, b: Float32Array, f: number, out: Float32Array): void {
    const m = this.handle(a);
    checkDim("spmm", f);
    need("spmm: b", b, m.cols * f);
    need("spmm: out", out, m.rows * f);
    const [bPtr, outPtr] = this.stage([b, m.cols * f], [out, m.rows * f]);
    this.runtime.exports.f32_spmm_csr(m.rows, f, m.cols, m.rowPtrPtr, m.colIdxPtr, m.valuesPtr, bPtr, 0, 0, outPtr);
    this.readBack(outPtr, out, m.rows * f);
  }

  sddmm(a: CsrHandle, x: Float32Array, y: Float32Array, f: number, out: Float32Array): void {
    const m = this.handle(a);
    checkDim("sddmm", f);
    need("sddmm: x", x, m.rows * f);
    need("sddmm: y", y, m.cols * f);
    need("sddmm: out", out, m.nnz);
    const [xPtr, yPtr, outPtr] = this.stage([x, m.rows * f], [y, m.cols * f], [out, m.nnz]);
    this.runtime.exports.f32_sddmm_csr(m.rows, f, m.cols, m.rowPtrPtr, m.colIdxPtr, xPtr, yPtr, outPtr);
    this.readBack(outPtr, out, m.nnz);
  }

  spgemm(x: CsrHandle, w: CsrHandle, out: Float32Array): void {
    const a = this.handle(x);
    const b = this.handle(w);
    if (a.cols !== b.rows) throw new RangeError(`spgemm: X has ${a.cols} columns but W ${b.rows} rows`);
    need("spgemm: out", out, a.rows * b.cols);
    const [outPtr] = this.stage([out, a.rows * b.cols]);
    this.runtime.exports.f32_spgemm_csr(a.rows, a.cols, b.cols, a.rowPtrPtr, a.colIdxPtr, a.valuesPtr, b.rowPtrPtr, b.colIdxPtr, b.valuesPtr, 0, 0, outPtr);
    this.readBack(outPtr, out, a.rows * b.cols);
  }

  spgemmGradW(x: CsrHandle, w: CsrHandle, dy: Float32Array, out: Float32Array): void {
    const a = this.handle(x);
    const b = this.handle(w);
    if (a.cols !== b.rows) throw new RangeError(`spgemmGradW: X has ${a.cols} columns but W ${b.rows} rows`);
    need("spgemmGradW: dy", dy, a.rows * b.cols);
    need("spgemmGradW: out", out, b.nnz);
    const [dyPtr, outPtr] = this.stage([dy, a.rows * b.cols], [out, b.nnz]);
    this.runtime.exports.f32_spgemm_dw_csr(a.rows, a.cols, b.cols, a.rowPtrPtr, a.colIdxPtr, a.valuesPtr, b.rowPtrPtr, b.colIdxPtr, dyPtr, outPtr);
    this.readBack(outPtr, out, b.nnz);
  }

  private handle(a: CsrHandle): WasmCsr {
    if (!(a instanceof WasmCsr)) throw new TypeError(`${this.name}: the CSR handle was not created by this kernel set`);
    a.check();
    return a;
  }

  private inMemory(arr: Float32Array): boolean {
    return arr.buffer === this.runtime.heap.memory.buffer;
  }

  /**
   * Pointers for the operands (the last one is the output): in place for arrays that live in this
   * instance's memory (their offsets are taken before any allocation, which may grow memory),
   * else a scratch slot, which inputs are copied into.
   */
  private stage(...ops: [Float32Array, number][]): number[] {
    const inPlace = ops.map(([arr]) => this.inMemory(arr));
    const ptrs = ops.map(([arr], s) => (inPlace[s] ? arr.byteOffset : 0));
    for (let s = 0; s < ops.length; s++) if (!inPlace[s]) ptrs[s] = this.scratch[s === ops.length - 1 ? 2 : s].get(ops[s][1] * 4);
    for (let s = 0; s < ops.length - 1; s++) {
      const [arr, len] = ops[s];
      if (!inPlace[s]) this.runtime.heap.f32(ptrs[s], len).set(len === arr.length ? arr : arr.subarray(0, len));
    }
    this.outInPlace = inPlace[ops.length - 1];
    return ptrs;
  }

  private outInPlace = false;

  private readBack(ptr: number, out: Float32Array, len: number): void {
    if (this.outInPlace) return;
    out.set(this.runtime.heap.f32(ptr, len));
  }
}

function checkDim(what: string, f: number): void {
  if (!Number.isInteger(f) || f < 0) throw new RangeError(`${what}: f must be a non-negative integer (got ${f})`);
}

function need(what: string, arr: Float32Array, len: number): void {
  if (arr.length < len) throw new RangeError(`${what} has ${arr.length} floats, needs ${len}`);
}

/** SparseKernels on a fresh wasm instance (synchronous compile of the embedded module, cached). */
export function loadWasmKernels(opts: WasmKernelOptions = {}): WasmSparseKernels {
  return new WasmSparseKernels(WasmRuntime.create(opts.variant ?? "release"));
}

/** Same, compiling asynchronously (browsers' main thread). */
export async function loadWasmKernelsAsync(opts: WasmKernelOptions = {}): Promise<WasmSparseKernels> {
  return new WasmSparseKernels(await WasmRuntime.createAsync(opts.variant ?? "release"));
}
