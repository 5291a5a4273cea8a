import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import zlib from "node:zlib";
import protobuf from "protobufjs";
import { afterAll, describe, expect, it } from "vitest";
import { readTicketFile, writeTicketFile } from "../../exporter/file.js";
import * as S from "../../exporter/generated/ticket-schema.js";
import {
  GLT_FORMAT_VERSION,
  crc32,
  decodeTicket,
  encodeTicket,
  openContainer,
  sealPayload,
  ticketToMessage,
  TicketFormatError,
  type EncodeOptions,
} from "../../exporter/protobuf.js";
import { formatTicketByteSummary, summarizeTicketBytes } from "../../exporter/ticket-summary.js";
import type { Ticket } from "../../ticket/ticket.js";
import { repoRoot } from "../helpers/paths.js";
import { bits, randomTicket, withDenseWeights, type TicketSpec } from "./helpers.js";

const SPECS: Record<string, TicketSpec> = {
  // 7 nodes (not a multiple of 4), nodes without in-edges, an all-pruned-rows CSR layer, a fully dense one
  awkward: {
    seed: 1,
    numNodes: 7,
    avgDegree: 2,
    inFeatures: 13,
    layers: [
      { out: 9, density: 0.3, format: "csr", emptyRowFraction: 0.5 },
      { out: 5, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.2,
  },
  // a fully pruned layer (nnz 0), no features, no biases, three layers
  pruned: {
    seed: 2,
    numNodes: 33,
    avgDegree: 3,
    inFeatures: 17,
    layers: [
      { out: 11, density: 0, format: "csr", bias: false },
      { out: 6, density: 0.5, format: "dense", bias: false },
      { out: 3, density: 0.9, format: "csr", bias: false, activation: "none" },
    ],
    featureDensity: null,
  },
  // an all-zero dense layer and a fully dense CSR layer
  zeros: {
    seed: 3,
    numNodes: 1,
    avgDegree: 1,
    inFeatures: 3,
    layers: [
      { out: 4, density: 0, format: "dense" },
      { out: 2, density: 1, format: "csr" },
    ],
    featureDensity: 1,
  },
  // GIN (ELU, empty weight rows) then GCN in one ticket: one family, format version 2
  gin: {
    seed: 6,
    numNodes: 9,
    avgDegree: 2,
    inFeatures: 11,
    layers: [
      { kind: "gin", out: 7, density: 0.4, format: "csr", emptyRowFraction: 0.4, activation: "elu" },
      { kind: "gin", out: 4, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.3,
  },
  // GAT: 3 heads of 5 concatenated (CSR, empty rows, ELU) then averaged (dense, no bias, slope 1/3);
  // nodes without in-edges and edges with coefficient 0 or −0
  gat: {
    seed: 37,
    numNodes: 13,
    avgDegree: 2,
    inFeatures: 10,
    layers: [
      { kind: "gat", gat: { heads: 3, headFeatures: 5, concat: true }, out: 15, density: 0.3, format: "csr", emptyRowFraction: 0.4, activation: "elu" },
      { kind: "gat", gat: { heads: 3, headFeatures: 5, concat: false, negativeSlope: 1 / 3 }, out: 5, density: 0.8, format: "dense", bias: false, activation: "none" },
    ],
    featureDensity: 0.25,
  },
  // GAT with a fully pruned one-head layer, one wide head averaged, no features
  gatPruned: {
    seed: 8,
    numNodes: 6,
    avgDegree: 1,
    inFeatures: 4,
    layers: [
      { kind: "gat", gat: { heads: 1, headFeatures: 3, concat: true }, out: 3, density: 0, format: "csr" },
      { kind: "gat", gat: { heads: 2, headFeatures: 2, concat: false, negativeSlope: 0 }, out: 2, density: 1, format: "csr", activation: "none" },
    ],
    featureDensity: null,
  },
  // > 65535 nodes: graph col indices need u32, row pointers u32 too (> 65535 edges)
  big: {
    seed: 4,
    numNodes: 70_001,
    avgDegree: 2,
    inFeatures: 70_000,
    layers: [
      { out: 3, density: 0.001, format: "csr" },
      { out: 2, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.00002,
  },
  // > 65535 nodes but few edges: u16 row pointers, u32 column indices
  bigSparse: {
    seed: 5,
    numNodes: 66_000,
    avgDegree: 1,
    inFeatures: 8,
    layers: [{ out: 4, density: 0.5, format: "csr" }],
    featureDensity: 0.1,
  },
};

function ticket(name: string): Ticket {
  return randomTicket(SPECS[name]);
}

describe("round trip", () => {
  for (const name of Object.keys(SPECS)) {
    for (const indexEncoding of ["auto", "fixed", "u32"] as const) {
      it(`${name}, weights as in memory, indices ${indexEncoding}: bit-exact`, () => {
        const t = ticket(name);
        const bytes = encodeTicket(t, { weightFormat: "keep", indexEncoding });
        const d = decodeTicket(bytes);
        expect(bits(d)).toEqual(bits(t));
        expect(d.graph.rowPtr).toBeInstanceOf(Int32Array);
        expect(d.graph.coef).toBeInstanceOf(Float32Array);
      });
    }
    it(`${name}, automatic weight format: same values, smaller file`, () => {
      const t = ticket(name);
      const auto = encodeTicket(t);
      const d = decodeTicket(auto);
      expect(bits(withDenseWeights(d))).toEqual(bits(withDenseWeights(t)));
      expect(auto.length).toBeLessThanOrEqual(encodeTicket(t, { weightFormat: "keep" }).length);
    });
  }

  it("the GAT fixture is awkward: isolated nodes, nodes without in-edges, zero coefficients, empty weight rows", () => {
    const t = ticket("gat");
    const g = t.graph;
    const inDeg = (v: number) => g.rowPtr[v + 1] - g.rowPtr[v];
    const hasOut = new Set(g.colIdx);
    expect([...Array(g.numNodes).keys()].filter((v) => inDeg(v) === 0 && !hasOut.has(v)).length).toBeGreaterThan(0);
    expect(g.coef.some((c) => c === 0)).toBe(true);
    const w = t.layers[0].weight;
    expect(w.format === "csr" && [...Array(w.rows).keys()].some((r) => w.rowPtr[r] === w.rowPtr[r + 1])).toBe(true);
    expect(t.layers.map((l) => [l.kind, l.attention?.heads, l.attention?.headFeatures, l.attention?.concat, l.weight.cols])).toEqual([
      ["gat", 3, 5, true, 15],
      ["gat", 3, 5, false, 15],
    ]);
  });

  it("GIN, GAT and ELU files are format version 2 (a version-1 decoder rejects them by the header); GCN with ReLU stays 1", () => {
    const version = (t: Ticket) => new DataView(encodeTicket(t).buffer).getUint32(4, true);
    expect(version(ticket("awkward"))).toBe(1);
    expect(version(ticket("gin"))).toBe(2);
    expect(version(ticket("gat"))).toBe(2);
    const elu = ticket("awkward");
    elu.layers[1].activation = "elu";
    expect(version(elu)).toBe(2);
    const gin = ticket("awkward");
    gin.layers[0].kind = "gin";
    expect(version(gin)).toBe(2);
  });

  it("picks the index widths that fit", () => {
    const widths = (t: Ticket, opts: EncodeOptions = {}) => {
      const g = ticketToMessage(t, opts).graph!;
      return [g.rowPtr!.encoding, g.colIdx!.encoding];
    };
    const { INDEX_U16: U16, INDEX_U32: U32 } = S.IndexEncoding;
    expect(widths(ticket("awkward"))).toEqual([U16, U16]);
    expect(widths(ticket("awkward"), { indexEncoding: "u32" })).toEqual([U32, U32]);
    expect(widths(ticket("big"))).toEqual([U32, U32]);
    expect(widths(ticket("bigSparse"))).toEqual([U16, U32]);
  });

  it("is deterministic and shares no memory with the input", () => {
    const t = ticket("awkward");
    const a = encodeTicket(t);
    expect(encodeTicket(t)).toEqual(a);
    const d = decodeTicket(a);
    const before = bits(d);
    a.fill(0);
    expect(bits(d)).toEqual(before);
  });

  it("decodes from a Buffer slice at an odd offset", () => {
    const bytes = encodeTicket(ticket("awkward"));
    const big = Buffer.alloc(bytes.length + 3);
    big.set(bytes, 3);
    expect(bits(decodeTicket(big.subarray(3)))).toEqual(bits(decodeTicket(bytes)));
  });

  it("the encoder refuses an inconsistent ticket", () => {
    const t = ticket("awkward");
    t.layers[1].inFeatures = 4;
    expect(() => encodeTicket(t)).toThrow(TicketFormatError);
    expect(() => encodeTicket(t)).toThrow(/layers\[1\]\.inFeatures: 4 but layers\[0\]\.outFeatures = 9/);
  });
});

describe("container and schema", () => {
  it("starts with the magic and the version; crc32 is the zlib one", () => {
    const bytes = encodeTicket(ticket("awkward"));
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x46, 0x47, 0x4c, 0x54]);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(GLT_FORMAT_VERSION);
    const payload = openContainer(bytes);
    expect(crc32(payload)).toBe(zlib.crc32(payload));
    const r = new Uint8Array(10_007).map((_, i) => (i * 7919) & 0xff);
    for (const cut of [0, 1, 3, 4, 5, 10_007]) expect(crc32(r.subarray(0, cut))).toBe(zlib.crc32(r.subarray(0, cut)));
  });

  it("the generated module is up to date with ticket.proto", () => {
    const proto = readFileSync(join(repoRoot, "exporter/ticket.proto"));
    expect(S.SCHEMA_SOURCE_SHA256).toBe(createHash("sha256").update(proto).digest("hex"));
  });

  it("agrees with protobufjs reflection built from the JSON descriptor", () => {
    const refl = protobuf.Root.fromJSON(S.schemaDescriptor as protobuf.INamespace);
    const File = refl.lookupType("fastglt.glt.GltFile");
    const Payload = refl.lookupType("fastglt.glt.TicketPayload");
    const t = ticket("awkward");
    const bytes = encodeTicket(t);
    // ours -> reflection
    const env = File.toObject(File.decode(bytes.subarray(8))) as { formatVersion: number; crc32: number; payload: Uint8Array };
    expect(env.formatVersion).toBe(GLT_FORMAT_VERSION);
    const p = Payload.toObject(Payload.decode(env.payload), { enums: String }) as Record<string, any>;
    expect(p.numClasses).toBe(5);
    expect(p.graph.numNodes).toBe(7);
    expect(p.layers.map((l: any) => l.activation)).toEqual(["ACTIVATION_RELU", "ACTIVATION_NONE"]);
    expect(p.meta.dataset).toBe(t.meta.dataset);
    expect(p.meta.macsDense).toBe(t.meta.macsDense);
    // reflection -> ours
    const again = Payload.encode(Payload.fromObject(Payload.toObject(Payload.decode(env.payload)))).finish();
    expect(bits(decodeTicket(sealPayload(again)))).toEqual(bits(decodeTicket(bytes)));
  });

  it("agrees with protobufjs reflection on a GAT file", () => {
    const refl = protobuf.Root.fromJSON(S.schemaDescriptor as protobuf.INamespace);
    const Payload = refl.lookupType("fastglt.glt.TicketPayload");
    const t = ticket("gat");
    const bytes = encodeTicket(t);
    const payload = openContainer(bytes);
    const p = Payload.toObject(Payload.decode(payload), { enums: String, defaults: true }) as Record<string, any>;
    expect(p.layers.map((l: any) => [l.kind, l.activation, l.attention.heads, l.attention.headFeatures, l.attention.concat, l.attention.negativeSlope])).toEqual([
      ["LAYER_KIND_GAT", "ACTIVATION_ELU", 3, 5, true, 0.2],
      ["LAYER_KIND_GAT", "ACTIVATION_NONE", 3, 5, false, 1 / 3],
    ]);
    const src = p.layers[0].attention.src.data as Uint8Array;
    expect(Array.from(new Float32Array(src.slice().buffer))).toEqual(Array.from(t.layers[0].attention!.src));
    const again = Payload.encode(Payload.fromObject(Payload.toObject(Payload.decode(payload)))).finish();
    expect(bits(decodeTicket(sealPayload(again, 2)))).toEqual(bits(decodeTicket(bytes)));
  });

  it("protobuf.ts and what it imports stay runtime-safe (no fs, path, tfjs, onnxruntime)", () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/(?:import|export)[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith(".")) visit(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
        else if (spec !== "protobufjs/minimal.js") bad.push(`${file}: ${spec}`);
      }
    };
    visit(join(repoRoot, "exporter/protobuf.ts"));
    visit(join(repoRoot, "exporter/ticket-summary.ts"));
    expect(bad).toEqual([]);
    expect(readFileSync(join(repoRoot, "exporter/generated/ticket-schema.ts"), "utf8")).not.toMatch(/new Function|eval\(/);
  });
});

describe("files and summary", () => {
  const dir = mkdtempSync(join(tmpdir(), "fglt-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes atomically and reads back", async () => {
    const t = ticket("awkward");
    const path = join(dir, "model.glt");
    writeFileSync(path, "old contents");
    const n = await writeTicketFile(path, t);
    expect(readdirSync(dir)).toEqual(["model.glt"]); // no temp file left behind
    expect(readFileSync(path).length).toBe(n);
    expect(bits(withDenseWeights(await readTicketFile(path)))).toEqual(bits(withDenseWeights(t)));
  });

  it("a bad ticket leaves the old file untouched; a bad file names itself", async () => {
    const path = join(dir, "keep.glt");
    writeFileSync(path, "FGLT\x03\x00\x00\x00");
    const t = ticket("awkward");
    t.graph.colIdx[0] = 99;
    await expect(writeTicketFile(path, t)).rejects.toThrow(/graph\.colIdx: entry 0 .* = 99 is out of range \[0, 7\)/);
    expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
    expect(readFileSync(path, "latin1")).toBe("FGLT\x03\x00\x00\x00");
    const err = await readTicketFile(path).catch((e) => e);
    expect(err).toBeInstanceOf(TicketFormatError);
    expect(err.message).toBe(`${path}: header: unsupported format version 3 (this decoder reads versions 1 and 2)`);
    await expect(readTicketFile(path, { maxBytes: 4 })).rejects.toThrow(/over the 4-byte limit/);
  });

  it("summary attributes every byte", () => {
    const t = ticket("awkward");
    const bytes = encodeTicket(t);
    const s = summarizeTicketBytes(bytes);
    const layers = s.layers.reduce((a, l) => a + l.total, 0);
    expect(s.headerBytes + s.containerBytes + s.payloadBytes).toBe(bytes.length);
    expect(s.graph.total + layers + (s.features?.total ?? 0) + s.meta + s.other).toBe(s.payloadBytes);
    expect(s.other).toBeGreaterThan(0);
    expect(s.other).toBeLessThan(10);
    expect(s.layers.map((l) => l.format)).toEqual(decodeTicket(bytes).layers.map((l) => l.weight.format));
    // IndexArray field: tag, length, encoding (tag + value), data tag, data length, 8 u16 row pointers
    expect(s.graph.rowPtr).toBe(1 + 1 + 2 + 1 + 1 + 8 * 2);
    for (const l of s.layers) expect(l.weight + l.bias).toBeLessThan(l.total);
    expect(formatTicketByteSummary(s)).toMatch(/^total .*\ngraph .*7 nodes/);
    expect(formatTicketByteSummary(s)).toMatch(/\nlayer 0 gcn \d+ B: 13x9 csr f32.*\nlayer 1 gcn \d+ B: 9x5 dense f32/);
    expect(s.layers.map((l) => [l.kind, l.heads, l.attention])).toEqual([
      ["gcn", null, 0],
      ["gcn", null, 0],
    ]);
    expect(s.features).not.toBeNull();
    expect(summarizeTicketBytes(encodeTicket(ticket("pruned"))).features).toBeNull();
  });

  it("summary of a GAT file: kind, heads, and the attention bytes", () => {
    const t = ticket("gat");
    const bytes = encodeTicket(t);
    const s = summarizeTicketBytes(bytes);
    expect(s.formatVersion).toBe(2);
    expect(s.layers.map((l) => [l.kind, l.heads, l.concat, l.cols])).toEqual([
      ["gat", 3, true, 15],
      ["gat", 3, false, 15],
    ]);
    // attention record: its tag and 2-byte length; two ValueArrays of 15 f32 (tag, length, type tag +
    // value, data tag + length, 60 bytes); heads, headFeatures (2 bytes each); slope (tag + 8);
    // concat (2 bytes when true, absent when false)
    expect(s.layers[0].attention).toBe(3 + 2 * (1 + 1 + 2 + 2 + 60) + 2 + 2 + 9 + 2);
    expect(s.layers[1].attention).toBe(3 + 2 * (1 + 1 + 2 + 2 + 60) + 2 + 2 + 9);
    for (const l of s.layers) expect(l.weight + l.bias + l.attention).toBeLessThan(l.total);
    const layers = s.layers.reduce((a, l) => a + l.total, 0);
    expect(s.graph.total + layers + (s.features?.total ?? 0) + s.meta + s.other).toBe(s.payloadBytes);
    const text = formatTicketByteSummary(s);
    expect(text).toMatch(/\nlayer 0 gat \(3 heads, concatenated\) .*: 10x15 csr f32, .*attention 150 B\)/);
    expect(text).toMatch(/\nlayer 1 gat \(3 heads, averaged\) .*: 15x15 dense f32/);
  });
});
