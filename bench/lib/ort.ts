/**
 * ONNX Runtime as a benchmark baseline: onnxruntime-node (native, MLAS) through the exporter's
 * guarded loader, and onnxruntime-web (its wasm build, which runs in Node) when installed.
 * Both get the model bytes and a dense x of nodes × features, and return the logits.
 */
import { loadOnnxRuntime } from "../../exporter/verify.js";
import { ONNX_INPUT, ONNX_OUTPUT } from "../../exporter/onnx.js";

export interface OrtRunner {
  /** ms to create the session (ONNX Runtime's own load: parse, optimise, densify initializers) */
  createMs: number;
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

/** onnxruntime-node; `threads` 0 = ORT's default intra-op thread count (one per core). */
export async function ortNodeRunner(model: Uint8Array, x: Float32Array, dims: [number, number], threads: number): Promise<OrtRunner> {
  const ort = await loadOnnxRuntime();
  const opts: Record<string, unknown> = { logSeverityLevel: 3 };
  if (threads > 0) Object.assign(opts, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, opts);
  const createMs = performance.now() - t0;
  const feeds = { [ONNX_INPUT]: new ort.Tensor("float32", x, dims) };
  return {
    createMs,
    async run() {
      const out = await session.run(feeds);
      return out[ONNX_OUTPUT].data as Float32Array;
    },
    release: () => session.release(),
  };
}

type OrtWeb = typeof import("onnxruntime-web");
let ortWeb: Promise<OrtWeb | null> | null = null;

/** onnxruntime-web, or null (with the reason) when it is not installed. */
export async function loadOrtWeb(): Promise<{ ort: OrtWeb | null; reason: string }> {
  ortWeb ??= import("onnxruntime-web").then(
    (m) => (m as OrtWeb & { default?: OrtWeb }).InferenceSession ? m : ((m as { default?: OrtWeb }).default ?? null),
    () => null,
  );
  const ort = await ortWeb;
  return { ort, reason: ort ? "" : "onnxruntime-web is not installed (npm install --save-dev onnxruntime-web@~1.30.0)" };
}

/** onnxruntime-web's wasm backend (SIMD), one thread. */
export async function ortWebRunner(ort: OrtWeb, model: Uint8Array, x: Float32Array, dims: [number, number]): Promise<OrtRunner> {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  const createMs = performance.now() - t0;
  const feeds = { [ONNX_INPUT]: new ort.Tensor("float32", x, dims) };
  return {
    createMs,
    async run() {
      const out = await session.run(feeds);
      return out[ONNX_OUTPUT].data as Float32Array;
    },
    release: () => session.release(),
  };
}
