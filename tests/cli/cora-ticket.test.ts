import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runPipeline } from "../../cli/pipeline.js";
import { silentProgress } from "../../trainer/util/progress.js";
import { rawDir } from "../helpers/paths.js";

// The foundation issue's end-to-end bar on real data: dense GCN on Cora, then an 80%-weight /
// 20%-graph one-shot ticket within 1.5 points of it, whose runtime predictions equal the trainer's.
describe("Cora ticket, end to end", () => {
  it("dense ≥ 79%, ticket within 1.5 points, runtime = trainer", async () => {
    const report = await runPipeline({
      dataset: "cora",
      dataDir: rawDir,
      weightSparsity: 0.8,
      graphSparsity: 0.2,
      seed: 0,
      outDir: mkdtempSync(join(tmpdir(), "fastglt-cora-")),
      hidden: 512,
      epochs: 200,
      finetuneEpochs: 200,
      lr: 0.01,
      weightDecay: 5e-4,
      backend: "wasm",
      normalise: true,
      progress: silentProgress,
      log: () => {},
    });
    expect(report.graph).toEqual({ nodes: 2708, edges: 10556, features: 1433, classes: 7 });
    expect(report.dense.testAccuracy).toBeGreaterThanOrEqual(0.79);
    expect(report.ticket.testAccuracy).toBeGreaterThanOrEqual(report.dense.testAccuracy - 0.015);
    expect(report.ticket.weightSparsity).toBeCloseTo(0.8, 3);
    expect(report.ticket.graphSparsity).toBeCloseTo(0.2, 3);
    expect(report.runtime.samePredictions).toBe(true);
    expect(report.runtime.testAccuracy).toBe(report.ticket.testAccuracy);
    expect(report.runtime.maxRelativeLogitError).toBeLessThan(1e-4);
  }, 300_000);
});
