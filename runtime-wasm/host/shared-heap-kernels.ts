/**
 * SparseKernels that run on another wasm module's memory and allocator: the trainer gives them the
 * tfjs wasm backend's memory, malloc and free, so a tensor's data is a kernel operand where it lies
 * and a kernel writes its output straight into a tensor (no copies in or out; the separate-instance
 * WasmSparseKernels copy every dense operand in and every result out). The module
 * (assembly/trainer.ts) imports its memory and has no data segment, so instantiating it writes
 * nothing into the host's memory; CSR structures and scratch space are the host allocator's regions.
 * Not part of the runtime's entry (index.ts): the runtime never shares a heap.
 */
import { trainerWasmBase64 } from "../build/trainer-wasm-bytes.js";
import { MallocHeap } from "./heap.js";
import { WasmSparseKernels, type KernelHost } from "./wasm-kernels.js";

let compiled: WebAssembly.Module | null = null;

function trainerModule(): WebAssembly.Module {
  if (!compiled) {
    const bin = atob(trainerWasmBase64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

export interface SharedHeap {
  memory: WebAssembly.Memory;
  /** the host module's allocator (e.g. Emscripten's _malloc / _free) */
  malloc(bytes: number): number;
  free(ptr: number): void;
}

/** Kernels whose CSR handles, scratch and in-place operands live in `heap.memory`. */
export function loadWasmKernelsOnHeap(heap: SharedHeap): WasmSparseKernels<KernelHost> {
  if (!(heap.memory instanceof WebAssembly.Memory)) throw new TypeError("loadWasmKernelsOnHeap: memory must be a WebAssembly.Memory");
  const instance = new WebAssembly.Instance(trainerModule(), { env: { memory: heap.memory } });
  const host: KernelHost = {
    exports: instance.exports as unknown as KernelHost["exports"],
    heap: new MallocHeap(heap.memory, heap.malloc, heap.free),
    variant: "release",
  };
  return new WasmSparseKernels(host, "wasm-simd-shared-heap");
}
