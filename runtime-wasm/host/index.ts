/**
 * fastglt runtime: `import { loadModel } from "fastglt/runtime"`.
 *
 *   const model = await loadModel(bytes);     // a .glt file's bytes
 *   const logits = model.run();               // numNodes × numClasses, from the file's features
 *   model.run({ features });                  // or features passed in (CSR, dense, Float32Array)
 *   model.predict([3, 14]);                   // 2 × numClasses, over the nodes' receptive field only
 *   model.profile();                          // per-layer time and executed MACs
 *
 * GCN, GIN and GAT tickets (ReLU, ELU or no activation).
 *
 * Pulls in neither tfjs nor onnxruntime nor fs: the wasm is embedded as base64.
 */
import { decodeTicket } from "../../exporter/protobuf.js";
import { createModel, createModelAsync, type GltModel, type ModelOptions } from "./model.js";

/**
 * Decodes a .glt file (throws TicketFormatError on a bad file, ModelError on a ticket this
 * runtime cannot run) and builds a runnable model: plan, warm-up, buffers. The wasm module is
 * compiled asynchronously (as browsers require for modules this size on the main thread), once
 * per process.
 */
export async function loadModel(bytes: Uint8Array, opts: ModelOptions = {}): Promise<GltModel> {
  return createModelAsync(decodeTicket(bytes), opts);
}

/** Same, synchronously (Node, workers; browsers' main thread only after an async load has cached the module). */
export function loadModelSync(bytes: Uint8Array, opts: ModelOptions = {}): GltModel {
  return createModel(decodeTicket(bytes), opts);
}

/** Alias of loadModel, kept for callers of the earlier API. */
export const loadModelAsync = loadModel;

export { createModel, createModelAsync, checkTicket, GltModel, ModelError } from "./model.js";
export type { ModelOptions, RunOptions, PredictOptions, FeatureInput, Profile, LayerProfile, StepProfile } from "./model.js";
export { makePlan, planSteps } from "./plan.js";
export type { Plan, LayerPlan, GatPlan, PlanOptions, StepInfo, StepOp, InputKind, KernelSource, KernelTiming } from "./plan.js";
export { estimateMemory, DEFAULT_MAX_MEMORY_BYTES, MAX_VALUE_BOUND } from "./limits.js";
export { loadWasmKernels, loadWasmKernelsAsync, WasmSparseKernels } from "./wasm-kernels.js";
export type { CsrHandle, SparseKernels } from "./kernel-api.js";
export { referenceForward } from "./reference.js";
export { WasmAssertionError, type WasmVariant } from "./wasm-module.js";
export { TicketFormatError } from "../../exporter/protobuf.js";
