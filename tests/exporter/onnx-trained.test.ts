import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runPipeline, type PipelineReport } from "../../cli/pipeline.js";
import { readTicketFile } from "../../exporter/file.js";
import { summarizeOnnx, ticketToOnnx } from "../../exporter/onnx.js";
import { verifyOnnx } from "../../exporter/verify.js";
import type { Ticket } from "../../ticket/ticket.js";
import { loadDataset } from "../../trainer/data/load.js";
import { accuracy } from "../../trainer/metrics.js";
import { silentProgress } from "../../trainer/util/progress.js";

const DATASET = "synthetic:nodes=600,features=120,classes=4";
const out = mkdtempSync(join(tmpdir(), "fastglt-onnx-trained-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("a trained ticket (pipeline on a small synthetic graph) exported to ONNX", () => {
  let report: PipelineReport;
  let ticket: Ticket;

  it("trains", async () => {
    report = await runPipeline({
      dataset: DATASET,
      weightSparsity: 0.8,
      graphSparsity: 0.2,
      seed: 2,
      outDir: out,
      hidden: 32,
      epochs: 30,
      finetuneEpochs: 20,
      lr: 0.01,
      weightDecay: 5e-4,
      backend: "auto",
      normalise: true,
      progress: silentProgress,
      log: () => {},
    });
    // runPipeline starts writing the .glt without awaiting it: wait for the complete file
    for (let i = 0; ; i++) {
      try {
        ticket = await readTicketFile(report.ticket.file);
        break;
      } catch (e) {
        if (i >= 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(ticket.features).not.toBeNull();
    expect(ticket.meta.weightSparsity).toBeCloseTo(0.8, 2);
  });

  for (const [name, opts] of [
    ["dense initializers", {}],
    ["sparse initializers", { sparseInitializers: true }],
    ["graph as input, opset 17", { graphAsInput: true, opset: 17 }],
    ["scatter-nd", { messagePassing: "scatter-nd" }],
  ] as const) {
    it(`verifies: ${name}`, async () => {
      const bytes = ticketToOnnx(ticket, opts);
      const r = await verifyOnnx(bytes, ticket, { runs: 2 });
      expect(r.maxRelativeError).toBeLessThanOrEqual(1e-4);
      expect(r.samePredictions).toBe(true);
      if ("sparseInitializers" in opts) expect(summarizeOnnx(bytes).sparseInitializers).toBe(2); // 80% sparse: both layers
      // ONNX Runtime's predictions give exactly the trainer's ticket test accuracy
      const graph = await loadDataset(DATASET, { seed: 2, normalise: true });
      expect(accuracy(r.logits, graph.numClasses, graph.labels, graph.testIdx)).toBe(report.ticket.testAccuracy);
    });
  }
});
