/**
 * Runs an exported ONNX model in onnxruntime-node and compares its logits with the plain
 * TypeScript forward pass of the ticket it came from (`referenceForward`, which the tests hold
 * equal to the trainer's forward).
 *
 * onnxruntime-node is an optional dependency: it is loaded here by a guarded dynamic import, so
 * nothing else in fastglt needs it, and a missing install is one clear error.
 */
import { compareLogitRows } from "../ticket/compare-logits.js";

export { compareLogitRows };
import { referenceForward, featuresToDense, type FeatureInput } from "../runtime-wasm/host/reference.js";
import type { Ticket } from "../ticket/ticket.js";
import { ONNX_GRAPH_INPUTS, ONNX_INPUT, ONNX_OUTPUT, onnxGraphInputs, summarizeOnnx } from "./onnx.js";

export interface VerifyOptions {
  /** node features (default: the ticket's own) */
  features?: FeatureInput;
  /**
   * intra-op threads of the ORT session. Default: 1 when the model uses ScatterND with reduction
   * "add" (ORT 1.30 loses updates with more than one thread), else ORT's default.
   */
  threads?: number;
  /** timed runs after one warm-up run; `ms` is their median (default 5) */
  runs?: number;
}

export interface VerifyResult {
  /** max over nodes of max_c |onnx − ref| / max_c |ref| (the row's scale floored at 1e-6) */
  maxRelativeError: number;
  /** arg-max per node agrees (a tie in the reference, within 1e-6 of the row's scale, agrees with either class) */
  samePredictions: boolean;
  /** nodes whose predictions differ */
  mismatchedNodes: number;
  /** median wall time of one ORT run, ms */
  ms: number;
  /** intra-op threads used (0 = ORT's default) */
  threads: number;
  /** ORT's logits, nodes × classes */
  logits: Float32Array;
}

/** The minimal part of onnxruntime-node's API used here. */
interface Ort {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: readonly number[]) => unknown;
}
interface OrtSession {
  inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** Built at run time so TypeScript and bundlers do not try to resolve the optional dependency. */
const ORT_PACKAGE = ["onnxruntime", "node"].join("-");

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const msg = (err as { message?: unknown } | null)?.message;
  if (typeof msg !== "string") return false;
  const name = specifier.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&");
  return (
    new RegExp(`(cannot find (package|module)|could not resolve) ['"]${name}['"]`, "i").test(msg) ||
    new RegExp(`failed to load url ${name}(\\s|$)`, "i").test(msg)
  );
}

let ortPromise: Promise<Ort> | null = null;

/** onnxruntime-node, or a clear error when it is not installed. `importer` is for tests. */
export async function loadOnnxRuntime(importer?: (specifier: string) => Promise<unknown>): Promise<Ort> {
  const load = async (): Promise<Ort> => {
    let mod: unknown;
    try {
      mod = await (importer ?? ((s: string) => import(s)))(ORT_PACKAGE);
    } catch (err) {
      if (isModuleNotFound(err, ORT_PACKAGE)) {
        throw new Error(
          `${ORT_PACKAGE} is not installed (it is an optional dependency); install it with ` +
            `\`ONNXRUNTIME_NODE_INSTALL=skip npm install ${ORT_PACKAGE}\` to run ONNX models`,
        );
      }
      throw new Error(`${ORT_PACKAGE} is installed but failed to load: ${oneLine(err)}`);
    }
    const m = mod as Partial<Ort> & { default?: Partial<Ort> };
    const ort = m.InferenceSession ? m : m.default;
    if (!ort?.InferenceSession || !ort.Tensor) throw new Error(`${ORT_PACKAGE} loaded but has no InferenceSession`);
    return ort as Ort;
  };
  if (importer) return load(); // not cached: tests simulate a missing or broken install
  ortPromise ??= load().catch((e) => {
    ortPromise = null;
    throw e;
  });
  return ortPromise;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").trim();
}

/**
 * Runs `onnxBytes` in onnxruntime-node on the ticket's features (or `opts.features`) and compares
 * the logits with `referenceForward(ticket)`. Feeds the ticket's edge list too when the model
 * takes it as inputs (a `graphAsInput` export).
 */
export async function verifyOnnx(onnxBytes: Uint8Array, ticket: Ticket, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const summary = summarizeOnnx(onnxBytes); // also rejects bytes that are not an ONNX protobuf
  if (!summary.inputs.includes(ONNX_INPUT) || !summary.outputs.includes(ONNX_OUTPUT)) {
    throw new Error(`the model has inputs [${summary.inputs.join(", ")}] and outputs [${summary.outputs.join(", ")}]; expected input "${ONNX_INPUT}" and output "${ONNX_OUTPUT}"`);
  }
  const features = opts.features ?? ticket.features;
  if (!features) throw new Error("the ticket has no features and none were given");
  const n = ticket.graph.numNodes;
  const f = ticket.layers[0].inFeatures;
  const x = featuresToDense(features, n, f);
  const expected = referenceForward(ticket, x);

  const threads = opts.threads ?? (summary.scatterNdAdd ? 1 : 0);
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`threads must be a non-negative integer, got ${threads}`);
  const runs = opts.runs ?? 5;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be a positive integer, got ${runs}`);

  const ort = await loadOnnxRuntime();
  let session: OrtSession;
  try {
    // logSeverityLevel 3: errors only (they are thrown anyway), no warnings on stderr
    session = await ort.InferenceSession.create(onnxBytes, { logSeverityLevel: 3, ...(threads > 0 ? { intraOpNumThreads: threads } : {}) });
  } catch (e) {
    throw new Error(`ONNX Runtime could not load the model: ${oneLine(e)}`, { cause: e });
  }
  try {
    const feeds: Record<string, unknown> = { [ONNX_INPUT]: new ort.Tensor("float32", x, [n, f]) };
    const graphNames = Object.values(ONNX_GRAPH_INPUTS) as string[];
    if (session.inputNames.some((name) => graphNames.includes(name))) {
      const gi = onnxGraphInputs(ticket);
      const e = gi.edge_coef.length;
      feeds[ONNX_GRAPH_INPUTS.src] = new ort.Tensor("int64", gi.edge_src, [e]);
      feeds[ONNX_GRAPH_INPUTS.dst] = new ort.Tensor("int64", gi.edge_dst, [e]);
      feeds[ONNX_GRAPH_INPUTS.coef] = new ort.Tensor("float32", gi.edge_coef, [e]);
    }
    const run = async (): Promise<Float32Array> => {
      let out;
      try {
        out = await session.run(feeds);
      } catch (e) {
        throw new Error(`ONNX Runtime failed to run the model: ${oneLine(e)}`);
      }
      const t = out[ONNX_OUTPUT];
      if (!(t.data instanceof Float32Array)) throw new Error(`output "${ONNX_OUTPUT}" is not float32`);
      const dims = t.dims.join(" × ");
      if (t.dims.length !== 2 || t.dims[0] !== n || t.dims[1] !== ticket.numClasses) {
        throw new Error(`output "${ONNX_OUTPUT}" is ${dims}, expected ${n} × ${ticket.numClasses}`);
      }
      return t.data;
    };
    const logits = await run(); // also the warm-up
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const cmp = compareLogitRows(expected, logits, ticket.numClasses);
    return { ...cmp, ms: times[times.length >> 1], threads, logits };
  } finally {
    await session.release();
  }
}
