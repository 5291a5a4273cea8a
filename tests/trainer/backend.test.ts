import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { afterEach, describe, expect, it } from "vitest";
import { backendInfo, initBackend, type ModuleImporter } from "../../trainer/backend.js";

const GPU = "@tensorflow/tfjs-node-gpu";
const NODE = "@tensorflow/tfjs-node";

let fakeRegistered = false;

function notFound(spec: string): Error {
  return Object.assign(new Error(`Cannot find package '${spec}' imported from /x.js`), { code: "ERR_MODULE_NOT_FOUND" });
}

/** Simulates which native packages are installed; a "loaded" one registers a fake tensorflow backend. */
function fakeImporter(present: Record<string, "ok" | "missing" | "broken" | "no-binding">): ModuleImporter {
  return async (spec) => {
    const state = present[spec];
    if (state === undefined) return import(spec);
    if (state === "missing") throw notFound(spec);
    if (state === "broken") throw new Error("libtensorflow.so.2: cannot open shared object file");
    if (state === "no-binding") throw Object.assign(new Error(`Cannot find module '${spec}/lib/napi-v8/tfjs_binding.node'`), { code: "MODULE_NOT_FOUND" });
    if (tf.findBackendFactory("tensorflow") == null) tf.registerBackend("tensorflow", () => new MathBackendCPU());
    fakeRegistered = true;
    return {};
  };
}

function logger(): { log: (m: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (m) => lines.push(m), lines };
}

async function nativeInstalled(): Promise<boolean> {
  for (const spec of [GPU, NODE]) {
    try {
      await import(spec);
      return true;
    } catch {
      // not installed
    }
  }
  return false;
}

describe("initBackend", () => {
  afterEach(() => {
    if (fakeRegistered && tf.findBackendFactory("tensorflow") != null) tf.removeBackend("tensorflow");
    fakeRegistered = false;
  });

  it("cpu: selects and logs it", async () => {
    const { log, lines } = logger();
    expect(await initBackend("cpu", log)).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(lines.at(-1)).toMatch(/^backend: cpu \(/);
    expect(backendInfo()?.name).toBe("cpu");
  });

  it("wasm: selects it and reports XNNPACK and SIMD", async () => {
    const { log, lines } = logger();
    expect(await initBackend("wasm", log)).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(lines.at(-1)).toBe("backend: wasm (XNNPACK, SIMD)");
  });

  it("registers gradients for the stock ops", async () => {
    await initBackend("wasm", () => {});
    expect(tf.getGradient("Multiply")).toBeDefined();
    expect(tf.getGradient("Relu")).toBeDefined();
  });

  it("auto (default): wasm when no native TensorFlow package is installed", async () => {
    const { log, lines } = logger();
    const native = await nativeInstalled();
    const got = await initBackend(undefined, log);
    expect(got).toBe(native ? "tensorflow" : "wasm");
    if (!native) expect(lines).toEqual(["backend: wasm (XNNPACK, SIMD)"]); // no "failed to load" noise
  });

  it("tensorflow requested but not installed: an error that says what to install", async () => {
    if (await nativeInstalled()) return;
    await expect(initBackend("tensorflow", () => {})).rejects.toThrow(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
    await expect(initBackend("tensorflow", () => {})).rejects.toThrow(/@tensorflow\/tfjs-node-gpu is not installed/);
  });

  it("auto prefers tfjs-node-gpu, then tfjs-node", async () => {
    let r = logger();
    expect(await initBackend("auto", r.log, fakeImporter({ [GPU]: "ok", [NODE]: "ok" }))).toBe("tensorflow");
    expect(r.lines.at(-1)).toBe("backend: tensorflow (tfjs-node-gpu, GPU)");
    tf.removeBackend("tensorflow");
    r = logger();
    expect(await initBackend("auto", r.log, fakeImporter({ [GPU]: "missing", [NODE]: "ok" }))).toBe("tensorflow");
    expect(r.lines.at(-1)).toBe("backend: tensorflow (tfjs-node, native CPU)");
  });

  it("auto falls back to wasm, saying why, when a native package is installed but broken", async () => {
    const { log, lines } = logger();
    expect(await initBackend("auto", log, fakeImporter({ [GPU]: "broken", [NODE]: "missing" }))).toBe("wasm");
    expect(lines[0]).toMatch(/tfjs-node-gpu is installed but failed to load: libtensorflow.*falling back to wasm/);
    expect(lines.at(-1)).toBe("backend: wasm (XNNPACK, SIMD)");
  });

  it("explicit tensorflow with a broken install reports the load error", async () => {
    await expect(initBackend("tensorflow", () => {}, fakeImporter({ [GPU]: "missing", [NODE]: "broken" }))).rejects.toThrow(
      /tfjs-node is installed but failed to load: libtensorflow/,
    );
  });

  it("a package whose native binding is missing counts as broken, not as absent", async () => {
    await expect(initBackend("tensorflow", () => {}, fakeImporter({ [GPU]: "missing", [NODE]: "no-binding" }))).rejects.toThrow(
      /tfjs-node is installed but failed to load: Cannot find module '@tensorflow\/tfjs-node\/lib/,
    );
  });

  it("rejects an unknown backend name", async () => {
    await expect(initBackend("webgpu" as never, () => {})).rejects.toThrow(/unknown backend "webgpu": choose one of auto, wasm, cpu, tensorflow/);
  });
});
