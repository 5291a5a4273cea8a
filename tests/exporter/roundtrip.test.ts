import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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
import { bits, randomTicket, withDenseWeights, type TicketSpec } from "./helpers.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

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
    const proto = readFileSync(join(root, "exporter/ticket.proto"));
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
    visit(join(root, "exporter/protobuf.ts"));
    visit(join(root, "exporter/ticket-summary.ts"));
    expect(bad).toEqual([]);
    expect(readFileSync(join(root, "exporter/generated/ticket-schema.ts"), "utf8")).not.toMatch(/new Function|eval\(/);
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
    expect(s.features).not.toBeNull();
    expect(summarizeTicketBytes(encodeTicket(ticket("pruned"))).features).toBeNull();
  });
});
