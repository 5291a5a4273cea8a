// `fastglt run model.glt`: predictions for all nodes or a node query, features from .npy/.csv,
// profiles, and one-line errors for bad models and bad queries.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeTicket } from "../../exporter/protobuf.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { csrToDense } from "../../ticket/csr.js";
import type { Ticket } from "../../ticket/ticket.js";
import { runCli } from "../helpers/cli.js";
import { trainedTicketBytes, trainedTicketFile } from "../runtime/trained.js";

/** A little-endian float32 C-order .npy file. */
function npy(rows: number, cols: number, data: Float32Array): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

function argmax(row: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[b]) b = i;
  return b;
}

/** Max over rows of max_c |a − b| / max(max_c |b|, 1e-3). */
function rowErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 1e-3;
  for (let j = 0; j < b.length; j++) {
    d = Math.max(d, Math.abs(a[j] - b[j]));
    s = Math.max(s, Math.abs(b[j]));
  }
  return d / s;
}

function expectOneLineError(r: { status: number | null; stderr: string }, re: RegExp, label: string): void {
  expect(r.status, label).not.toBe(0);
  expect(r.status, label).not.toBeNull();
  expect(r.stderr, label).toMatch(re);
  expect(r.stderr.trim().split("\n").length, `${label}: ${r.stderr}`).toBe(1);
  expect(r.stderr, label).not.toMatch(/    at |Error:/);
}

describe("fastglt run", () => {
  let file: string;
  let ticket: Ticket;
  let expected: Float32Array;
  let dir: string;
  const C = 4;

  beforeAll(async () => {
    file = await trainedTicketFile();
    ticket = decodeTicket(await trainedTicketBytes());
    expected = referenceForward(ticket);
    dir = mkdtempSync(join(tmpdir(), "fastglt-run-"));
  }, 300_000);

  it("--nodes with --json: the logits of those nodes; all nodes with --top: class and score", () => {
    const r = runCli(["run", file, "--nodes", "5,0,599,5,10-12", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toMatchObject({ nodes: 600, features: 120, classes: 4 });
    expect(out.query).toBe("nodes");
    const ids = [5, 0, 599, 5, 10, 11, 12];
    expect(out.predictions.map((p: { node: number }) => p.node)).toEqual(ids);
    ids.forEach((v, p) => {
      const want = expected.subarray(v * C, v * C + C);
      expect(rowErr(out.predictions[p].logits, want)).toBeLessThan(1e-5);
      expect(out.predictions[p].class).toBe(argmax(want));
    });

    const all = runCli(["run", file, "--top", "--json"]);
    expect(all.status).toBe(0);
    const a = JSON.parse(all.stdout);
    expect(a.query).toBe("all");
    expect(a.predictions.length).toBe(600);
    for (const p of a.predictions) {
      expect(p.logits).toBeUndefined();
      expect(p.class).toBe(argmax(expected.subarray(p.node * C, p.node * C + C)));
      expect(p.score).toBeGreaterThanOrEqual(0.25);
      expect(p.score).toBeLessThanOrEqual(1);
    }

    const text = runCli(["run", file, "--nodes", "3,4", "--top"]);
    expect(text.status).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines[0]).toBe("node\tclass\tscore");
    expect(lines.slice(1).map((l) => l.split("\t").slice(0, 2).map(Number))).toEqual([3, 4].map((v) => [v, argmax(expected.subarray(v * C, v * C + C))]));
  });

  it("--features: per-query rows (.npy) for a node query, all rows (.csv) for every node", () => {
    const x = csrToDense(ticket.features!).data.slice();
    const rows = new Float32Array(2 * 120);
    for (let i = 0; i < rows.length; i++) rows[i] = (i * 7919) % 13 === 0 ? 0.25 : 0;
    const q = join(dir, "query.npy");
    writeFileSync(q, npy(2, 120, rows));
    x.set(rows.subarray(0, 120), 7 * 120);
    x.set(rows.subarray(120), 300 * 120);
    const want = referenceForward(ticket, x);
    const r = runCli(["run", file, "--nodes", "7,300", "--features", q, "--json"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    [7, 300].forEach((v, p) => expect(rowErr(out.predictions[p].logits, want.subarray(v * C, v * C + C))).toBeLessThan(1e-5));

    const csv = join(dir, "all.csv");
    const lines = [Array.from({ length: 120 }, (_, c) => `f${c}`).join(",")];
    for (let v = 0; v < 600; v++) lines.push(Array.from(x.subarray(v * 120, (v + 1) * 120), (z) => String(z)).join(","));
    writeFileSync(csv, lines.join("\n") + "\n");
    const all = runCli(["run", file, "--features", csv, "--json", "--top"]);
    expect(all.stderr).toBe("");
    const a = JSON.parse(all.stdout);
    expect(a.predictions.length).toBe(600);
    let agree = 0;
    for (const p of a.predictions) if (p.class === argmax(want.subarray(p.node * C, p.node * C + C))) agree++;
    expect(agree).toBeGreaterThanOrEqual(599); // a near-tie may flip under float rounding
    // all rows given, a few nodes asked for
    const some = JSON.parse(runCli(["run", file, "--features", csv, "--nodes", "7,300", "--json"]).stdout);
    [7, 300].forEach((v, p) => expect(rowErr(some.predictions[p].logits, want.subarray(v * C, v * C + C))).toBeLessThan(1e-5));
  });

  it("--profile: per-layer time and executed MACs next to the ticket's", () => {
    const r = runCli(["run", file, "--profile", "--json", "--top"]);
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout).profile;
    expect(p.nodes).toBeNull();
    expect(p.layers.length).toBe(2);
    expect(p.ticketMacs).toBe(ticket.meta.macsTicket);
    expect(p.executedMacs).toBeLessThan(p.ticketMacs);
    for (const l of p.layers) {
      expect(l.ms).toBeGreaterThan(0);
      expect(l.executedMacs).toBeGreaterThan(0);
      expect(l.steps.length).toBe(2);
    }
    const q = JSON.parse(runCli(["run", file, "--nodes", "1", "--profile", "--json"]).stdout).profile;
    expect(q.nodes).toBe(1);
    expect(q.executedMacs).toBeLessThan(p.executedMacs / 10);
    const text = runCli(["run", file, "--nodes", "1,2", "--profile"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/layer\s+rows\s+kernels\s+time ms\s+executed MACs\s+ticket MACs/);
    expect(text.stdout).toMatch(/total .*query of 2 node\(s\)/);
  });

  it("bad models and bad queries: a one-line error and a non-zero exit", async () => {
    const bytes = await trainedTicketBytes();
    const truncated = join(dir, "truncated.glt");
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const flipped = join(dir, "flipped.glt");
    const f = bytes.slice();
    f[f.length >> 1] ^= 0x10;
    writeFileSync(flipped, f);
    const empty = join(dir, "empty.glt");
    writeFileSync(empty, new Uint8Array(0));
    const narrow = join(dir, "narrow.npy");
    writeFileSync(narrow, npy(1, 119, new Float32Array(119)));
    const badCsv = join(dir, "bad.csv");
    writeFileSync(badCsv, "1,2,x\n");
    const cases: [string[], RegExp][] = [
      [["run", file, "--nodes", "600"], /node 600 is out of range: .* has 600 nodes/],
      [["run", file, "--nodes", "1,-2"], /"-2" is not a node id/],
      [["run", file, "--nodes", "abc"], /"abc" is not a node id/],
      [["run", file, "--nodes", "1", "--features", narrow], /119 features per row, the model reads 120/],
      [["run", file, "--features", narrow], /119 features per row/],
      [["run", file, "--nodes", "1", "--features", badCsv], /"x" is not a number/],
      [["run", file, "--nodes", "1", "--features", join(dir, "missing.npy")], /cannot read features file .*missing\.npy: no such file/],
      [["run", file, "--nodes", "1", "--features", join(dir, "truncated.glt")], /neither \.npy nor \.csv/],
      [["run", join(dir, "missing.glt")], /cannot read .*missing\.glt: no such file/],
      [["run", dir], /is a directory/],
      [["run", "README.md"], /README\.md: header: not a \.glt file/],
      [["run", truncated], /truncated\.glt: .*truncated/],
      [["run", flipped], /flipped\.glt: container: checksum mismatch/],
      [["run", empty], /empty\.glt: header: truncated/],
      [["run"], /missing the model file/],
      [["run", file, file], /expected one model file/],
      [["run", file, "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, re] of cases) expectOneLineError(runCli(args), re, args.join(" "));
  });
});
