import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTicketFile } from "../../exporter/file.js";
import { summarizeOnnx } from "../../exporter/onnx.js";
import { runCli } from "../helpers/cli.js";
import { onnxTicket, type OnnxTicketSpec } from "./onnx-fixtures.js";

const SPEC: OnnxTicketSpec = {
  seed: 21,
  numNodes: 157,
  inFeatures: 31,
  degree: 3,
  isolated: [4],
  layers: [
    { out: 16, density: 0.2, format: "csr" },
    { out: 5, density: 0.5, format: "dense", activation: "none" },
  ],
  featureDensity: 0.2,
};

const dir = mkdtempSync(join(tmpdir(), "fastglt-onnx-cli-"));
const glt = join(dir, "model.glt");
const other = join(dir, "other.glt");
const featureless = join(dir, "featureless.glt");
const gat = join(dir, "gat.glt");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await writeTicketFile(glt, onnxTicket(SPEC));
  await writeTicketFile(other, onnxTicket({ ...SPEC, seed: 22 })); // same shapes, other weights and graph
  await writeTicketFile(featureless, onnxTicket({ ...SPEC, featureDensity: null }));
  await writeTicketFile(
    gat,
    onnxTicket({
      ...SPEC,
      zeroCoefFraction: 0.1,
      layers: [
        { kind: "gat", gat: { heads: 3, headFeatures: 4, concat: true }, out: 12, density: 0.3, format: "csr", activation: "elu" },
        { kind: "gat", gat: { heads: 2, headFeatures: 5, concat: false }, out: 5, density: 0.8, format: "dense", activation: "none" },
      ],
    }),
  );
});

/** Exactly one line on stderr, and no stack trace. */
function oneLineError(stderr: string): string {
  expect(stderr).not.toMatch(/    at /);
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
}

describe("fastglt export / verify", () => {
  it("exports a .glt to ONNX and verifies it (default form)", () => {
    const onnx = join(dir, "model.onnx");
    const e = runCli(["export", glt, "--onnx", onnx]);
    expect(e.stderr).toBe("");
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/^wrote .*model\.onnx: \d+ bytes, opset 18, message passing gather/);
    const s = summarizeOnnx(new Uint8Array(readFileSync(onnx)));
    expect(s.opset).toBe(18);
    expect(s.inputs).toEqual(["x"]);
    const v = runCli(["verify", onnx, "--ticket", glt]);
    expect(v.stderr).toBe("");
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/max relative error\s+\d\.\d\de[-+]\d+ \(row-wise, tolerance 0\.0001\)/);
    expect(v.stdout).toMatch(/same predictions\s+yes \(157 nodes\)/);
    expect(v.stdout).toMatch(/ONNX Runtime\s+\d+\.\d\d ms per run \(median of 5\), intra-op threads default/);
  });

  it("--graph-as-input --sparse-initializers --opset 17, and --json", () => {
    const onnx = join(dir, "model-gai.onnx");
    const e = runCli(["export", glt, "--onnx", onnx, "--graph-as-input", "--sparse-initializers", "--opset", "17"]);
    expect(e.status).toBe(0);
    expect(e.stdout).toMatch(/opset 17, message passing scatter-elements, edge list as inputs/);
    const s = summarizeOnnx(new Uint8Array(readFileSync(onnx)));
    expect(s.opset).toBe(17);
    expect(s.inputs).toEqual(["x", "edge_src", "edge_dst", "edge_coef"]);
    expect(s.sparseInitializers).toBe(1);
    const v = runCli(["verify", onnx, "--ticket", glt, "--json", "--runs", "2"]);
    expect(v.status).toBe(0);
    const r = JSON.parse(v.stdout);
    expect(r.ok).toBe(true);
    expect(r.samePredictions).toBe(true);
    expect(r.maxRelativeError).toBeLessThanOrEqual(1e-4);
    expect(r.threads).toBe(0);
    expect(r).not.toHaveProperty("logits");
  });

  it("a GAT ticket exports and verifies", () => {
    const onnx = join(dir, "gat.onnx");
    const e = runCli(["export", gat, "--onnx", onnx]);
    expect(e.stderr).toBe("");
    expect(e.status).toBe(0);
    expect(summarizeOnnx(new Uint8Array(readFileSync(onnx))).ops.Softmax).toBeGreaterThan(0);
    const v = runCli(["verify", onnx, "--ticket", gat, "--json", "--runs", "1"]);
    expect(v.status).toBe(0);
    const r = JSON.parse(v.stdout);
    expect([r.ok, r.samePredictions]).toEqual([true, true]);
    expect(r.maxRelativeError).toBeLessThanOrEqual(1e-4);
  });

  it("scatter-nd models are verified on one thread", () => {
    const onnx = join(dir, "model-nd.onnx");
    expect(runCli(["export", glt, "--onnx", onnx, "--message-passing", "scatter-nd"]).status).toBe(0);
    const v = runCli(["verify", onnx, "--ticket", glt]);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/intra-op threads 1/);
  });

  it("exits 1 with one line when the model does not match the ticket", () => {
    const onnx = join(dir, "other.onnx");
    expect(runCli(["export", other, "--onnx", onnx]).status).toBe(0);
    const v = runCli(["verify", onnx, "--ticket", glt]);
    expect(v.status).toBe(1);
    expect(v.stdout).toMatch(/same predictions\s+NO \(\d+ of 157 nodes differ\)/);
    expect(oneLineError(v.stderr)).toMatch(/^fastglt verify: .*other\.onnx does not match .*model\.glt: \d+ predictions differ/);
  });

  it("bad files and flags: one line on stderr, non-zero exit, no stack trace", () => {
    const garbage = join(dir, "garbage.onnx");
    writeFileSync(garbage, Buffer.from("this is not a protobuf at all, just some text\n"));
    const onnx = join(dir, "model.onnx");
    if (!existsSync(onnx)) expect(runCli(["export", glt, "--onnx", onnx]).status).toBe(0);
    const cases: [string[], number, RegExp][] = [
      [["verify", garbage, "--ticket", glt], 1, /^fastglt verify: .*garbage\.onnx: not an ONNX model \(ModelProto/],
      [["verify", glt, "--ticket", glt], 1, /^fastglt verify: .*model\.glt: not an ONNX model/],
      [["verify", onnx, "--ticket", garbage], 1, /^fastglt verify: .*garbage\.onnx: header: not a \.glt file/],
      [["verify", onnx, "--ticket", featureless], 1, /^fastglt verify: the ticket has no features/],
      [["verify", join(dir, "missing.onnx"), "--ticket", glt], 1, /^fastglt verify: ENOENT: no such file or directory/],
      [["verify", onnx], 2, /^fastglt verify: --ticket FILE is required/],
      [["verify", onnx, "--ticket", glt, "--threads", "0"], 2, /^fastglt verify: --threads must be ≥ 1/],
      [["export", garbage, "--onnx", join(dir, "x.onnx")], 1, /^fastglt export: .*garbage\.onnx: header: not a \.glt file/],
      [["export", glt], 2, /^fastglt export: --onnx FILE is required/],
      [["export", glt, "--onnx", join(dir, "x.onnx"), "--opset", "16"], 2, /^fastglt export: --opset must be 17 or 18, got 16/],
      [["export", glt, "--onnx", join(dir, "x.onnx"), "--message-passing", "dense"], 2, /^fastglt export: --message-passing must be one of gather, scatter-elements, scatter-nd/],
      [["export", glt, "--onnx", join(dir, "x.onnx"), "--graph-as-input", "--message-passing", "gather"], 2, /cannot be combined with --graph-as-input/],
      [["export", glt, "--onnx", join(dir, "no", "such", "dir", "x.onnx")], 1, /^fastglt export: ENOENT/],
      [["export", gat, "--onnx", join(dir, "x.onnx"), "--graph-as-input"], 1, /^fastglt export: a GAT ticket cannot be exported with graphAsInput/],
    ];
    for (const [args, status, message] of cases) {
      const r = runCli(args);
      expect(r.status, args.join(" ")).toBe(status);
      expect(oneLineError(r.stderr), args.join(" ")).toMatch(message);
    }
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
  });

  it("--help for both, and both listed in the command table", () => {
    expect(runCli(["export", "--help"]).stdout).toMatch(/--sparse-initializers/);
    expect(runCli(["verify", "--help"]).stdout).toMatch(/--ticket VALUE/);
    const usage = runCli(["--help"]).stdout;
    expect(usage).toMatch(/^\s+export\s+convert a \.glt ticket to an ONNX model/m);
    expect(usage).toMatch(/^\s+verify\s+run an ONNX model in onnxruntime-node/m);
  });
});
