/**
 * Loads the AssemblyScript kernel module from the bytes embedded at build time
 * (runtime-wasm/build/wasm-bytes.ts), so nothing here needs `fs`: it runs in Node, browsers and
 * serverless alike. Compiled modules are cached per variant; every WasmRuntime is its own
 * instance with its own linear memory and heap.
 */
import { releaseWasmBase64, debugWasmBase64 } from "../build/wasm-bytes.js";
import { WasmHeap } from "./heap.js";

/** "release": SIMD, -O3, no assertions. "debug": assertions on (bad indices abort with a message). */
export type WasmVariant = "release" | "debug";

type Ptr = number;

/** The raw exports of runtime-wasm/assembly/index.ts; pointers are byte offsets into `memory`. */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): Ptr;
  f32_spmm_csr(rows: number, f: number, bRows: number, rowPtr: Ptr, colIdx: Ptr, values: Ptr, b: Ptr, bias: Ptr, relu: number, out: Ptr): void;
  f32_sddmm_csr(rows: number, f: number, yRows: number, rowPtr: Ptr, colIdx: Ptr, x: Ptr, y: Ptr, out: Ptr): void;
  f32_spmm_w_nm(n: number, fin: number, fout: number, h: Ptr, wtRowPtr: Ptr, wtColIdx: Ptr, wtValues: Ptr, bias: Ptr, relu: number, out: Ptr, scratch: Ptr): void;
  f32_spmm_w_nm_scratch(fin: number, fout: number): number;
  f32_spmm_w_fm(n: number, fin: number, fout: number, ht: Ptr, wtRowPtr: Ptr, wtColIdx: Ptr, wtValues: Ptr, bias: Ptr, relu: number, yt: Ptr): void;
  f32_spmm_w_axpy(n: number, fin: number, fout: number, h: Ptr, wRowPtr: Ptr, wColIdx: Ptr, wValues: Ptr, bias: Ptr, relu: number, out: Ptr): void;
  f32_spgemm_csr(rows: number, fin: number, fout: number, xRowPtr: Ptr, xColIdx: Ptr, xValues: Ptr, wRowPtr: Ptr, wColIdx: Ptr, wValues: Ptr, bias: Ptr, relu: number, out: Ptr): void;
  f32_spgemm_dw_csr(rows: number, fin: number, fout: number, xRowPtr: Ptr, xColIdx: Ptr, xValues: Ptr, wRowPtr: Ptr, wColIdx: Ptr, dy: Ptr, dw: Ptr): void;
  f32_gemm(m: number, n: number, k: number, a: Ptr, lda: number, packed: Ptr, bias: Ptr, relu: number, c: Ptr, ldc: number): void;
  f32_gemm_pack_b(k: number, n: number, b: Ptr, ldb: number, packed: Ptr): void;
  f32_gemm_packed_size(k: number, n: number): number;
  /** act: 0 none, 1 ReLU, 2 ELU */
  f32_bias_act(rows: number, f: number, x: Ptr, bias: Ptr, act: number): void;
  f32_gat_scores(rowsL: number, rowsR: number, heads: number, f: number, z: Ptr, aSrc: Ptr, aDst: Ptr, el: Ptr, er: Ptr): void;
  f32_gat_aggregate(
    rows: number, heads: number, f: number, zRows: number, rowPtr: Ptr, colIdx: Ptr, coef: Ptr,
    z: Ptr, el: Ptr, er: Ptr, negativeSlope: number, concat: number, bias: Ptr, act: number, out: Ptr, scratch: Ptr, maxDegree: number,
  ): void;
  f32_gat_aggregate_scratch(maxDegree: number, heads: number): number;
  f32_zero(dst: Ptr, count: number): void;
  f32_copy(dst: Ptr, src: Ptr, count: number): void;
  f32_transpose(rows: number, cols: number, src: Ptr, dst: Ptr): void;
  f32_csr_from_dense(rows: number, cols: number, src: Ptr, maxNnz: number, used: Ptr, rowPtr: Ptr, colIdx: Ptr, values: Ptr): number;
}

const modules = new Map<WasmVariant, WebAssembly.Module>();

export function wasmBytes(variant: WasmVariant = "release"): Uint8Array<ArrayBuffer> {
  return decodeBase64(variant === "debug" ? debugWasmBase64 : releaseWasmBase64);
}

/** The compiled module (synchronous compile, cached). Fine in Node and workers; browsers may refuse large sync compiles on the main thread: use compileKernelModule there. */
export function kernelModule(variant: WasmVariant = "release"): WebAssembly.Module {
  let m = modules.get(variant);
  if (!m) {
    m = new WebAssembly.Module(wasmBytes(variant));
    modules.set(variant, m);
  }
  return m;
}

/** Asynchronous compile (cached); after it resolves the synchronous paths use the cache. */
export async function compileKernelModule(variant: WasmVariant = "release"): Promise<WebAssembly.Module> {
  let m = modules.get(variant);
  if (!m) {
    m = await WebAssembly.compile(wasmBytes(variant));
    modules.set(variant, m);
  }
  return m;
}

/** One kernel instance: its exports, its memory and the heap over it. */
export class WasmRuntime {
  readonly heap: WasmHeap;

  private constructor(
    readonly exports: KernelExports,
    readonly variant: WasmVariant,
  ) {
    this.heap = new WasmHeap(exports.memory, exports.heap_base());
  }

  static create(variant: WasmVariant = "release"): WasmRuntime {
    return WasmRuntime.fromModule(kernelModule(variant), variant);
  }

  static async createAsync(variant: WasmVariant = "release"): Promise<WasmRuntime> {
    return WasmRuntime.fromModule(await compileKernelModule(variant), variant);
  }

  static fromModule(module: WebAssembly.Module, variant: WasmVariant): WasmRuntime {
    let memory: WebAssembly.Memory | null = null;
    const imports = {
      env: {
        abort(msg: number, file: number, line: number, col: number): never {
          const text = memory ? `${readAsString(memory, msg)} (${readAsString(memory, file)}:${line}:${col})` : "abort";
          throw new WasmAssertionError(`wasm kernel assertion failed: ${text}`);
        },
      },
    };
    const instance = new WebAssembly.Instance(module, imports);
    const exports = instance.exports as unknown as KernelExports;
    memory = exports.memory;
    return new WasmRuntime(exports, variant);
  }
}

/** Thrown when a debug-build kernel's assertion fails (bad CSR structure, out-of-range index). */
export class WasmAssertionError extends Error {
  override name = "WasmAssertionError";
}

/** AssemblyScript strings: UTF-16LE, byte length stored in the 4 bytes before the pointer. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  const buf = memory.buffer;
  const len = new Uint32Array(buf, ptr - 4, 1)[0] >>> 1;
  let s = "";
  const u16 = new Uint16Array(buf, ptr, len);
  for (let i = 0; i < len; i++) s += String.fromCharCode(u16[i]);
  return s;
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
