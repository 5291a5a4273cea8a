/**
 * Timing several engines on the same work in one process, fairly on a shared machine: after a
 * warm-up, the engines run in interleaved rounds (a burst of load then hits all of them, not one),
 * each run timed on its own; wall time per run and the process CPU time over each engine's runs
 * (CPU/wall > 1 means the engine used more than one thread; < 1 that it waited for the CPU).
 */
import { summarize, type Summary } from "./stats.js";

export interface Engine {
  name: string;
  /** one run; may be async (ONNX Runtime) */
  run: () => unknown;
}

export interface TimingOptions {
  /** timed runs per engine at least (default 15) */
  minRuns?: number;
  /** timed runs per engine at most (default 400) */
  maxRuns?: number;
  /** wall time to spend per engine, ms (default 1500): fast engines get more runs up to maxRuns */
  budgetMs?: number;
  /** untimed warm-up runs per engine (default 3) */
  warmup?: number;
  /** interleaved rounds (default 5) */
  rounds?: number;
}

export interface Timing {
  /** wall ms per run */
  ms: Summary;
  /** process CPU ms per run (user + system, all threads), mean over the timed runs */
  cpuMsPerRun: number;
  /** CPU time / wall time over the timed runs */
  cpuPerWall: number;
  /** every timed run, ms, in the order run */
  samples: number[];
}

async function once(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  const r = fn();
  if (r instanceof Promise) await r;
  return performance.now() - t0;
}

export async function timeEngines(engines: Engine[], opts: TimingOptions = {}): Promise<Map<string, Timing>> {
  const minRuns = opts.minRuns ?? 15;
  const maxRuns = Math.max(minRuns, opts.maxRuns ?? 400);
  const budget = opts.budgetMs ?? 1500;
  const rounds = Math.max(1, opts.rounds ?? 5);
  const plans = [];
  for (const e of engines) {
    let warm = Infinity;
    for (let i = 0; i < (opts.warmup ?? 3); i++) warm = Math.min(warm, await once(e.run));
    const runs = Math.min(maxRuns, Math.max(minRuns, Math.floor(budget / Math.max(warm, 1e-3))));
    plans.push({ e, runs, samples: [] as number[], cpuUs: 0, wallMs: 0 });
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of plans) {
      const todo = Math.ceil((p.runs * (r + 1)) / rounds) - Math.ceil((p.runs * r) / rounds);
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      for (let i = 0; i < todo; i++) p.samples.push(await once(p.e.run));
      p.wallMs += performance.now() - w0;
      const cpu = process.cpuUsage(cpu0);
      p.cpuUs += cpu.user + cpu.system;
    }
  }
  const out = new Map<string, Timing>();
  for (const p of plans) {
    out.set(p.e.name, {
      ms: summarize(p.samples),
      cpuMsPerRun: p.cpuUs / 1000 / p.samples.length,
      cpuPerWall: p.cpuUs / 1000 / p.wallMs,
      samples: p.samples,
    });
  }
  return out;
}
