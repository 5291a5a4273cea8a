/**
 * Picks and initialises the tfjs backend the trainer runs on.
 *
 * - `auto` (default): the native TensorFlow backend when the user has installed
 *   `@tensorflow/tfjs-node-gpu` (CUDA) or `@tensorflow/tfjs-node` (CPU), else `wasm`.
 *   Those two packages are optional peers (their install downloads libtensorflow), so they are
 *   imported through a non-literal specifier: neither TypeScript nor a bundler requires them.
 * - `wasm`: @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD), the default here.
 * - `cpu`: @tensorflow/tfjs-backend-cpu, plain JS; only for tiny tests.
 * - `tensorflow`: the native backend, an error (saying what to install) when it is missing.
 *
 * The custom ops in trainer/ops/ run their own sparse kernels on wasm and cpu and fall back to
 * the stock tfjs ops on the native backend, where those are fast.
 */
import * as tf from "@tensorflow/tfjs-core";
import { shareIdentityOnWasm } from "./ops/shared-identity.js";

export type BackendName = "wasm" | "cpu" | "tensorflow";
export type BackendChoice = BackendName | "auto";
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "wasm", "cpu", "tensorflow"];

export interface BackendInfo {
  name: BackendName;
  /** e.g. "XNNPACK, SIMD, 1 thread" or "tfjs-node-gpu, GPU" */
  detail: string;
}

/** How modules are imported; replaceable in tests to simulate installed / missing packages. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

/** Built at run time so TypeScript and bundlers do not try to resolve the optional peers. */
const NATIVE_GPU = ["@tensorflow", "tfjs-node-gpu"].join("/");
const NATIVE_CPU = ["@tensorflow", "tfjs-node"].join("/");

let current: BackendInfo | null = null;

/** The backend chosen by the last initBackend call (null before the first). */
export function backendInfo(): BackendInfo | null {
  return current;
}

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const msg = (err as { message?: unknown } | null)?.message;
  if (typeof msg !== "string") return false;
  // Node: "Cannot find package 'x' imported from ...", "Cannot find module 'x'"; vite/vitest:
  // 'Could not resolve "x"', "Failed to load url x". The quotes (or end) right after the name keep
  // a missing file *inside* the package (a broken install: 'x/lib/binding.node') from matching.
  const name = specifier.replace(/[/\\^$.*+?()[\]{}|-]/g, "\\$&");
  return (
    new RegExp(`(cannot find (package|module)|could not resolve) ['"]${name}['"]`, "i").test(msg) ||
    new RegExp(`failed to load url ${name}(\\s|$)`, "i").test(msg)
  );
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message.split("\n")[0] : String(err);
}

type NativeProbe = { ok: true; detail: string } | { ok: false; missing: boolean; reason: string };

async function tryNative(importer: ModuleImporter, specifier: string, detail: string): Promise<NativeProbe> {
  try {
    await importer(specifier);
  } catch (err) {
    if (isModuleNotFound(err, specifier)) return { ok: false, missing: true, reason: `${specifier} is not installed` };
    return { ok: false, missing: false, reason: `${specifier} is installed but failed to load: ${errMessage(err)}` };
  }
  // the package registers the "tensorflow" backend on import
  if (tf.findBackendFactory("tensorflow") == null) {
    return {
      ok: false,
      missing: false,
      reason: `${specifier} loaded but registered no "tensorflow" backend (is it using a different copy of @tensorflow/tfjs-core than 4.22?)`,
    };
  }
  return { ok: true, detail };
}

async function setTf(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend "${name}" failed to initialise (tf.setBackend returned false)`);
  await tf.ready();
}

async function initWasm(importer: ModuleImporter): Promise<BackendInfo> {
  try {
    await importer("@tensorflow/tfjs-backend-wasm");
  } catch (err) {
    throw new Error(
      `backend "wasm" requested but @tensorflow/tfjs-backend-wasm could not be loaded (${errMessage(err)}); ` +
        `install it with: npm install @tensorflow/tfjs-backend-wasm@4.22.0`,
    );
  }
  await setTf("wasm");
  shareIdentityOnWasm();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  const parts = ["XNNPACK", simd ? "SIMD" : "no SIMD"];
  if (threads) parts.push("threads");
  return { name: "wasm", detail: parts.join(", ") };
}

async function initCpu(importer: ModuleImporter): Promise<BackendInfo> {
  try {
    await importer("@tensorflow/tfjs-backend-cpu");
  } catch (err) {
    throw new Error(
      `backend "cpu" requested but @tensorflow/tfjs-backend-cpu could not be loaded (${errMessage(err)}); ` +
        `install it with: npm install @tensorflow/tfjs-backend-cpu@4.22.0`,
    );
  }
  await setTf("cpu");
  return { name: "cpu", detail: "plain JS, for tests only" };
}

/**
 * tfjs-core's Node bundle registers no gradients for its stock ops (mul, relu, sum, ...); the
 * @tensorflow/tfjs union package's bundle does. Loads it when they are missing; logs a warning
 * when it cannot (training then fails with "gradient function not found").
 */
async function ensureStockGradients(importer: ModuleImporter, log: (msg: string) => void): Promise<void> {
  if (tf.getGradient("Multiply") != null) return;
  try {
    await importer("@tensorflow/tfjs");
  } catch (err) {
    log(`backend: warning: no gradients registered for the stock tfjs ops and @tensorflow/tfjs could not be loaded (${errMessage(err)}); install it: npm install @tensorflow/tfjs@4.22.0`);
  }
}

/**
 * Initialises a backend and makes it the active one. Returns the chosen name and logs
 * `backend: <name> (<detail>)` through `log` (default console.log; pass `() => {}` to silence).
 * `importer` is for tests.
 */
export async function initBackend(
  name: BackendChoice = "auto",
  log: (msg: string) => void = console.log,
  importer: ModuleImporter = defaultImporter,
): Promise<BackendName> {
  if (!BACKEND_CHOICES.includes(name)) {
    throw new Error(`unknown backend "${String(name)}": choose one of ${BACKEND_CHOICES.join(", ")}`);
  }
  let info: BackendInfo;
  if (name === "cpu") {
    info = await initCpu(importer);
  } else if (name === "wasm") {
    info = await initWasm(importer);
  } else {
    const gpu = await tryNative(importer, NATIVE_GPU, "tfjs-node-gpu, GPU");
    const native = gpu.ok ? gpu : await tryNative(importer, NATIVE_CPU, "tfjs-node, native CPU");
    if (native.ok) {
      await setTf("tensorflow");
      info = { name: "tensorflow", detail: native.detail };
    } else if (name === "tensorflow") {
      const reasons = [gpu, native].map((p) => (p.ok ? "" : p.reason)).join("; ");
      throw new Error(
        `backend "tensorflow" requested but not available (${reasons}). Install one of ` +
          `@tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA GPU), version 4.22 ` +
          `(npm install @tensorflow/tfjs-node@4.22.0; its install script downloads libtensorflow), ` +
          `or use --backend wasm`,
      );
    } else {
      // auto: report a native package that is present but broken, then fall back
      for (const p of [gpu, native]) if (!p.ok && !p.missing) log(`backend: ${p.reason}; falling back to wasm`);
      info = await initWasm(importer);
    }
  }
  await ensureStockGradients(importer, log);
  current = info;
  log(`backend: ${info.name} (${info.detail})`);
  return info.name;
}
