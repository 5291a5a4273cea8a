import * as tf from "@tensorflow/tfjs-core";
import { loadWasmKernelsOnHeap } from "../runtime-wasm/host/shared-heap-kernels.js";
import { loadWasmKernels } from "../runtime-wasm/host/wasm-kernels.js";
import type { SparseKernels } from "../runtime-wasm/host/kernel-api.js";
import { setSparseKernels } from "./ops/kernel-bridge.js";
import type { BackendName } from "./backend.js";

/** The fields of the tfjs wasm backend's Emscripten module the shared-heap kernels need. */
interface TfjsWasmModule {
  asm?: { memory?: unknown };
  _malloc?: (bytes: number) => number;
  _free?: (ptr: number) => void;
}

/**
 * The AssemblyScript SIMD kernels on the tfjs wasm backend's own heap (tensors are operands in
 * place), or null when this tfjs build does not expose its memory and allocator.
 */
export function tfjsHeapKernels(): SparseKernels | null {
  const m = (tf.findBackend("wasm") as unknown as { wasm?: TfjsWasmModule } | null)?.wasm;
  const memory = m?.asm?.memory;
  if (!m || !(memory instanceof WebAssembly.Memory) || typeof m._malloc !== "function" || typeof m._free !== "function") return null;
  const malloc = m._malloc.bind(m);
  const free = m._free.bind(m);
  return loadWasmKernelsOnHeap({ memory, malloc, free });
}

/**
 * Points the custom ops at the runtime's AssemblyScript SIMD kernels: on the wasm backend, a copy
 * that works in the backend's own memory (no copies of operands or results); on the cpu backend, a
 * separate instance. On the native TensorFlow backend the ops use stock tfjs ops, so nothing is
 * loaded there.
 */
export async function useFastKernels(backend: BackendName): Promise<void> {
  if (backend === "tensorflow") return;
  setSparseKernels((backend === "wasm" ? tfjsHeapKernels() : null) ?? (await loadWasmKernels()));
}
