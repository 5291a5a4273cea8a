import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileAtomic, writeTicketFile } from "../../exporter/file.js";
import { decodeTicket, encodeTicket, openContainerVersioned } from "../../exporter/protobuf.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { compareLogitRows } from "../../ticket/compare-logits.js";
import type { Ticket } from "../../ticket/ticket.js";
import { loadDataset } from "../../trainer/data/load.js";
import { accuracy } from "../../trainer/metrics.js";
import { runCli } from "../helpers/cli.js";
import { onnxTicket, type OnnxTicketSpec } from "./onnx-fixtures.js";

const SPEC: OnnxTicketSpec = {
  seed: 41,
  numNodes: 157,
  inFeatures: 31,
  degree: 3,
  isolated: [4],
  layers: [
    { out: 16, density: 0.3, format: "csr" },
    { out: 5, density: 0.6, format: "dense", activation: "none" },
  ],
  featureDensity: 0.2,
};
// A seeded synthetic graph, and a (random-weight) ticket of its shapes without features.
const DATASET = "synthetic:nodes=300,classes=4,features=40,seed=3";

const dir = mkdtempSync(join(tmpdir(), "fastglt-quantize-cli-"));
const glt = join(dir, "model.glt");
const featureless = join(dir, "featureless.glt");
const forDataset = join(dir, "for-dataset.glt");
const huge = join(dir, "huge.glt");
let ticket: Ticket;
let datasetTicket: Ticket;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  ticket = onnxTicket(SPEC);
  await writeTicketFile(glt, ticket);
  await writeTicketFile(featureless, onnxTicket({ ...SPEC, featureDensity: null }));
  datasetTicket = onnxTicket({ ...SPEC, numNodes: 300, inFeatures: 40, layers: [{ out: 8, density: 0.4, format: "csr" }, { out: 4, density: 1, format: "dense", activation: "none" }], featureDensity: null });
  await writeTicketFile(forDataset, datasetTicket);
  const big = onnxTicket(SPEC);
  (big.layers[1].weight as { data: Float32Array }).data[7] = 1e6;
  await writeTicketFile(huge, big);
});

/** Exactly one line on stderr, and no stack trace. */
function oneLineError(stderr: string): string {
  expect(stderr).not.toMatch(/    at /);
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
}

const noTempFiles = () => expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);

describe("fastglt export --out: quantised .glt", () => {
  it("int8 weights, f16 coefficients, int8 features, delta sources: sizes and the accuracy change", () => {
    const out = join(dir, "small.glt");
    const r = runCli(["export", glt, "--out", out, "--weights", "int8", "--coef", "f16", "--features", "int8", "--graph-indices", "delta"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const before = readFileSync(glt).length;
    const after = readFileSync(out).length;
    const head = r.stdout.match(/^wrote (.*small\.glt): (\d+) bytes, format version 2 \((.*model\.glt): (\d+) bytes; (\d+\.\d\d)× smaller\)$/m);
    expect(head, r.stdout).not.toBeNull();
    expect(Number(head![2])).toBe(after);
    expect(Number(head![4])).toBe(before);
    expect(after).toBeLessThan(before / 1.5);
    expect(r.stdout).toMatch(/^ {2}weights int8, coefficients f16, features int8, graph sources delta$/m);
    expect(r.stdout).toMatch(/^ {2}layer 0 \(31×16 csr\)\s+\d+ B →\s+\d+ B {2}\((int8|f16)\)$/m);
    expect(r.stdout).toMatch(/^ {2}graph \(\d+ edges\)\s+\d+ B →\s+\d+ B {2}\(coef f16, sources (delta|fixed)\)$/m);
    expect(r.stdout).toMatch(/^ {2}features\s+\d+ B →\s+\d+ B {2}\(int8\)$/m);
    expect(r.stdout).toMatch(/^prediction agreement: \d+ of 157 nodes \(\d+\.\d\d%\)$/m);
    expect(r.stdout).toMatch(/^max row-relative logit change: \d\.\d\de[-+]\d+$/m);
    expect(r.stdout).not.toMatch(/test accuracy/);
    expect(openContainerVersioned(new Uint8Array(readFileSync(out))).version).toBe(2);
    noTempFiles();
  });

  it("--json: the numbers are those of the library (encodeTicket, referenceForward)", () => {
    const out = join(dir, "small.json.glt");
    const r = runCli(["export", glt, "--out", out, "--weights", "f16", "--json"]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    const bytes = encodeTicket(ticket, { weightValues: "f16" });
    expect(new Uint8Array(readFileSync(out))).toEqual(bytes);
    expect(j.output).toEqual({ file: out, bytes: bytes.length, formatVersion: 2 });
    expect(j.input).toEqual({ file: glt, bytes: readFileSync(glt).length, formatVersion: 1 });
    expect(j.options).toEqual({ weights: "f16", coef: "f32", features: "f32", graphIndices: "fixed" });
    const c = compareLogitRows(referenceForward(ticket), referenceForward(decodeTicket(bytes)), ticket.numClasses);
    expect(j.accuracy).toEqual({
      features: "ticket",
      nodes: 157,
      samePredictions: 157 - c.mismatchedNodes,
      agreement: (157 - c.mismatchedNodes) / 157,
      maxRelativeLogitChange: c.maxRelativeError,
      test: null,
    });
    expect(j.accuracy.maxRelativeLogitChange).toBeGreaterThan(0);
    expect(j.accuracy.maxRelativeLogitChange).toBeLessThan(1e-2);
    expect(j.parts.map((p: { part: string }) => p.part)).toEqual(["layer 0 (31×16 csr)", "layer 1 (16×5 dense)", expect.stringMatching(/^graph/), "features"]);
  });

  it("f32 (the default) is lossless: the same bytes, version 1, every prediction kept, no change", () => {
    const out = join(dir, "same.glt");
    const r = runCli(["export", glt, "--out", out]);
    expect(r.status).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(glt));
    expect(r.stdout).toMatch(/format version 1 \(.*; 1\.00× smaller\)/);
    expect(r.stdout).toMatch(/^prediction agreement: 157 of 157 nodes \(100\.00%\)$/m);
    expect(r.stdout).toMatch(/^max row-relative logit change: 0\.00e\+0$/m);
  });

  it("--features none leaves them out; the change is measured on the original features", () => {
    const out = join(dir, "nofeatures.glt");
    const r = runCli(["export", glt, "--out", out, "--weights", "int8", "--features", "none", "--json"]);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(decodeTicket(new Uint8Array(readFileSync(out))).features).toBeNull();
    expect(j.parts.at(-1)).toMatchObject({ part: "features", after: 0, stored: "left out" });
    expect(j.accuracy.nodes).toBe(157);
  });

  it("a ticket without features: sizes only, or with --dataset its features, labels and test split", async () => {
    const r = runCli(["export", featureless, "--out", join(dir, "fl.glt"), "--weights", "int8"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^accuracy change: not measured \(the ticket has no features: pass --dataset to measure it\)$/m);

    const out = join(dir, "ds.glt");
    const d = runCli(["export", forDataset, "--out", out, "--weights", "int8", "--dataset", DATASET]);
    expect(d.stderr).toBe("");
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/^prediction agreement: \d+ of 300 nodes \(\d+\.\d\d%\), on the dataset's features$/m);
    const m = d.stdout.match(/^test accuracy \((.+), (\d+) nodes\): (\d+\.\d\d)% → (\d+\.\d\d)% \(([+−])(\d+\.\d\d) points\)$/m);
    expect(m, d.stdout).not.toBeNull();
    // the same numbers in-process
    const g = await loadDataset(DATASET);
    const f = g.features;
    const x = f.kind === "csr" ? { rows: f.rows, cols: f.cols, rowPtr: f.rowPtr, colIdx: f.colIdx, values: f.values } : { rows: f.rows, cols: f.cols, data: f.data };
    const before = accuracy(referenceForward(datasetTicket, x), 4, g.labels, g.testIdx);
    const after = accuracy(referenceForward(decodeTicket(new Uint8Array(readFileSync(out))), x), 4, g.labels, g.testIdx);
    expect(m![1]).toBe(g.name);
    expect(Number(m![2])).toBe(g.testIdx.length);
    expect(m![3]).toBe((100 * before).toFixed(2));
    expect(m![4]).toBe((100 * after).toFixed(2));
  });

  it("bad flags, files and datasets: one line on stderr, non-zero exit, nothing written", () => {
    const x = join(dir, "x.glt");
    const cases: [string[], number, RegExp][] = [
      [["export", glt, "--out", x, "--weights", "int9"], 2, /^fastglt export: --weights must be f32, f16 or int8, got "int9"$/],
      [["export", glt, "--out", x, "--coef", "int8"], 2, /^fastglt export: --coef must be f32 or f16, got "int8"$/],
      [["export", glt, "--out", x, "--features", "f64"], 2, /^fastglt export: --features must be f32, f16, int8 or none, got "f64"$/],
      [["export", glt, "--out", x, "--graph-indices", "varint"], 2, /^fastglt export: --graph-indices must be fixed or delta, got "varint"$/],
      [["export", glt, "--out", x, "--onnx", join(dir, "x.onnx")], 2, /^fastglt export: give either --onnx FILE or --out FILE, not both$/],
      [["export", glt, "--onnx", join(dir, "x.onnx"), "--weights", "int8"], 2, /^fastglt export: --weights is for \.glt export \(--out\), not for --onnx$/],
      [["export", glt, "--out", x, "--sparse-initializers"], 2, /^fastglt export: --sparse-initializers is for ONNX export \(--onnx\), not for --out$/],
      [["export", glt, "--out", x, "--data-dir", dir], 2, /^fastglt export: --data-dir needs --dataset$/],
      [["export", huge, "--out", x, "--weights", "f16"], 1, /^fastglt export: layers\[1\]\.weight\.values: entry \d+ = 1000000 is outside the f16 range \(\|x\| ≤ 65504\): store these values as f32 or int8$/],
      [["export", glt, "--out", x, "--dataset", DATASET], 1, /^fastglt export: dataset .* has 300 nodes and 40 features, the ticket 157 nodes and 31 features: not its dataset$/],
      [["export", join(dir, "missing.glt"), "--out", x], 1, /^fastglt export: ENOENT/],
      [["export", glt, "--out", join(dir, "no", "such", "dir", "x.glt"), "--weights", "int8"], 1, /^fastglt export: ENOENT/],
    ];
    for (const [args, status, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(" ")).toBe(status);
      expect(oneLineError(r.stderr), args.join(" ")).toMatch(message);
    }
    expect(existsSync(x)).toBe(false);
    noTempFiles();
    // the f16 range error names the fix; int8 takes the same weights
    expect(runCli(["export", huge, "--out", x, "--weights", "int8"]).status).toBe(0);
  });

  it("--help describes both forms", () => {
    const h = runCli(["export", "--help"]).stdout;
    expect(h).toMatch(/--out VALUE/);
    expect(h).toMatch(/--weights VALUE\s+\.glt: layer weights as f32 \(lossless\) \| f16 \| int8/);
    expect(h).toMatch(/--sparse-initializers/);
  });
});

describe("writeFileAtomic", () => {
  it("replaces a file in one step and leaves no temporary file; a failed write leaves nothing", async () => {
    const sub = mkdtempSync(join(dir, "atomic-"));
    const path = join(sub, "f.bin");
    writeFileSync(path, "old");
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(sub)).toEqual(["f.bin"]);
    await expect(writeFileAtomic(join(sub, "missing", "g.bin"), new Uint8Array(1))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(sub)).toEqual(["f.bin"]);
  });
});
