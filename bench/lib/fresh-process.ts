/**
 * Memory and cold start of one engine in a fresh Node process, so that nothing else this bench
 * holds (tfjs, the trainer, other sessions) is counted: the child loads the engine's library,
 * reads the model and a dense x (float32 file), notes its resident set size (RSS), creates the
 * session or model (timed: the cold start), runs it 3 times, and reports
 *   rssDelta = RSS after the runs − RSS before creation,
 *   peakDelta = peak RSS from then on − RSS before creation (Linux: the high-water mark VmHWM,
 *   reset through /proc/self/clear_refs just before; elsewhere getrusage's maxrss, which counts
 *   everything since the process started and, after a fork, the parent's peak: then peakExact is false).
 * Engines: "ort-node" (threads: 0 = default, else intraOpNumThreads), "ort-web" (1 thread), and
 * "ours" (loadModel of a .glt; in a fresh process this includes compiling the wasm module).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type FreshEngine = "ort-node" | "ort-web" | "ours";

export interface FreshProcessResult {
  engine: FreshEngine;
  threads: number;
  /** session creation / loadModel, ms, in a process that had not run the engine before */
  createMs: number;
  firstRunMs: number;
  rssBefore: number;
  rssDelta: number;
  peakDelta: number;
  /** peakDelta measured from a reset high-water mark (false: an upper bound) */
  peakExact: boolean;
}

const RUNTIME_ENTRY = resolve(fileURLToPath(new URL("../../runtime-wasm/host/index.ts", import.meta.url)));

const CHILD = `
import { readFileSync, writeFileSync } from "node:fs";
const [engine, modelPath, xPath, n, f, threads, runtimeEntry] = process.argv.slice(1);
const N = Number(n), F = Number(f), T = Number(threads);
let create, run;
if (engine === "ours") {
  const { loadModel } = await import(runtimeEntry);
  create = (bytes) => loadModel(bytes);
  run = (m) => m.run();
} else {
  const ort = await import(engine === "ort-web" ? "onnxruntime-web" : "onnxruntime-node");
  if (engine === "ort-web") { ort.env.wasm.numThreads = 1; ort.env.logLevel = "error"; }
  const opts = engine === "ort-web" ? { executionProviders: ["wasm"] } : (T > 0 ? { intraOpNumThreads: T, interOpNumThreads: 1, logSeverityLevel: 3 } : { logSeverityLevel: 3 });
  create = (bytes) => ort.InferenceSession.create(bytes, opts);
  run = (s, x) => s.run({ x: new ort.Tensor("float32", x, [N, F]) });
}
const bytes = new Uint8Array(readFileSync(modelPath));
const xb = readFileSync(xPath);
const x = engine === "ours" ? null : new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + N * F * 4));
// peak RSS of this process from here on: reset the high-water mark (Linux), read VmHWM after
const hwm = () => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
};
let hwmReset = true;
try { writeFileSync("/proc/self/clear_refs", "5"); } catch { hwmReset = false; }
const rssBefore = process.memoryUsage().rss;
let t0 = performance.now();
const s = await create(bytes);
const createMs = performance.now() - t0;
t0 = performance.now();
await run(s, x);
const firstRunMs = performance.now() - t0;
for (let i = 0; i < 2; i++) await run(s, x);
const rssAfter = process.memoryUsage().rss;
const peak = hwm();
process.stdout.write(JSON.stringify({ createMs, firstRunMs, rssBefore, rssDelta: rssAfter - rssBefore, peakDelta: peak - rssBefore, peakExact: hwmReset }));
`;

/**
 * Runs `engine` on `model` (ONNX bytes, or .glt bytes for "ours", which then runs on the
 * ticket's own features) in a child process; x is nodes × features, dense.
 */
export function freshProcess(engine: FreshEngine, model: Uint8Array, x: Float32Array | null, dims: [number, number], threads = 0): FreshProcessResult {
  const dir = mkdtempSync(join(tmpdir(), "fastglt-bench-"));
  try {
    const modelPath = join(dir, "model.bin");
    writeFileSync(modelPath, model);
    // "ours" runs on the features stored in the .glt; the child still reads an (empty) x file
    const xPath = join(dir, "x.f32");
    writeFileSync(xPath, x ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(0));
    const args = ["--input-type=module"];
    if (engine === "ours") args.unshift("--import", "tsx");
    const argv = [process.execPath, ...args, "-e", CHILD, engine, modelPath, xPath, String(dims[0]), String(dims[1]), String(threads), RUNTIME_ENTRY];
    // Started through a shell that forks it (`; exit` keeps the shell from exec'ing it in place):
    // a child forked straight from this large process reports this process's RSS high-water mark
    // as its own (seen on Linux 6.x, even after resetting it through clear_refs).
    const [cmd, ...rest] = process.platform === "win32" ? argv : ["/bin/sh", "-c", '"$@"; exit $?', "sh", ...argv];
    const r = spawnSync(cmd, rest, {
      encoding: "utf8",
      cwd: process.cwd(),
      maxBuffer: 1 << 20,
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`fresh-process ${engine} failed (exit ${r.status}): ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" ")}`);
    const j = JSON.parse(r.stdout) as Omit<FreshProcessResult, "engine" | "threads">;
    return { engine, threads, ...j };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
