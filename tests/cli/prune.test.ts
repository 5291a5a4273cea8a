import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.js";
import { parsePruneArgs, runPrune } from "../../cli/prune.js";
import { silentProgress } from "../../trainer/util/progress.js";
import { decodeTicket } from "../../exporter/protobuf.js";
import { runCli } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";

const data = ["--dataset", "synthetic:nodes=240,features=40,classes=3", "--hidden", "16", "--quiet"];
const fast = ["--pretrain-epochs", "3", "--denoise-epochs", "12", "--retrain-epochs", "6", "--delta", "3", "--acc-n", "2"];

function json(stdout: string) {
  return JSON.parse(stdout);
}

function ticketArrays(file: string) {
  const t = decodeTicket(new Uint8Array(readFileSync(file)));
  return { graph: t.graph, layers: t.layers, meta: { ...t.meta, createdAt: "", trainingSeconds: 0 } };
}

describe("fastglt prune", () => {
  it("fastglt, joint graph + weight: --json report with the pipeline's field names, method and epochs; ticket, report file, no checkpoint left", () => {
    const out = mkdtempSync(join(tmpdir(), "prune-fastglt-"));
    const r = runCli(["prune", "--method", "fastglt", "--prune", "both", "--target-graph", "0.3", "--target-weight", "0.8", ...data, ...fast, "--seed", "2", "--out", out, "--json"]);
    expect(r.stderr).not.toMatch(/Error|    at /);
    expect(r.status).toBe(0);
    const rep = json(r.stdout);
    for (const k of ["dataset", "model", "seed", "method", "epochs", "wallClockSeconds", "graph", "ticket", "runtime", "denominators"]) expect(rep).toHaveProperty(k);
    expect(rep).toMatchObject({ status: "done", method: "fastglt", prune: "both", model: "gcn", seed: 2, epochs: 21, totalEpochs: 21 });
    for (const k of ["valAccuracy", "testAccuracy", "graphSparsity", "weightSparsity", "edgesKept", "edgesTotal", "weightsKept", "weightsTotal", "macsDense", "macsTicket", "file", "bytes"]) {
      expect(rep.ticket).toHaveProperty(k);
    }
    // joint runs keep the self-loops: the target is over the graph's edges
    expect(rep.ticket.graphSparsity).toBeGreaterThanOrEqual(0.29);
    expect(rep.ticket.edgesKeptWithSelfLoops - rep.ticket.edgesKept).toBe(rep.graph.nodes);
    expect(rep.options).toMatchObject({ pruneSelfLoops: false, oneShotEdgeScore: "saliency", edgeRegularisers: false, edgeWeightDecay: 0 });
    expect(rep.ticket.weightSparsity).toBeGreaterThanOrEqual(0.79);
    expect(rep.ticket.edgesTotalWithSelfLoops).toBe(rep.ticket.edgesTotal + rep.graph.nodes);
    expect(rep.ticket.macsTicket).toBeLessThan(rep.ticket.macsDense);
    expect(rep.denominators.graphSparsity).toMatch(new RegExp(`without self-loops \\(${rep.ticket.edgesTotal}\\)`));
    expect(rep.options).toMatchObject({ pretrainEpochs: 3, denoiseEpochs: 12, retrainEpochs: 6, delta: 3, accumulationN: 2, alpha: 0.3, pruneSelfLoops: false });
    expect(rep.runtime.samePredictions).toBe(true);
    expect(rep.runtime.testAccuracy).toBe(rep.ticket.testAccuracy);
    expect(json(readFileSync(rep.report, "utf8"))).toEqual(rep);
    const t = decodeTicket(new Uint8Array(readFileSync(rep.ticket.file)));
    expect(t.meta.method).toBe("fastglt");
    expect(t.meta.weightSparsity).toBeCloseTo(rep.ticket.weightSparsity, 6);
    expect(readdirSync(out).sort()).toEqual([`${rep.dataset}-gcn-fastglt-both-seed2.glt`, `${rep.dataset}-gcn-fastglt-both-seed2.json`]);
  });

  const inProcess = (args: string[]) => runPrune(parsePruneArgs(args, { progress: silentProgress, log: () => {} })!);

  it("ugs and oneshot runs report their rounds / epochs", async () => {
    const out = mkdtempSync(join(tmpdir(), "prune-ugs-"));
    const ur = await inProcess(["--method", "ugs", ...data, "--rounds", "2", "--mask-epochs", "4", "--fix-epochs", "3", "--out", out, "--history", join(out, "ugs.csv")]);
    expect(ur).toMatchObject({ method: "ugs", prune: "both", epochs: 14 });
    const rows = readFileSync(join(out, "ugs.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    expect(rows.map((r) => r[1])).toEqual(["mask", "fix", "mask", "fix"].flatMap((p, i) => Array(p === "mask" ? 4 : 3).fill(`round ${(i >> 1) + 1} ${p}`)));
    // the fix phases run with the round's pruned masks
    expect(Number(rows[13][8])).toBeCloseTo(1 - 0.8 ** 2, 2);
    expect(ur.rounds!.map((x) => x.round)).toEqual([1, 2]);
    expect(ur.ticket!.graphSparsity).toBeCloseTo(1 - 0.95 ** 2, 1);
    expect(ur.ticket!.weightSparsity).toBeCloseTo(1 - 0.8 ** 2, 2);
    expect(ur.options).toMatchObject({ lr: 0.008, weightDecay: 8e-5, s1: 0.01, s2: 0.01, pruneRateGraph: 0.05, pruneRateWeight: 0.2 });
    expect(ur.runtime!.samePredictions).toBe(true);

    const or = await inProcess(["--method", "oneshot", ...data, "--prune", "weight", "--target-weight", "0.7", "--epochs", "10", "--finetune-epochs", "5", "--out", out]);
    expect(or).toMatchObject({ method: "oneshot", prune: "weight", epochs: 15 });
    expect(or.ticket!.weightSparsity).toBeCloseTo(0.7, 2);
    expect(or.ticket!.graphSparsity).toBe(0);
  });

  it("--stop-after-epochs then --resume gives the ticket and the learning curve (--history) of an uninterrupted run", async () => {
    const args = ["--method", "fastglt", "--prune", "both", ...data, ...fast, "--seed", "5"];
    const a = mkdtempSync(join(tmpdir(), "prune-a-"));
    const full = await inProcess([...args, "--out", a, "--history", join(a, "curve.csv")]);
    const b = mkdtempSync(join(tmpdir(), "prune-b-"));
    const stopped = await inProcess([...args, "--out", b, "--stop-after-epochs", "7", "--history", join(b, "curve.csv")]);
    expect(stopped).toMatchObject({ status: "interrupted", epochs: 7, ticket: null });
    expect(existsSync(stopped.checkpoint!)).toBe(true);
    // a row the killed run wrote after its checkpoint (as if it died mid-way): the resumed run drops it
    appendFileSync(join(b, "curve.csv"), "8,denoise,1,0,0,0,0,0,0,1.000\n");
    const resumed = await inProcess([...args, "--out", b, "--resume", "--history", join(b, "curve.csv")]);
    for (const k of ["valAccuracy", "testAccuracy", "graphSparsity", "weightSparsity", "edgesKept", "weightsKept", "bestEpoch", "macsTicket"] as const) expect(resumed.ticket![k]).toBe(full.ticket![k]);
    expect(ticketArrays(resumed.ticket!.file)).toEqual(ticketArrays(full.ticket!.file));
    expect(existsSync(stopped.checkpoint!)).toBe(false);
    const curve = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => l.slice(0, l.lastIndexOf(",")));
    const [fc, rc] = [curve(join(a, "curve.csv")), curve(join(b, "curve.csv"))];
    expect(fc[0]).toBe("epoch,phase,loss,train_accuracy,val_accuracy,test_accuracy,graph_sparsity,graph_sparsity_with_self_loops,weight_sparsity");
    expect(fc.slice(1).map((l) => Number(l.split(",")[0]))).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(fc.slice(1).map((l) => l.split(",")[1])).toEqual([...Array(3).fill("pretrain"), ...Array(12).fill("denoise"), ...Array(6).fill("retrain")]);
    // every column but the seconds equals the uninterrupted run's, and the best epoch's row holds the ticket's accuracies
    expect(rc).toEqual(fc);
    const best = fc[full.ticket!.bestEpoch + 1].split(",");
    expect([Number(best[4]), Number(best[5])]).toEqual([full.ticket!.valAccuracy, full.ticket!.testAccuracy]);
  });

  it("Ctrl-C saves a checkpoint and exits with one line; --resume finishes the run", async () => {
    const out = mkdtempSync(join(tmpdir(), "prune-sigint-"));
    const args = ["prune", "--method", "fastglt", "--prune", "weight", "--target-weight", "0.8", "--dataset", "synthetic:nodes=240,features=40,classes=3", "--hidden", "16", "--pretrain-epochs", "2", "--denoise-epochs", "600", "--retrain-epochs", "0", "--out", out];
    const child = spawn(process.execPath, ["--import", "tsx", resolve(repoRoot, "cli/entry.ts"), ...args], { cwd: repoRoot });
    let stderr = "";
    const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    await new Promise<void>((ready, fail) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/one-shot/.test(stderr)) ready();
      });
      child.on("exit", () => fail(new Error(`exited before the denoising phase: ${stderr}`)));
    });
    child.kill("SIGINT");
    expect(await exit).toBe(1);
    const last = stderr.trim().split("\n").pop()!;
    expect(last).toMatch(/^fastglt prune: interrupted after epoch \d+ of 602; checkpoint saved to .*\.ckpt: continue with the same command and --resume$/);
    expect(stderr).not.toMatch(/    at /);
    const ckpt = readdirSync(out).filter((f) => f.endsWith(".ckpt"));
    expect(ckpt).toHaveLength(1);
    const rep = await inProcess([...args.slice(1), "--resume"]);
    expect(rep).toMatchObject({ status: "done", epochs: 602 });
    expect(existsSync(join(out, ckpt[0]))).toBe(false);
  }, 120_000);

  for (const model of ["gin", "gat"] as const) {
    it(`${model.toUpperCase()}, fastglt joint: a ${model} ticket whose runtime predictions equal the trainer's; self-loops never pruned`, async () => {
      const out = mkdtempSync(join(tmpdir(), `prune-${model}-`));
      const opts = parsePruneArgs(["--model", model, "--method", "fastglt", "--prune", "both", "--target-graph", "0.3", "--target-weight", "0.8", ...data, ...fast, "--backend", "cpu", "--out", out], { progress: silentProgress, log: () => {} })!;
      const rep = await runPrune(opts);
      expect(rep).toMatchObject({ status: "done", model, method: "fastglt" });
      expect(rep.ticket!.graphSparsity).toBeGreaterThanOrEqual(0.29);
      expect(rep.ticket!.weightSparsity).toBeGreaterThanOrEqual(0.79);
      expect(rep.ticket!.edgesKeptWithSelfLoops - rep.ticket!.edgesKept).toBe(rep.graph.nodes);
      expect(rep.runtime!.samePredictions).toBe(true);
      expect(rep.runtime!.maxRelativeLogitError).toBeLessThan(1e-4);
      const t = decodeTicket(new Uint8Array(readFileSync(rep.ticket!.file)));
      expect(t.meta.model).toBe(model);
      expect(t.layers.map((l) => l.kind)).toEqual([model, model]);
    }, 120_000);
  }

  it("rejects bad flags with a one-line error and a non-zero exit", async () => {
    const cases: [string[], RegExp][] = [
      [["prune", "--method", "imp"], /--method must be one of fastglt, ugs, oneshot/],
      [["prune", "--prune", "edges"], /--prune must be one of graph, weight, both/],
      [["prune", "--target-weight", "1.5"], /--target-weight must be < 1/],
      [["prune", "--model", "sage"], /--model must be one of gcn, gin, gat/],
      [["prune", "--model", "gin", "--normalisation", "renormalised"], /--normalisation is for the GCN/],
      [["prune", "--method", "fastglt", "--s1", "0.1", ...data], /--s1 does not apply to --method fastglt/],
      [["prune", "--method", "ugs", "--delta", "3", ...data], /--delta does not apply to --method ugs/],
      [["prune", ...data, "--delta", "3", "--acc-n", "3"], /--acc-n must be < --delta/],
      [["prune", ...data, "--backend", "cpu", "--resume", "--out", mkdtempSync(join(tmpdir(), "prune-none-"))], /--resume: no checkpoint at/],
      [["prune", "--method", "oneshot", "--history", "x.csv", ...data], /--history does not apply to --method oneshot/],
      [["prune", "--bogus"], /Unknown option '--bogus'/],
    ];
    // in-process through main(), which turns errors into one line on stderr (a spawn per case is slow)
    const write = process.stderr.write.bind(process.stderr);
    for (const [args, message] of cases) {
      let err = "";
      process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
      let code: number;
      try {
        code = await main(args);
      } finally {
        process.stderr.write = write;
      }
      expect(code, args.join(" ")).not.toBe(0);
      expect(err, args.join(" ")).toMatch(message);
      expect(err.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    // and through a real process once
    const r = runCli(["prune", "--seed", "x"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('fastglt prune: --seed must be a number, got "x"');
  });
});
