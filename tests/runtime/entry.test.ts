// The public runtime entry (runtime-wasm/host/index.ts): its import graph stays free of tfjs,
// onnxruntime and Node built-ins (fs, path, ...), and loadModel runs a .glt file end to end.
import { describe, expect, it } from "vitest";
import { builtinModules } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadModel, loadModelAsync, loadModelSync, referenceForward, TicketFormatError } from "../../runtime-wasm/host/index.js";
import { encodeTicket } from "../../exporter/protobuf.js";
import { repoRoot } from "../helpers/paths.js";
import { TestRng, randomTicket, relErr } from "./helpers.js";

const ALLOWED_PACKAGES = [/^protobufjs(\/|$)/];

/** Every module specifier reachable from `entry` through relative imports (static, re-exports, dynamic). */
function importGraph(entry: string): { files: string[]; bare: Map<string, string> } {
  const seen = new Set<string>();
  const bare = new Map<string, string>(); // specifier → first importing file
  const stack = [entry];
  const spec = /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|import\s*["']([^"']+)["']/g;
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    // comments may quote imports (usage examples); drop them before scanning
    const src = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
    for (const m of src.matchAll(spec)) {
      const s = m[1] ?? m[2] ?? m[3];
      if (s.startsWith(".")) {
        let target = resolve(dirname(file), s);
        if (target.endsWith(".js")) target = target.slice(0, -3) + ".ts";
        else if (!target.endsWith(".ts")) target += ".ts";
        if (!existsSync(target)) throw new Error(`${file} imports ${s}, which does not exist as ${target}`);
        stack.push(target);
      } else if (!bare.has(s)) {
        bare.set(s, file);
      }
    }
  }
  return { files: [...seen], bare };
}

describe("runtime entry", () => {
  it("imports no tfjs, onnxruntime or Node built-in, transitively", () => {
    const { files, bare } = importGraph(resolve(repoRoot, "runtime-wasm/host/index.ts"));
    expect(files.some((f) => f.endsWith("runtime-wasm/build/wasm-bytes.ts"))).toBe(true);
    expect(files.some((f) => f.endsWith("exporter/protobuf.ts"))).toBe(true);
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const bad: string[] = [];
    for (const [s, file] of bare) {
      const isBuiltin = builtins.has(s) || s.startsWith("node:");
      const forbidden = isBuiltin || /tensorflow|tfjs|onnx/i.test(s) || !ALLOWED_PACKAGES.some((re) => re.test(s));
      if (forbidden) bad.push(`${s} (from ${file.slice(repoRoot.length + 1)})`);
    }
    expect(bad).toEqual([]);
  });

  it("loadModel(bytes) decodes a .glt file and runs it like the reference", async () => {
    const rng = new TestRng(31);
    const t = randomTicket(rng, { nodes: 45, widths: [21, 16, 4], formats: ["csr", "dense"], densities: [0.2, 1] });
    const bytes = encodeTicket(t);
    const m = await loadModel(bytes);
    expect([m.numNodes, m.numClasses, m.numFeatures]).toEqual([45, 4, 21]);
    expect(m.meta.dataset).toBe("random");
    // the file may store weights in another format or precision, so compare with the decoded model's own reference
    expect(relErr(m.run(), referenceForward(t))).toBeLessThanOrEqual(1e-5);
    const m2 = await loadModelAsync(bytes);
    expect(relErr(m2.run(), referenceForward(t))).toBeLessThanOrEqual(1e-5);
    const m3 = loadModelSync(bytes);
    expect(relErr(m3.run(), referenceForward(t))).toBeLessThanOrEqual(1e-5);
  });

  it("loadModel rejects a corrupted file with TicketFormatError", async () => {
    const rng = new TestRng(32);
    const bytes = encodeTicket(randomTicket(rng, { nodes: 10, widths: [4, 3, 2] }));
    const bad = bytes.slice(0, bytes.length - 7);
    await expect(loadModel(bad)).rejects.toThrow(TicketFormatError);
    expect(() => loadModelSync(bad)).toThrow(TicketFormatError);
  });
});
