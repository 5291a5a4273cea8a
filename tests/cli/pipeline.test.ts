import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeTicket } from "../../exporter/protobuf.js";
import { runCli } from "../helpers/cli.js";

const small = ["--dataset", "synthetic:nodes=600,features=120,classes=4", "--hidden", "32", "--epochs", "40", "--finetune-epochs", "30"];

describe("fastglt pipeline", () => {
  it("trains, prunes, exports and runs a ticket whose runtime predictions equal the trainer's (--json)", () => {
    const out = mkdtempSync(join(tmpdir(), "fastglt-pipeline-"));
    const r = runCli(["pipeline", ...small, "--weight-sparsity", "0.8", "--graph-sparsity", "0.2", "--seed", "3", "--out", out, "--json"]);
    expect(r.stderr).not.toMatch(/Error:|    at /);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const key of ["dataset", "model", "seed", "wallClockSeconds"]) expect(report).toHaveProperty(key);
    expect(report.model).toBe("gcn");
    expect(report.seed).toBe(3);
    for (const f of [report.dense.testAccuracy, report.ticket.testAccuracy, report.runtime.testAccuracy, report.ticket.graphSparsity, report.ticket.weightSparsity]) {
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThanOrEqual(1);
    }
    // the learnt model is far better than chance (4 classes)
    expect(report.dense.testAccuracy).toBeGreaterThan(0.5);
    expect(report.ticket.weightSparsity).toBeCloseTo(0.8, 2);
    expect(report.ticket.graphSparsity).toBeCloseTo(0.2, 2);
    expect(report.ticket.macsTicket).toBeLessThan(report.ticket.macsDense);
    // the runtime's own logits give exactly the trainer's ticket accuracy
    expect(report.runtime.samePredictions).toBe(true);
    expect(report.runtime.testAccuracy).toBe(report.ticket.testAccuracy);
    expect(report.runtime.maxRelativeLogitError).toBeLessThan(1e-4);
    expect(report.runtime.latencyMs).toBeGreaterThan(0);
    expect(existsSync(report.ticket.file)).toBe(true);
    const bytes = readFileSync(report.ticket.file);
    expect(bytes.length).toBe(report.ticket.bytes);
    const ticket = decodeTicket(new Uint8Array(bytes));
    expect(ticket.meta.weightSparsity).toBeCloseTo(report.ticket.weightSparsity, 6);
    expect(ticket.meta.testAccuracy).toBe(report.ticket.testAccuracy);
  });

  it("rejects bad flags with a one-line error and a non-zero exit", () => {
    const cases: [string[], RegExp][] = [
      [["pipeline", "--weight-sparsity", "1.5"], /--weight-sparsity must be < 1/],
      [["pipeline", "--seed", "x"], /--seed must be a number/],
      [["pipeline", "--bogus"], /Unknown option '--bogus'/],
      [["pipeline", "--dataset", "/no/such/folder", "--epochs", "1"], /no\/such\/folder/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(" ")).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/    at /);
    }
  });
});
