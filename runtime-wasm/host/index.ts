/**
 * fastglt runtime: `import { loadModel } from "fastglt/runtime"`.
 *
 *   const model = loadModel(bytes);          // a .glt file's bytes
 *   const logits = model.run();              // numNodes × numClasses, from the file's features
 *   model.run({ features });                 // or features passed in (CSR, dense, Float32Array)
 *
 * Pulls in neither tfjs nor onnxruntime nor fs: the wasm is embedded as base64.
 */
import { decodeTicket } from "../../exporter/protobuf.js";
import { createModel, createModelAsync, type GltModel, type ModelOptions } from "./model.js";

/** Decodes a .glt file (throws TicketFormatError on a bad file) and builds a runnable model. */
export function loadModel(bytes: Uint8Array, opts: ModelOptions = {}): GltModel {
  return createModel(decodeTicket(bytes), opts);
}

/** Same, compiling the wasm module asynchronously. */
export async function loadModelAsync(bytes: Uint8Array, opts: ModelOptions = {}): Promise<GltModel> {
  return createModelAsync(decodeTicket(bytes), opts);
}

export { createModel, createModelAsync, checkTicket, GltModel, ModelError } from "./model.js";
export type { ModelOptions, RunOptions, FeatureInput } from "./model.js";
export { makePlan, planSteps } from "./plan.js";
export type { Plan, LayerPlan, PlanOptions, StepInfo, InputKind } from "./plan.js";
export { loadWasmKernels, loadWasmKernelsAsync, WasmSparseKernels } from "./wasm-kernels.js";
export type { CsrHandle, SparseKernels } from "./kernel-api.js";
export { referenceForward } from "./reference.js";
export { WasmAssertionError, type WasmVariant } from "./wasm-module.js";
export { TicketFormatError } from "../../exporter/protobuf.js";
