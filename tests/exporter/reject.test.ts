import { describe, expect, it } from "vitest";
import * as S from "../../exporter/generated/ticket-schema.js";
import { decodeTicket, encodeTicket, openContainer, sealPayload, ticketToMessage, TicketFormatError } from "../../exporter/protobuf.js";
import type { Ticket } from "../../ticket/ticket.js";
import { bits } from "./helpers.js";
import { f32, FIXED, seal, smallGatMessage, smallGatTicket, smallMessage, smallTicket, u16, u32 } from "./fixtures.js";

/** Decoding `bytes` throws a TicketFormatError whose message is `expected` (string: exact). */
function rejects(bytes: Uint8Array, expected: string | RegExp): TicketFormatError {
  let err: unknown;
  try {
    decodeTicket(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, "should have been rejected").toBeInstanceOf(TicketFormatError);
  const msg = (err as Error).message;
  if (typeof expected === "string") expect(msg).toBe(expected);
  else expect(msg).toMatch(expected);
  return err as TicketFormatError;
}

/** The small ticket's message, changed by `f`, sealed with a correct checksum. */
function broken(f: (m: S.TicketPayload) => void, opts = FIXED): Uint8Array {
  const m = smallMessage(opts);
  f(m);
  return seal(m);
}

/** The small ticket changed in memory by `f`, written without the encoder's validation. */
function brokenTicket(f: (t: Ticket) => void): Uint8Array {
  const t = smallTicket();
  f(t);
  return seal(ticketToMessage(t, FIXED));
}

/** Runs `fn`, recording the largest typed array / ArrayBuffer anyone asks for meanwhile. */
function largestAllocation(fn: () => void): number {
  const g = globalThis as unknown as Record<string, unknown>;
  const names = ["ArrayBuffer", "Uint8Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array"];
  const saved = names.map((n) => g[n]);
  let largest = 0;
  names.forEach((n, i) => {
    const C = saved[i] as new (...a: unknown[]) => object;
    const per = (C as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
    g[n] = new Proxy(C, {
      construct(target, args) {
        if (typeof args[0] === "number") largest = Math.max(largest, args[0] * per);
        return Reflect.construct(target, args);
      },
    });
  });
  try {
    fn();
  } finally {
    names.forEach((n, i) => (g[n] = saved[i]));
  }
  return largest;
}

describe("the small fixture is valid", () => {
  it("round-trips", () => {
    const t = smallTicket();
    expect(bits(decodeTicket(seal(smallMessage())))).toEqual(bits(t));
    expect(bits(decodeTicket(encodeTicket(t)))).toEqual(bits(decodeTicket(seal(smallMessage()))));
  });
});

describe("container", () => {
  const good = encodeTicket(smallTicket());

  it("truncated at every cut point", () => {
    for (let cut = 0; cut < good.length; cut++) {
      const e = rejects(good.subarray(0, cut), /truncated/);
      if (cut < 8) expect(e.where).toBe("header");
    }
    rejects(new Uint8Array(0), "header: truncated: the file is 0 bytes, shorter than the 8-byte header");
    rejects(good.subarray(0, 8), "container: truncated: nothing after the header");
    rejects(good.subarray(0, good.length - 1), /^container\.payload: truncated: declares \d+ bytes but only \d+ remain$/);
  });

  it("wrong magic", () => {
    const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 0, 0, 0, 0, 0]);
    rejects(zip, 'header: not a .glt file: starts with 50 4b 03 04, expected magic 46 47 4c 54 ("FGLT")');
    rejects(new TextEncoder().encode("FGLX"), /^header: not a .glt file: starts with 46 47 4c 58/);
    rejects(new TextEncoder().encode("{}"), /not a .glt file/);
    expect(() => decodeTicket("FGLT" as unknown as Uint8Array)).toThrow("expected the file's bytes as a Uint8Array");
  });

  it("unsupported version, in the header or the container", () => {
    const v3 = good.slice();
    v3[4] = 3;
    rejects(v3, "header: unsupported format version 3 (this decoder reads versions 1 and 2)");
    v3[4] = 0;
    rejects(v3, "header: unsupported format version 0 (this decoder reads versions 1 and 2)");
    v3.set([0xff, 0xff, 0xff, 0xff], 4);
    rejects(v3, "header: unsupported format version 4294967295 (this decoder reads versions 1 and 2)");
    const v2 = good.slice();
    v2[4] = 2; // a version-2 header over a version-1 container
    rejects(v2, "container.formatVersion: 1 does not match the header's version 2");
    const payload = openContainer(good);
    const env = S.encodeGltFile(S.createGltFile({ formatVersion: 2, crc32: 0, payload }));
    const file = new Uint8Array(8 + env.length);
    file.set(good.subarray(0, 8));
    file.set(env, 8);
    rejects(file, "container.formatVersion: 2 does not match the header's version 1");
  });

  it("checksum mismatch, in the payload or in the stored crc", () => {
    const flipped = good.slice();
    flipped[flipped.length - 20] ^= 0x04;
    rejects(flipped, /^container: checksum mismatch: stored crc32 [0-9a-f]{8}, payload hashes to [0-9a-f]{8} \(the file is corrupted\)$/);
    const crc = good.slice();
    crc[8 + 2 + 1] ^= 0x80; // GltFile: [08 01] [15 crc crc crc crc] ...
    rejects(crc, /checksum mismatch/);
  });

  it("malformed protobuf: wrong wire type, field 0, groups, over-long varint", () => {
    const head = good.subarray(0, 8);
    const cat = (...parts: ArrayLike<number>[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) (out.set(p, o), (o += p.length));
      return out;
    };
    rejects(cat(head, [0x08, 0x01, 0x18, 0x05]), "container.payload: wire type 0, expected 2");
    rejects(cat(head, [0x00]), "container: field number 0");
    rejects(cat(head, [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), "container.formatVersion: malformed varint (longer than 10 bytes)");
    rejects(cat(head, [0x08, 0x01, 0x1a, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00]), "container.payload: truncated: declares 2147483648 bytes but only 1 remain");
    rejects(sealPayload(new Uint8Array([0x12, 0x00])), "payload.numClasses: wire type 2, expected 0");
    rejects(sealPayload(new Uint8Array([0x9b, 0x06])), "payload.<field 99>: unsupported wire type 3");
    rejects(sealPayload(new Uint8Array([0x00])), "payload: field number 0");
    // a length that runs past the enclosing message (graph says 3 bytes, holds a 5-byte field)
    rejects(sealPayload(new Uint8Array([0x1a, 0x03, 0x08, 0x80, 0x80, 0x80, 0x01])), "payload.graph.numNodes: truncated varint");
  });

  it("unknown fields are skipped (forward compatibility)", () => {
    const payload = openContainer(good);
    const extended = new Uint8Array(payload.length + 3);
    extended.set(payload);
    extended.set([0x98, 0x06, 0x01], payload.length); // field 99, varint 1
    expect(bits(decodeTicket(sealPayload(extended)))).toEqual(bits(decodeTicket(good)));
  });
});

describe("structure", () => {
  it("row pointers must start at 0", () => {
    rejects(broken((m) => (m.layers[0].weightCsr!.rowPtr = u16(1, 2, 3, 5, 5, 6, 8))), "layers[0].weight.rowPtr: starts at 1, expected 0");
    rejects(broken((m) => (m.graph!.rowPtr = u16(1, 1, 3, 3, 4, 6, 6, 8))), "graph.rowPtr: starts at 1, expected 0");
  });

  it("row pointers must not decrease", () => {
    rejects(
      broken((m) => (m.layers[0].weightCsr!.rowPtr = u16(0, 2, 3, 5, 4, 6, 8))),
      "layers[0].weight.rowPtr: decreases at row 3 (5 then 4); must be non-decreasing",
    );
    rejects(broken((m) => (m.graph!.rowPtr = u16(0, 1, 3, 2, 4, 6, 6, 8))), "graph.rowPtr: decreases at row 2 (3 then 2); must be non-decreasing");
    rejects(broken((m) => (m.features!.rowPtr = u16(0, 2, 3, 3, 5, 7, 6, 7))), /^features\.rowPtr: decreases at row 5/);
  });

  it("row pointers must end at nnz", () => {
    rejects(
      broken((m) => (m.graph!.rowPtr = u16(0, 1, 3, 3, 4, 6, 6, 9))),
      "graph.colIdx: holds 16 bytes, expected 18 (9 entries of 2 bytes; count from rowPtr[7]: row pointers must end at the edge count)",
    );
    rejects(
      broken((m) => (m.layers[0].weightCsr!.rowPtr = u16(0, 2, 3, 5, 5, 6, 7))),
      "layers[0].weight.colIdx: holds 16 bytes, expected 14 (7 entries of 2 bytes; count from rowPtr[6]: row pointers must end at nnz)",
    );
    rejects(
      broken((m) => (m.layers[0].weightCsr!.values = f32(1, 2, 3, 4, 5, 6, 7))),
      "layers[0].weight.values: holds 28 bytes, expected 32 (8 f32 entries; count from rowPtr[6]: row pointers must end at nnz)",
    );
    const t = smallTicket();
    if (t.layers[0].weight.format === "csr") t.layers[0].weight.rowPtr[6] = 7;
    expect(() => encodeTicket(t)).toThrow("layers[0].weight.rowPtr: ends at 7 but colIdx has 8 entries (must end at nnz)");
  });

  it("column and source indices must be in range", () => {
    rejects(broken((m) => (m.graph!.colIdx = u16(0, 1, 2, 3, 4, 5, 7, 0))), "graph.colIdx: entry 6 (row 6) = 7 is out of range [0, 7)");
    rejects(
      broken((m) => (m.layers[0].weightCsr!.colIdx = u16(0, 3, 1, 0, 2, 3, 1, 4))),
      "layers[0].weight.colIdx: entry 7 (row 5) = 4 is out of range [0, 4)",
    );
    rejects(broken((m) => (m.features!.colIdx = u16(0, 5, 2, 1, 3, 4, 6))), "features.colIdx: entry 6 (row 6) = 6 is out of range [0, 6)");
    rejects(broken((m) => (m.graph!.colIdx = u32(0, 1, 2, 3, 4, 5, 0x80000000, 0))), "graph.colIdx: entry 6 = 2147483648 exceeds the int32 range");
  });

  it("weight and feature columns ascend strictly within a row", () => {
    rejects(
      broken((m) => (m.layers[0].weightCsr!.colIdx = u16(3, 0, 1, 0, 2, 3, 1, 2))),
      "layers[0].weight.colIdx: row 0 is not strictly ascending at entry 1 (3 then 0)",
    );
    rejects(broken((m) => (m.features!.colIdx = u16(0, 0, 2, 1, 3, 4, 0))), "features.colIdx: row 0 is not strictly ascending at entry 1 (0 then 0)");
  });

  it("delta-varint column indices", () => {
    const auto = { weightFormat: "keep" as const };
    expect(smallMessage(auto).layers[0].weightCsr!.colIdx!.encoding).toBe(S.IndexEncoding.INDEX_DELTA_VARINT);
    const delta = (...b: number[]) => (m: S.TicketPayload) => (m.layers[0].weightCsr!.colIdx!.data = new Uint8Array(b));
    expect(bits(decodeTicket(broken(delta(0, 2, 1, 0, 1, 3, 1, 0), auto)))).toEqual(bits(smallTicket()));
    rejects(broken(delta(0, 2, 1, 0, 1, 4, 1, 0), auto), "layers[0].weight.colIdx: entry 5 (row 4) = 4 is out of range [0, 4)");
    rejects(broken(delta(0, 2, 1, 0, 1, 3, 1, 0, 5), auto), "layers[0].weight.colIdx: 1 bytes left over after 8 delta varints");
    rejects(broken(delta(0, 2, 1, 0, 1, 3, 1, 0x80), auto), "layers[0].weight.colIdx: truncated varint at entry 7 (row 5)");
    rejects(broken(delta(0xff, 0xff, 0xff, 0xff, 0x7f, 2, 1, 0, 1, 3, 1, 0), auto), "layers[0].weight.colIdx: varint at entry 0 (row 0) exceeds 32 bits");
    rejects(
      broken((m) => (m.graph!.colIdx!.encoding = S.IndexEncoding.INDEX_DELTA_VARINT)),
      "graph.colIdx.encoding: INDEX_DELTA_VARINT for the graph needs format version 2 (this file is version 1)",
    );
    rejects(
      broken((m) => (m.graph!.rowPtr!.encoding = S.IndexEncoding.INDEX_DELTA_VARINT)),
      "graph.rowPtr.encoding: INDEX_DELTA_VARINT is only allowed for column indices, never for row pointers",
    );
  });

  it("layer shapes must chain", () => {
    rejects(
      brokenTicket((t) => {
        t.layers[1].inFeatures = 5;
        t.layers[1].weight = { format: "dense", rows: 5, cols: 3, data: new Float32Array(15) };
      }),
      "layers[1].inFeatures: 5 but layers[0].outFeatures = 4 (shapes do not chain)",
    );
    rejects(
      broken((m) => {
        m.features!.cols = 7;
      }),
      "layers[0].inFeatures: 6 but features.cols = 7 (shapes do not chain)",
    );
    rejects(broken((m) => (m.layers[1].weightDense!.rows = 5)), "layers[1].weight: is 5 x 3, expected inFeatures x outFeatures = 4 x 3");
    rejects(broken((m) => (m.numClasses = 4)), "numClasses: 4 but the last layer (layers[1]) has outFeatures = 3");
  });

  it("bias length must be outFeatures", () => {
    rejects(broken((m) => (m.layers[0].bias = f32(1, 2, 3))), "layers[0].bias: holds 12 bytes, expected 16 (4 f32 entries; count = outFeatures = 4)");
  });

  it("graph size must match the feature rows", () => {
    rejects(broken((m) => (m.features!.rows = 8)), "features.rows: 8 but graph.numNodes = 7 (one feature row per node)");
    rejects(broken((m) => (m.graph!.numNodes = 6)), "graph.rowPtr: holds 16 bytes, expected 14 (7 entries of 2 bytes; count = numNodes + 1)");
  });

  it("no NaN or infinity in weights, biases, coefficients or features", () => {
    rejects(brokenTicket((t) => ((t.layers[1].weight as { data: Float32Array }).data[3] = NaN)), "layers[1].weight.data: entry 3 is NaN (values must be finite)");
    rejects(brokenTicket((t) => ((t.layers[0].weight as { values: Float32Array }).values[2] = -Infinity)), "layers[0].weight.values: entry 2 is -Infinity (values must be finite)");
    rejects(brokenTicket((t) => (t.graph.coef[0] = Infinity)), "graph.coef: entry 0 is Infinity (values must be finite)");
    rejects(brokenTicket((t) => (t.layers[0].bias![1] = NaN)), "layers[0].bias: entry 1 is NaN (values must be finite)");
    rejects(brokenTicket((t) => (t.features!.values[0] = NaN)), "features.values: entry 0 is NaN (values must be finite)");
  });

  it("unknown or missing enum values", () => {
    rejects(broken((m) => (m.layers[0].activation = 7)), "layers[0].activation: unknown activation enum value 7");
    rejects(broken((m) => (m.layers[1].kind = 4)), "layers[1].kind: unknown layer kind enum value 4");
    rejects(broken((m) => (m.layers[0].kind = 0)), "layers[0].kind: missing layer kind");
    rejects(broken((m) => (m.graph!.rowPtr!.encoding = 9)), "graph.rowPtr.encoding: unknown index encoding enum value 9");
    rejects(broken((m) => (m.graph!.rowPtr!.encoding = 0)), "graph.rowPtr.encoding: missing index encoding");
    rejects(broken((m) => (m.layers[1].weightDense!.values!.type = S.ValueType.VALUE_TYPE_F16)), "layers[1].weight.values.type: VALUE_TYPE_F16 values need format version 2 (this file is version 1)");
    rejects(broken((m) => (m.graph!.coef!.type = 42)), "graph.coef.type: unknown value type enum value 42");
    rejects(broken((m) => (m.graph!.coef!.type = 0)), "graph.coef.type: missing value type");
    rejects(broken((m) => (m.layers[0].bias!.rowScales = new Uint8Array(16))), "layers[0].bias.rowScales: only allowed with INT8_ROW_SCALED values");
  });

  it("missing parts and versions", () => {
    rejects(broken((m) => (m.graph = null)), "graph: missing");
    rejects(broken((m) => (m.meta = null)), "meta: missing");
    rejects(broken((m) => (m.layers = [])), "layers: a ticket needs at least one layer");
    rejects(broken((m) => (m.layers[0].weightCsr = null)), "layers[0].weight: missing");
    rejects(broken((m) => (m.graph!.colIdx = null)), "graph.colIdx: missing");
    rejects(broken((m) => (m.ticketVersion = 2)), "version: 2 is not supported (expected 1)");
  });
});

describe("absurd declared sizes are refused before anything big is allocated", () => {
  const cases: [string, (m: S.TicketPayload) => void, string][] = [
    [
      "2^31 nodes",
      (m) => (m.graph!.numNodes = 0x7ffffffe),
      "graph.rowPtr: holds 16 bytes, expected 4294967294 (2147483647 entries of 2 bytes; count = numNodes + 1)",
    ],
    ["4e9 nodes", (m) => (m.graph!.numNodes = 4e9), "graph.numNodes: 4000000000 is absurdly large (limit 2147483646)"],
    [
      "40000 × 40000 dense layer",
      (m) => {
        Object.assign(m.layers[1], { inFeatures: 40000, outFeatures: 40000 });
        Object.assign(m.layers[1].weightDense!, { rows: 40000, cols: 40000 });
      },
      "layers[1].weight.values: holds 48 bytes, expected 6400000000 (1600000000 f32 entries; count = inFeatures x outFeatures = 40000 x 40000)",
    ],
    [
      "1e9-row CSR layer",
      (m) => {
        m.layers[0].inFeatures = 1e9;
        m.layers[0].weightCsr!.rows = 1e9;
      },
      "layers[0].weight.rowPtr: holds 14 bytes, expected 2000000002 (1000000001 entries of 2 bytes; count = rows + 1)",
    ],
    [
      "2^31 edges",
      (m) => (m.graph!.rowPtr = u32(0, 1, 3, 3, 4, 6, 6, 0x7fffffff)),
      "graph.colIdx: holds 16 bytes, expected 4294967294 (2147483647 entries of 2 bytes; count from rowPtr[7]: row pointers must end at the edge count)",
    ],
    [
      "60000 delta varints in 8 bytes",
      (m) => (m.layers[0].weightCsr!.rowPtr = u16(0, 2, 3, 5, 5, 6, 60000)),
      "layers[0].weight.colIdx: holds 8 bytes, impossible for 60000 delta varints (1 to 5 bytes each; count from rowPtr[6]: row pointers must end at nnz)",
    ],
    ["2e9 outputs", (m) => (m.layers[1].outFeatures = 2e9), "layers[1].weight: is 4 x 3, expected inFeatures x outFeatures = 4 x 2000000000"],
  ];
  for (const [name, f, msg] of cases) {
    it(name, () => {
      const opts = name.startsWith("60000") ? { weightFormat: "keep" as const } : FIXED;
      const bytes = broken(f, opts);
      const before = process.memoryUsage().arrayBuffers;
      const largest = largestAllocation(() => {
        rejects(bytes, msg);
      });
      expect(largest).toBeLessThan(64 * 1024);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
    });
  }

  it("the allocation probe does see allocations", () => {
    expect(largestAllocation(() => void new Float32Array(1 << 20))).toBe(4 << 20);
    expect(largestAllocation(() => void decodeTicket(seal(smallMessage())))).toBeGreaterThan(0);
  });
});

describe("GIN, GAT and ELU layers", () => {
  /** The small GAT ticket's message, changed by `f`, sealed as format version 2. */
  const brokenGat = (f: (m: S.TicketPayload) => void) => {
    const m = smallGatMessage();
    f(m);
    return seal(m, 2);
  };
  /** The small GAT ticket changed in memory by `f`, written without the encoder's validation. */
  const brokenGatTicket = (f: (t: Ticket) => void) => {
    const t = smallGatTicket();
    f(t);
    return seal(ticketToMessage(t, FIXED), 2);
  };
  /** encodeTicket refuses the ticket with exactly this message (the encoder validates too). */
  const refusesToEncode = (t: Ticket, expected: string) => expect(() => encodeTicket(t)).toThrow(new TicketFormatError("", expected).message);

  it("the small GAT ticket is valid", () => {
    expect(bits(decodeTicket(seal(smallGatMessage(), 2)))).toEqual(bits(smallGatTicket()));
  });

  it("need format version 2: in a version-1 file the layer is rejected", () => {
    rejects(seal(smallGatMessage(), 1), "layers[0].kind: layer kind gat needs format version 2 (this file is version 1)");
    rejects(broken((m) => (m.layers[1].kind = S.LayerKind.LAYER_KIND_GIN)), "layers[1].kind: layer kind gin needs format version 2 (this file is version 1)");
    rejects(broken((m) => (m.layers[0].activation = S.Activation.ACTIVATION_ELU)), "layers[0].activation: activation elu needs format version 2 (this file is version 1)");
    const gin = smallMessage();
    gin.layers[1].kind = S.LayerKind.LAYER_KIND_GIN;
    gin.layers[0].activation = S.Activation.ACTIVATION_ELU;
    const d = decodeTicket(seal(gin, 2));
    expect([d.layers[0].activation, d.layers[1].kind]).toEqual(["elu", "gin"]);
  });

  it("attention is present exactly on gat layers", () => {
    rejects(brokenGat((m) => (m.layers[1].attention = null)), "layers[1].attention: missing (a gat layer needs its attention)");
    rejects(brokenGat((m) => (m.layers[0].kind = S.LayerKind.LAYER_KIND_GIN)), "layers[0].attention: only gat layers have attention (this layer is gin)");
    rejects(
      seal(Object.assign(smallMessage(), { layers: smallMessage().layers.map((l, i) => (i === 0 ? { ...l, attention: smallGatMessage().layers[0].attention } : l)) }), 2),
      "layers[0].attention: only gat layers have attention (this layer is gcn)",
    );
    const gcn = smallTicket();
    gcn.layers[0].attention = smallGatTicket().layers[0].attention;
    refusesToEncode(gcn, "layers[0].attention: only gat layers have attention (this layer is gcn)");
    const gat = smallGatTicket();
    delete gat.layers[1].attention;
    refusesToEncode(gat, "layers[1].attention: missing (a gat layer needs heads, headFeatures, src, dst, negativeSlope and concat)");
  });

  it("the weight has heads · headFeatures columns", () => {
    rejects(brokenGat((m) => (m.layers[1].weightDense!.cols = 3)), "layers[1].weight: is 6 x 3, expected inFeatures x heads·headFeatures = 6 x 9");
    // 2 heads of 3, averaged: outFeatures 3 and 6-entry vectors hold, the 6 x 9 weight does not
    const twoHeads = (m: S.TicketPayload) => Object.assign(m.layers[1].attention!, { heads: 2, src: f32(1, 2, 3, 4, 5, 6), dst: f32(6, 5, 4, 3, 2, 1) });
    rejects(brokenGat(twoHeads), "layers[1].weight: is 6 x 9, expected inFeatures x heads·headFeatures = 6 x 6");
    const t = smallGatTicket();
    t.layers[0].weight = { format: "dense", rows: 6, cols: 5, data: new Float32Array(30) };
    refusesToEncode(t, "layers[0].weight: is 6 x 5, expected inFeatures x heads·headFeatures = 6 x 6");
  });

  it("outFeatures follows from heads, headFeatures and concat", () => {
    rejects(brokenGat((m) => (m.layers[1].attention!.concat = true)), "layers[1].outFeatures: 3 but heads x headFeatures = 3 x 3 (concat) = 9");
    rejects(brokenGat((m) => (m.layers[0].attention!.concat = false)), "layers[0].outFeatures: 6 but headFeatures (heads averaged) = 3");
    const t = smallGatTicket();
    t.layers[1].attention!.concat = true;
    refusesToEncode(t, "layers[1].outFeatures: 3 but heads x headFeatures = 3 x 3 (concat) = 9");
  });

  it("the bias has outFeatures entries (heads averaged: headFeatures)", () => {
    rejects(brokenGat((m) => (m.layers[1].bias = f32(...new Array(9).fill(0.5)))), "layers[1].bias: holds 36 bytes, expected 12 (3 f32 entries; count = outFeatures = 3)");
    const t = smallGatTicket();
    t.layers[0].bias = new Float32Array(3);
    refusesToEncode(t, "layers[0].bias: has 3 entries, expected 6");
  });

  it("attention vectors: heads · headFeatures finite entries each", () => {
    rejects(brokenGat((m) => (m.layers[0].attention!.src = f32(1, 2, 3))), "layers[0].attention.src: holds 12 bytes, expected 24 (6 f32 entries; count = heads x headFeatures = 2 x 3)");
    rejects(brokenGat((m) => (m.layers[1].attention!.dst = null)), "layers[1].attention.dst: missing");
    rejects(brokenGatTicket((t) => (t.layers[1].attention!.dst[4] = NaN)), "layers[1].attention.dst: entry 4 is NaN (values must be finite)");
    rejects(brokenGatTicket((t) => (t.layers[0].attention!.src[5] = -Infinity)), "layers[0].attention.src: entry 5 is -Infinity (values must be finite)");
    const t = smallGatTicket();
    t.layers[0].attention!.dst = new Float32Array(5);
    refusesToEncode(t, "layers[0].attention.dst: has 5 entries, expected 6");
  });

  it("heads and headFeatures are >= 1, negativeSlope finite, concat a boolean", () => {
    rejects(brokenGat((m) => (m.layers[0].attention!.heads = 0)), "layers[0].attention.heads: missing (must be >= 1)");
    rejects(brokenGat((m) => (m.layers[1].attention!.headFeatures = 0)), "layers[1].attention.headFeatures: missing (must be >= 1)");
    rejects(brokenGat((m) => (m.layers[0].attention!.negativeSlope = NaN)), "layers[0].attention.negativeSlope: NaN is not a finite number");
    rejects(brokenGat((m) => (m.layers[0].attention!.negativeSlope = -Infinity)), "layers[0].attention.negativeSlope: -Infinity is not a finite number");
    const t = smallGatTicket();
    t.layers[0].attention!.heads = 1.5;
    refusesToEncode(t, "layers[0].attention.heads: 1.5 is not an integer in [1, 2147483646]");
    const u = smallGatTicket();
    (u.layers[1].attention as unknown as { concat: unknown }).concat = 1;
    refusesToEncode(u, "layers[1].attention.concat: must be a boolean");
    const v = smallGatTicket();
    v.layers[1].attention!.negativeSlope = NaN;
    refusesToEncode(v, "layers[1].attention.negativeSlope: NaN is not a finite number");
  });

  it("absurd heads or headFeatures are refused before anything big is allocated", () => {
    const cases: [(m: S.TicketPayload) => void, string][] = [
      [(m) => (m.layers[0].attention!.heads = 0x7fffffff), "layers[0].attention.heads: 2147483647 is absurdly large (limit 2147483646)"],
      [(m) => Object.assign(m.layers[0].attention!, { heads: 65536, headFeatures: 65536 }), "layers[0].attention: heads x headFeatures = 65536 x 65536 is absurdly large (limit 2147483646)"],
      [
        (m) => Object.assign(m.layers[1].attention!, { heads: 100_000_000 }),
        "layers[1].attention.src: holds 36 bytes, expected 1200000000 (300000000 f32 entries; count = heads x headFeatures = 100000000 x 3)",
      ],
    ];
    for (const [f, msg] of cases) {
      const bytes = brokenGat(f);
      expect(largestAllocation(() => void rejects(bytes, msg))).toBeLessThan(64 * 1024);
    }
  });

  it("a ticket's layers are all gcn/gin or all gat", () => {
    const gcnLayer = smallTicket().layers[1]; // 4 -> 3
    const gatLayer = { ...smallGatTicket().layers[1], inFeatures: 4, weight: { format: "dense" as const, rows: 4, cols: 9, data: new Float32Array(36).fill(0.25) } };
    const afterGat = smallGatTicket();
    afterGat.layers[1] = { ...gcnLayer, inFeatures: 6, weight: { format: "dense", rows: 6, cols: 3, data: new Float32Array(18).fill(0.5) } };
    const msg = 'layers[1].kind: "gcn" but layers[0].kind is "gat" (a ticket\'s layers are all gcn/gin or all gat: they share one graph, whose coefficients mean different things)';
    refusesToEncode(afterGat, msg);
    rejects(seal(ticketToMessage(afterGat, FIXED), 2), msg);
    const afterGcn = smallTicket();
    afterGcn.layers[1] = gatLayer;
    rejects(seal(ticketToMessage(afterGcn, FIXED), 2), 'layers[1].kind: "gat" but layers[0].kind is "gcn" (a ticket\'s layers are all gcn/gin or all gat: they share one graph, whose coefficients mean different things)');
    const mixed = smallTicket();
    mixed.layers[1].kind = "gin";
    expect(decodeTicket(encodeTicket(mixed)).layers.map((l) => l.kind)).toEqual(["gcn", "gin"]);
  });

  it("a GAT ticket's graph coefficients are >= 0 (0 and -0 allowed)", () => {
    rejects(brokenGatTicket((t) => (t.graph.coef[3] = -0.5)), "graph.coef: entry 3 (row 3) is -0.5; a GAT ticket's coefficients are edge-mask values and must be >= 0");
    rejects(brokenGatTicket((t) => (t.graph.coef[7] = -1e-40)), /^graph\.coef: entry 7 \(row 6\) is -9\.99\d*e-41; a GAT ticket's coefficients are edge-mask values and must be >= 0$/);
    rejects(brokenGatTicket((t) => (t.graph.coef[0] = NaN)), "graph.coef: entry 0 is NaN (values must be finite)");
    const zeros = smallGatTicket();
    zeros.graph.coef[1] = -0;
    zeros.graph.coef[4] = 0;
    expect(bits(decodeTicket(encodeTicket(zeros)).graph.coef)).toEqual(bits(zeros.graph.coef));
    // GCN coefficients may be negative
    const gcn = smallTicket();
    gcn.graph.coef[3] = -0.5;
    expect(decodeTicket(encodeTicket(gcn)).graph.coef[3]).toBe(-0.5);
  });

  it("shapes chain through GAT layers", () => {
    rejects(
      brokenGatTicket((t) => {
        t.layers[1].inFeatures = 5;
        t.layers[1].weight = { format: "dense", rows: 5, cols: 9, data: new Float32Array(45) };
      }),
      "layers[1].inFeatures: 5 but layers[0].outFeatures = 6 (shapes do not chain)",
    );
    rejects(brokenGat((m) => (m.numClasses = 9)), "numClasses: 9 but the last layer (layers[1]) has outFeatures = 3");
  });
});
