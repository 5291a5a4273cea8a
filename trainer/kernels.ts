import { loadWasmKernels } from "../runtime-wasm/host/wasm-kernels.js";
import { setSparseKernels } from "./ops/kernel-bridge.js";
import type { BackendName } from "./backend.js";

/**
 * Points the custom ops at the runtime's AssemblyScript SIMD kernels. On the native TensorFlow
 * backend the ops use stock tfjs ops instead, so nothing is loaded there.
 */
export async function useFastKernels(backend: BackendName): Promise<void> {
  if (backend === "tensorflow") return;
  setSparseKernels(await loadWasmKernels());
}
