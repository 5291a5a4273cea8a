import { describe, expect, it } from "vitest";
import * as S from "../../exporter/generated/ticket-schema.js";
import { ticketToOnnx } from "../../exporter/onnx.js";
import {
  GLT_FORMAT_VERSION,
  GLT_MAX_FORMAT_VERSION,
  decodeTicket,
  encodeTicket,
  formatVersionOf,
  openContainerVersioned,
  sealPayload,
  ticketToMessage,
  TicketFormatError,
  type EncodeOptions,
} from "../../exporter/protobuf.js";
import {
  F16_MAX,
  chooseInt8OrF16,
  dequantizeInt8Rows,
  f16BitsToNumber,
  f32ToF16Bits,
  quantizeInt8Rows,
  roundToF16,
  roundTripValues,
  type RowLayout,
} from "../../exporter/quantize.js";
import { summarizeTicketBytes } from "../../exporter/ticket-summary.js";
import { loadModel } from "../../runtime-wasm/host/index.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { csrToDense } from "../../ticket/csr.js";
import { compareLogitRows } from "../../ticket/compare-logits.js";
import type { Ticket, WeightMatrix } from "../../ticket/ticket.js";
import { FIXED, smallGatMessage, smallGatTicket, smallMessage, smallTicket } from "./fixtures.js";
import { bits, randomMeta, randomTicket, rng, withDenseWeights, type TicketSpec } from "./helpers.js";
import { coraShapedTicket } from "./onnx-fixtures.js";

const F32_MAX = 3.4028234663852886e38;

// ------------------------------------------------------------------------------------------
// f16

describe("f16 conversion", () => {
  it("every finite half survives f16 → number → f16; infinities and NaN keep their class", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToNumber(h);
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
        expect(Number.isNaN(x)).toBe(true);
        expect(f32ToF16Bits(x) & 0x7fff).toBeGreaterThan(0x7c00);
        continue;
      }
      if (f32ToF16Bits(x) !== h) throw new Error(`half ${h.toString(16)} = ${x} comes back as ${f32ToF16Bits(x).toString(16)}`);
    }
  });

  it("rounds to nearest, ties to even, in the normal and the subnormal range", () => {
    expect(roundToF16(1 + 2 ** -11)).toBe(1); // tie: 1 is even
    expect(roundToF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie: 1 + 2^-9 is even
    expect(roundToF16(1 + 2 ** -11 + 2 ** -20)).toBe(1 + 2 ** -10); // above the tie
    expect(roundToF16(2 ** -25)).toBe(0); // half of the smallest subnormal: ties to 0
    expect(roundToF16(2 ** -25 + 2 ** -40)).toBe(2 ** -24);
    expect(roundToF16(3 * 2 ** -25)).toBe(2 ** -23); // tie between 1 and 2 units: 2
    expect(roundToF16(2 ** -14 - 2 ** -26)).toBe(2 ** -14); // carries into the smallest normal
    expect(roundToF16(1e-40)).toBe(0); // an f32 subnormal
    expect(Object.is(roundToF16(-0), -0)).toBe(true);
    expect(Object.is(roundToF16(-1e-30), -0)).toBe(true);
    expect(roundToF16(F16_MAX)).toBe(F16_MAX);
    expect(roundToF16(65519)).toBe(F16_MAX); // below the tie with 65536
    expect(roundToF16(65520)).toBe(Infinity); // the tie rounds to even: overflow
    expect(roundToF16(-F32_MAX)).toBe(-Infinity);
  });

  it("agrees with a brute-force nearest half on random f32 values", () => {
    const finite: number[] = [];
    for (let h = 0; h < 0x7c00; h++) finite.push(f16BitsToNumber(h));
    const rand = rng(5);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 44 - 28) * rand());
      const a = Math.abs(x);
      // binary search the two neighbours among the positive halves
      let lo = 0;
      let hi = finite.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (finite[mid] <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - finite[lo];
      const dh = finite[hi] - a;
      const want = a >= F16_MAX + 16 ? Infinity : dl < dh ? finite[lo] : dh < dl ? finite[hi] : lo % 2 === 0 ? finite[lo] : finite[hi];
      const got = Math.abs(roundToF16(x));
      if (got !== (a > F16_MAX ? (a >= 65520 ? Infinity : F16_MAX) : want)) throw new Error(`${x}: got ${got}, want ${want}`);
    }
  });
});

// ------------------------------------------------------------------------------------------
// int8 with per-row scales

/** Largest |x| per row. */
function rowMax(values: Float32Array, layout: RowLayout, r: number): number {
  const [a, b] = "rowPtr" in layout ? [layout.rowPtr[r], layout.rowPtr[r + 1]] : [r * layout.rowLength, (r + 1) * layout.rowLength];
  let m = 0;
  for (let k = a; k < b; k++) m = Math.max(m, Math.abs(values[k]));
  return m;
}

/** Every value within max |row| / 254 (int8's half step), plus f32 rounding of the product. */
function expectInt8Bound(orig: Float32Array, got: Float32Array, layout: RowLayout, where: string): void {
  expect(got.length, where).toBe(orig.length);
  const rows = "rowPtr" in layout ? layout.rowPtr.length - 1 : layout.rows;
  for (let r = 0; r < rows; r++) {
    const bound = (rowMax(orig, layout, r) / 254) * (1 + 2 ** -20) + 2 ** -149;
    const [a, b] = "rowPtr" in layout ? [layout.rowPtr[r], layout.rowPtr[r + 1]] : [r * layout.rowLength, (r + 1) * layout.rowLength];
    for (let k = a; k < b; k++) {
      const err = Math.abs(orig[k] - got[k]);
      if (!(err <= bound)) throw new Error(`${where}: entry ${k} (row ${r}): ${orig[k]} came back as ${got[k]}, error ${err} > ${bound}`);
    }
  }
}

function expectF16Bound(orig: Float32Array, got: Float32Array, where: string): void {
  expect(got.length, where).toBe(orig.length);
  for (let k = 0; k < orig.length; k++) {
    const err = Math.abs(orig[k] - got[k]);
    if (!(err <= Math.max(Math.abs(orig[k]) * 2 ** -11, 2 ** -25))) throw new Error(`${where}: entry ${k}: ${orig[k]} came back as ${got[k]}`);
  }
}

describe("int8 with per-row scales", () => {
  it("keeps every value within half a step of its row; scales finite and > 0", () => {
    const rand = rng(3);
    const rows = 300;
    const len = 17;
    const v = new Float32Array(rows * len);
    for (let r = 0; r < rows; r++) {
      const kind = r % 6;
      for (let c = 0; c < len; c++) {
        const u = rand() - 0.5;
        v[r * len + c] =
          kind === 0 ? 0 // all-zero row
          : kind === 1 ? Math.fround(u * 1e-39) // subnormal f32 only
          : kind === 2 ? (c === 3 ? F32_MAX : Math.fround(u * 1e38)) // the f32 maximum
          : kind === 3 ? (c === 0 ? -F32_MAX : Math.fround(u * 3e38))
          : Math.fround(u * 2 ** (rand() * 20 - 10));
      }
    }
    const layout = { rows, rowLength: len };
    const { q, scales } = quantizeInt8Rows(v, layout);
    for (const s of scales) expect(s > 0 && Number.isFinite(s)).toBe(true);
    for (const x of q) expect(Math.abs(x)).toBeLessThanOrEqual(127);
    expect(scales[0]).toBe(1);
    const back = dequantizeInt8Rows(q, scales, layout, "v");
    for (const x of back) expect(Number.isFinite(x)).toBe(true);
    expectInt8Bound(v, back, layout, "v");
  });

  it("stores rows that are multiples of one step exactly (row-normalised 0/1 features)", () => {
    const rowPtr = new Int32Array([0, 3, 3, 7, 9, 10]);
    const v = Float32Array.from([1 / 3, 1 / 3, 1 / 3, 0.25, -0.25, 0.5, 0.75, 0.1, 12.7, 5]);
    const { q, scales } = quantizeInt8Rows(v, { rowPtr });
    expect(Array.from(scales)).toEqual([Math.fround(1 / 3), 1, 0.25, Math.fround(0.1), 5]);
    expect(Array.from(q)).toEqual([1, 1, 1, 1, -1, 2, 3, 1, 127, 1]);
    expect(dequantizeInt8Rows(q, scales, { rowPtr }, "v")).toEqual(v);
  });

  it("with few entries per row, int8 storage takes f16 when it is smaller and within the same bound", () => {
    const rand = rng(8);
    const rowPtr = Int32Array.from({ length: 101 }, (_, i) => 2 * i); // 2 entries per row: f16 is fewer bytes
    const v = Float32Array.from({ length: 200 }, () => Math.fround(rand() - 0.5));
    const c = chooseInt8OrF16(v, { rowPtr });
    expect("f16" in c).toBe(true);
    expectInt8Bound(v, roundTripValues(v, { rowPtr }, "int8"), { rowPtr }, "v");
    // a row of tiny values: f16 would round them (subnormal halves); int8 stores them exactly (steps of 1e-7)
    const tiny = Float32Array.from([1e-7, 3e-7, 2, 1]);
    const layout = { rowPtr: new Int32Array([0, 2, 4]) };
    expect("q" in chooseInt8OrF16(tiny, layout)).toBe(true);
    expectInt8Bound(tiny, roundTripValues(tiny, layout, "int8"), layout, "tiny");
    // many entries per row: always int8
    expect("q" in chooseInt8OrF16(new Float32Array(64).fill(0.5), { rows: 2, rowLength: 32 })).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------
// tickets

/** The ticket with every value beyond ±1e4 pulled in (random tickets carry f32 extremes). */
function tame(t: Ticket): Ticket {
  const f = (a: Float32Array) => a.map((x) => (Math.abs(x) > 1e4 ? Math.sign(x) * 1e4 : x));
  return {
    ...t,
    graph: { ...t.graph, coef: f(t.graph.coef) },
    features: t.features === null ? null : { ...t.features, values: f(t.features.values) },
    layers: t.layers.map((l) => ({
      ...l,
      bias: l.bias === null ? null : f(l.bias),
      weight: l.weight.format === "csr" ? { ...l.weight, values: f(l.weight.values) } : { ...l.weight, data: f(l.weight.data) },
    })),
  };
}

const SPEC: TicketSpec = {
  seed: 31,
  numNodes: 157,
  avgDegree: 4,
  inFeatures: 61,
  layers: [
    { out: 24, density: 0.3, format: "csr", emptyRowFraction: 0.2 },
    { out: 9, density: 1, format: "dense" },
    { out: 4, density: 0.5, format: "csr", activation: "none" },
  ],
  featureDensity: 0.2,
};

function weightLayout(w: WeightMatrix): RowLayout {
  return w.format === "csr" ? { rowPtr: w.rowPtr } : { rows: w.rows, rowLength: w.cols };
}
function weightValues(w: WeightMatrix): Float32Array {
  return w.format === "csr" ? w.values : w.data;
}

const version = (bytes: Uint8Array) => openContainerVersioned(bytes).version;

describe("quantised tickets: round trip", () => {
  const t = randomTicket(SPEC);
  const tamed = tame(t);

  it("f32 (the default) is exact, format version 1", () => {
    for (const opts of [{}, { weightValues: "f32", coefValues: "f32", featureValues: "f32", graphIndices: "fixed" }] as EncodeOptions[]) {
      const bytes = encodeTicket(t, { ...opts, weightFormat: "keep" });
      expect(version(bytes)).toBe(GLT_FORMAT_VERSION);
      expect(bits(decodeTicket(bytes))).toEqual(bits(t));
    }
  });

  for (const weightValues of ["f16", "int8"] as const) {
    for (const weightFormat of ["keep", "auto"] as const) {
      it(`weights ${weightValues} (${weightFormat}): within the bound; structure, biases, graph and features exact; version 2`, () => {
        const src = weightValues === "int8" ? t : tamed; // f16 cannot hold the f32 extremes
        const bytes = encodeTicket(src, { weightValues, weightFormat });
        expect(version(bytes)).toBe(2);
        const d = decodeTicket(bytes);
        expect(bits({ ...d, layers: null })).toEqual(bits({ ...src, layers: null }));
        d.layers.forEach((l, i) => {
          const o = src.layers[i];
          expect(bits(l.bias)).toEqual(bits(o.bias));
          expect(l.weight.format).toBe(weightFormat === "keep" ? o.weight.format : l.weight.format);
          if (weightFormat === "keep" && o.weight.format === "csr" && l.weight.format === "csr") {
            expect(bits(l.weight.rowPtr)).toEqual(bits(o.weight.rowPtr));
            expect(bits(l.weight.colIdx)).toEqual(bits(o.weight.colIdx));
          }
          // compare as dense: the same entries whatever the storage
          const od = withDenseWeights(src).layers[i].weight as { data: Float32Array };
          const ld = withDenseWeights(d).layers[i].weight as { data: Float32Array };
          if (weightValues === "f16") expectF16Bound(od.data, ld.data, `layers[${i}]`);
          else expectInt8Bound(od.data, ld.data, { rows: o.inFeatures, rowLength: o.outFeatures }, `layers[${i}]`);
        });
        // decoding gives f32 tickets that re-encode losslessly as version 1
        const again = encodeTicket(d, { weightFormat: "keep" });
        expect(version(again)).toBe(1);
        expect(bits(decodeTicket(again))).toEqual(bits(d));
      });
    }
  }

  it("f16 coefficients, f16 / int8 features", () => {
    for (const featureValues of ["f16", "int8"] as const) {
      const d = decodeTicket(encodeTicket(tamed, { coefValues: "f16", featureValues, weightFormat: "keep" }));
      expectF16Bound(tamed.graph.coef, d.graph.coef, "coef");
      expect(bits(d.graph.colIdx)).toEqual(bits(tamed.graph.colIdx));
      const f = tamed.features!;
      expect(bits(d.features!.colIdx)).toEqual(bits(f.colIdx));
      if (featureValues === "f16") expectF16Bound(f.values, d.features!.values, "features");
      else expectInt8Bound(f.values, d.features!.values, { rowPtr: f.rowPtr }, "features");
      expect(bits(d.layers)).toEqual(bits(tamed.layers));
    }
  });

  it("int8 weights handle f32 extremes and subnormals (no overflow, no zero scale)", () => {
    // the random tickets carry f32 max, −f32 min normal and subnormal entries
    const d = decodeTicket(encodeTicket(t, { weightValues: "int8", featureValues: "int8", weightFormat: "keep" }));
    t.layers.forEach((o, i) => expectInt8Bound(weightValues(o.weight), weightValues(d.layers[i].weight), weightLayout(o.weight), `layers[${i}]`));
    expectInt8Bound(t.features!.values, d.features!.values, { rowPtr: t.features!.rowPtr }, "features");
  });

  it("f16 refuses values beyond ±65504 with a clear error", () => {
    expect(() => encodeTicket(t, { weightValues: "f16" })).toThrow(TicketFormatError);
    expect(() => encodeTicket(t, { weightValues: "f16" })).toThrow(/^layers\[\d\]\.weight\.values: entry \d+ = .* is outside the f16 range \(\|x\| ≤ 65504\): store these values as f32 or int8$/);
    expect(() => encodeTicket(t, { coefValues: "f16" })).toThrow(/^graph\.coef: entry \d+ = .* is outside the f16 range/);
    expect(() => encodeTicket(t, { weightValues: "int4" as never })).toThrow(/unknown value encoding "int4"/);
    expect(() => encodeTicket(t, { coefValues: "int8" as never })).toThrow(/graph\.coef: unknown coefficient encoding "int8" \(expected f32 or f16\)/);
  });

  it("delta graph sources: rows sorted by source, the same (source, coefficient) pairs; exact when already sorted", () => {
    const d = decodeTicket(encodeTicket(t, { graphIndices: "delta", weightFormat: "keep" }));
    const g = t.graph;
    let duplicates = false;
    for (let v = 0; v < g.numNodes; v++) {
      const pairs = (x: Ticket["graph"]) => {
        const out: string[] = [];
        for (let k = x.rowPtr[v]; k < x.rowPtr[v + 1]; k++) out.push(`${x.colIdx[k]}:${bits(x.coef[k])}`);
        return out;
      };
      const before = pairs(g);
      if (new Set(before.map((p) => p.split(":")[0])).size < before.length) duplicates = true;
      expect(pairs(d.graph).sort()).toEqual(before.sort());
    }
    const m = ticketToMessage(t, { graphIndices: "delta" });
    // random tickets repeat sources within a row (not expressible as strictly ascending deltas): fixed width
    expect(m.graph!.colIdx!.encoding).toBe(duplicates ? S.IndexEncoding.INDEX_U16 : S.IndexEncoding.INDEX_DELTA_VARINT);

    const sorted = coraShapedTicket(0.05);
    const bytes = encodeTicket(sorted, { graphIndices: "delta" });
    expect(ticketToMessage(sorted, { graphIndices: "delta" }).graph!.colIdx!.encoding).toBe(S.IndexEncoding.INDEX_DELTA_VARINT);
    expect(version(bytes)).toBe(2);
    expect(bits(decodeTicket(bytes))).toEqual(bits(sorted));
    expect(bytes.length).toBeLessThan(encodeTicket(sorted).length);
  });

  it("delta graph sources: unsorted rows without repeats are sorted", () => {
    const s = smallTicket();
    s.graph.colIdx.set([6, 0], 6); // row 6: sources 6, 0 (its coefficients 0.5, 0.5)
    s.graph.coef.set([0.25, 0.75], 6);
    const d = decodeTicket(encodeTicket(s, { graphIndices: "delta", weightFormat: "keep" }));
    expect(Array.from(d.graph.colIdx.subarray(6))).toEqual([0, 6]);
    expect(Array.from(d.graph.coef.subarray(6))).toEqual([0.75, 0.25]);
    expect(bits({ ...d, graph: null })).toEqual(bits({ ...s, graph: null }));
  });

  it("the runtime runs quantised files: its logits are those of the decoded ticket", async () => {
    const bytes = encodeTicket(tamed, { weightValues: "int8", coefValues: "f16", featureValues: "int8", graphIndices: "delta" });
    const d = decodeTicket(bytes);
    const model = await loadModel(bytes, { measure: false });
    const c = compareLogitRows(referenceForward(d), model.run(), d.numClasses);
    expect(c.maxRelativeError).toBeLessThan(1e-4);
  });

  it("formatVersionOf and the byte summary name the encodings", () => {
    const m = ticketToMessage(tamed, { weightValues: "int8", coefValues: "f16", featureValues: "int8", graphIndices: "delta" });
    expect(formatVersionOf(m)).toBe(2);
    expect(formatVersionOf(ticketToMessage(tamed))).toBe(1);
    const s = summarizeTicketBytes(sealPayload(S.encodeTicketPayload(m), 2));
    expect(s.formatVersion).toBe(2);
    expect(s.graph.coefType).toBe("f16");
    expect(s.features!.valueType).toBe("int8");
    expect(s.layers.map((l) => l.valueType)).toEqual(["int8", "int8", "f16"]); // layer 2: 9 × 4, ~2 entries per row
  });
});

describe("quantised GAT tickets: attention vectors stay f32", () => {
  const t = randomTicket({
    seed: 41,
    numNodes: 29,
    avgDegree: 3,
    inFeatures: 17,
    layers: [
      { kind: "gat", gat: { heads: 3, headFeatures: 5, concat: true }, out: 15, density: 0.4, format: "csr", emptyRowFraction: 0.2, activation: "elu" },
      { kind: "gat", gat: { heads: 3, headFeatures: 4, concat: false }, out: 4, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.3,
  });
  const tamed = tame(t);
  const ALL: EncodeOptions[] = [
    { weightValues: "int8", coefValues: "f16", featureValues: "int8", graphIndices: "delta" },
    { weightValues: "f16", coefValues: "f16", featureValues: "f16" },
    { weightValues: "int8", weightFormat: "keep" },
  ];

  for (const opts of ALL) {
    it(`${JSON.stringify(opts)}: attention exact and f32 on the wire; weights (in × heads·headFeatures) within the bound`, () => {
      const src = Object.values(opts).includes("f16") ? tamed : t; // f16 cannot hold the f32 extremes (attention keeps them)
      const m = ticketToMessage(src, opts);
      for (const l of m.layers) expect([l.attention!.src!.type, l.attention!.dst!.type]).toEqual([S.ValueType.VALUE_TYPE_F32, S.ValueType.VALUE_TYPE_F32]);
      const bytes = encodeTicket(src, opts);
      expect(version(bytes)).toBe(2);
      const d = decodeTicket(bytes);
      expect(bits(d.layers.map((l) => l.attention))).toEqual(bits(src.layers.map((l) => l.attention)));
      d.layers.forEach((l, i) => {
        const o = withDenseWeights(src).layers[i].weight as { rows: number; cols: number; data: Float32Array };
        const got = withDenseWeights(d).layers[i].weight as { data: Float32Array };
        expect([l.weight.rows, l.weight.cols]).toEqual([o.rows, o.cols]);
        if (opts.weightValues === "f16") expectF16Bound(o.data, got.data, `layers[${i}]`);
        else expectInt8Bound(o.data, got.data, { rows: o.rows, rowLength: o.cols }, `layers[${i}]`);
      });
      if (opts.coefValues === "f16") {
        // rounding keeps the sign, so the coefficients stay >= 0 and zeros stay 0
        expect(d.graph.coef.every((c) => c >= 0)).toBe(true);
        const pairs = (x: Ticket["graph"]) => Array.from(x.colIdx, (c, k) => `${c}:${x.coef[k] === 0}`).sort();
        expect(pairs(d.graph)).toEqual(pairs(src.graph));
      }
    });
  }

  it("a file with f16 or int8 attention vectors decodes to their values (any ValueArray may be quantised)", () => {
    const g = smallGatTicket();
    const half = (...v: number[]) => S.createValueArray({ type: S.ValueType.VALUE_TYPE_F16, data: new Uint8Array(new Uint16Array(v.map(f32ToF16Bits)).buffer) });
    const m = smallGatMessage();
    m.layers[0].attention!.src = half(...g.layers[0].attention!.src);
    // 2 heads = 2 rows of 3: [1 -2 0.5] x 0.5 and [2 0 -1] x 0.5
    m.layers[0].attention!.dst = S.createValueArray({ type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED, data: new Uint8Array(new Int8Array([1, -2, 0.5 * 2, 2, 0, -1]).buffer), rowScales: f32Bytes(0.5, 0.5) });
    const d = decodeTicket(sealPayload(S.encodeTicketPayload(m), 2));
    expect(Array.from(d.layers[0].attention!.src)).toEqual(Array.from(g.layers[0].attention!.src)); // all exact in f16
    expect(Array.from(d.layers[0].attention!.dst)).toEqual([0.5, -1, 0.5, 1, 0, -0.5]);
    m.layers[0].attention!.dst!.rowScales = f32Bytes(0.5);
    rejects(sealPayload(S.encodeTicketPayload(m), 2), "layers[0].attention.dst.rowScales: holds 4 bytes, expected 8 (one f32 scale for each of 2 rows)");
  });
});

// ------------------------------------------------------------------------------------------
// sizes

/** coraShapedTicket with `frac` of its non-self-loop edges removed at random (as edge pruning does). */
function pruneGraph(t: Ticket, frac: number, seed = 5): Ticket {
  const g = t.graph;
  const rand = rng(seed);
  const nonSelf: number[] = [];
  for (let v = 0; v < g.numNodes; v++) for (let k = g.rowPtr[v]; k < g.rowPtr[v + 1]; k++) if (g.colIdx[k] !== v) nonSelf.push(k);
  const drop = new Set<number>();
  while (drop.size < Math.round(frac * nonSelf.length)) drop.add(nonSelf[Math.floor(rand() * nonSelf.length)]);
  const rowPtr = new Int32Array(g.numNodes + 1);
  const col: number[] = [];
  const coef: number[] = [];
  for (let v = 0; v < g.numNodes; v++) {
    for (let k = g.rowPtr[v]; k < g.rowPtr[v + 1]; k++) {
      if (drop.has(k)) continue;
      col.push(g.colIdx[k]);
      coef.push(g.coef[k]);
    }
    rowPtr[v + 1] = col.length;
  }
  return { ...t, graph: { numNodes: g.numNodes, rowPtr, colIdx: Int32Array.from(col), coef: Float32Array.from(coef) } };
}

describe("sizes", () => {
  it("a 95%-sparse 1433×512 layer: int8 ≥ 30× smaller than its dense f32 bytes, f16 ≥ 22×", () => {
    const rand = rng(1);
    const dense = new Float32Array(1433 * 512);
    for (let i = 0; i < dense.length; i++) if (rand() < 0.05) dense[i] = Math.fround(rand() - 0.5) || 0.25;
    const w: WeightMatrix = { format: "dense", rows: 1433, cols: 512, data: dense };
    const t: Ticket = {
      version: 1,
      numClasses: 512,
      graph: { numNodes: 3, rowPtr: new Int32Array([0, 1, 3, 3]), colIdx: new Int32Array([0, 2, 1]), coef: new Float32Array([1, 0.5, 0.5]) },
      layers: [{ kind: "gcn", inFeatures: 1433, outFeatures: 512, weight: w, bias: new Float32Array(512).fill(0.1), activation: "relu" }],
      features: null,
      meta: randomMeta(rng(9)),
    };
    const denseBytes = 1433 * 512 * 4;
    const f32 = encodeTicket(t).length;
    const f16 = encodeTicket(t, { weightValues: "f16" }).length;
    const int8 = encodeTicket(t, { weightValues: "int8" }).length;
    console.log(`[95%-sparse 1433×512 layer] dense f32 ${denseBytes} B; .glt f32 ${f32} B (${(denseBytes / f32).toFixed(1)}×), f16 ${f16} B (${(denseBytes / f16).toFixed(1)}×), int8 ${int8} B (${(denseBytes / int8).toFixed(1)}×)`);
    expect(denseBytes / int8).toBeGreaterThan(30);
    expect(denseBytes / f16).toBeGreaterThan(22);
    const d = decodeTicket(encodeTicket(t, { weightValues: "int8" }));
    expect(d.layers[0].weight.format).toBe("csr");
    expectInt8Bound(dense, csrToDense(d.layers[0].weight as never).data, { rows: 1433, rowLength: 512 }, "layer");
  });

  it("a Cora-shaped 95%-weight / 35%-graph-sparse ticket: int8 weights + f16 coefficients make the .glt ≥ 20× smaller than the dense ONNX file", () => {
    const t = pruneGraph(coraShapedTicket(0.05), 0.35);
    expect(t.graph.colIdx.length).toBe(2708 + Math.round(0.65 * 10556));
    const onnx = ticketToOnnx(t).length;
    const options: [string, EncodeOptions][] = [
      ["f32 (lossless)", {}],
      ["f32, delta sources", { graphIndices: "delta" }],
      ["f32, f16 coef", { coefValues: "f16" }],
      ["f16 weights", { weightValues: "f16" }],
      ["int8 weights", { weightValues: "int8" }],
      ["int8 weights, f16 coef", { weightValues: "int8", coefValues: "f16" }],
      ["int8 weights, f16 coef, delta sources", { weightValues: "int8", coefValues: "f16", graphIndices: "delta" }],
    ];
    const sizes = new Map<string, number>();
    const lines = [`[cora-shaped 95/35] ${t.graph.colIdx.length} edges; dense ONNX ${onnx} B`];
    for (const [name, o] of options) {
      const b = encodeTicket(t, o);
      sizes.set(name, b.length);
      const s = summarizeTicketBytes(b);
      lines.push(
        `  ${name.padEnd(40)} ${String(b.length).padStart(7)} B  ${(onnx / b.length).toFixed(1).padStart(5)}× smaller than ONNX` +
          `  (layer 0 ${s.layers[0].total} B, layer 1 ${s.layers[1].total} B, graph ${s.graph.total} B)`,
      );
    }
    console.log(lines.join("\n"));
    expect(onnx / sizes.get("f32 (lossless)")!).toBeGreaterThan(11);
    expect(onnx / sizes.get("int8 weights")!).toBeGreaterThan(20);
    expect(onnx / sizes.get("int8 weights, f16 coef")!).toBeGreaterThan(22);
    expect(sizes.get("int8 weights, f16 coef, delta sources")!).toBeLessThan(sizes.get("int8 weights, f16 coef")!);
  });
});

// ------------------------------------------------------------------------------------------
// rejection

function rejects(bytes: Uint8Array, expected: string | RegExp): void {
  let err: unknown;
  try {
    decodeTicket(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, "should have been rejected").toBeInstanceOf(TicketFormatError);
  if (typeof expected === "string") expect((err as Error).message).toBe(expected);
  else expect((err as Error).message).toMatch(expected);
}

/** The small ticket's message (int8 CSR layer 0, f16 dense layer 1, f16 coef), changed by `f`, sealed as version 2. */
function broken(f: (m: S.TicketPayload) => void, v = 2): Uint8Array {
  const m = smallMessage(FIXED);
  // layer 0 has 8 entries in 6 rows: the encoder would take f16 for "int8"; built by hand instead
  const w = smallTicket().layers[0].weight as { rowPtr: Int32Array; values: Float32Array };
  const { q, scales } = quantizeInt8Rows(w.values, { rowPtr: w.rowPtr });
  m.layers[0].weightCsr!.values = S.createValueArray({
    type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED,
    data: new Uint8Array(q.buffer),
    rowScales: new Uint8Array(scales.buffer),
  });
  const f16 = ticketToMessage(smallTicket(), { ...FIXED, weightValues: "f16", coefValues: "f16" });
  m.layers[1] = f16.layers[1];
  m.graph!.coef = f16.graph!.coef;
  f(m);
  return sealPayload(S.encodeTicketPayload(m), v);
}

const f32Bytes = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe("quantised values: rejection", () => {
  it("the base file is valid", () => {
    const d = decodeTicket(broken(() => {}));
    expect(d.layers[0].weight.format).toBe("csr");
    expect(ticketToMessage(smallTicket(), { ...FIXED, weightValues: "int8" }).layers[0].weightCsr!.values!.type).toBe(S.ValueType.VALUE_TYPE_F16);
    const w = smallTicket().layers[0].weight as { rowPtr: Int32Array; values: Float32Array };
    expectInt8Bound(w.values, (d.layers[0].weight as { values: Float32Array }).values, { rowPtr: w.rowPtr }, "layer 0");
  });

  it("scales must be finite and > 0, one per row", () => {
    const scale = (...v: number[]) => (m: S.TicketPayload) => (m.layers[0].weightCsr!.values!.rowScales = f32Bytes(...v));
    const w = "layers[0].weight.values";
    rejects(broken(scale(1, 1, 1, 0, 1, 1)), `${w}.rowScales: entry 3 is 0 (scales must be finite and > 0)`);
    rejects(broken(scale(1, -0.5, 1, 1, 1, 1)), `${w}.rowScales: entry 1 is -0.5 (scales must be finite and > 0)`);
    rejects(broken(scale(1, 1, 1, 1, 1, -0)), `${w}.rowScales: entry 5 is -0 (scales must be finite and > 0)`);
    rejects(broken(scale(NaN, 1, 1, 1, 1, 1)), `${w}.rowScales: entry 0 is NaN (scales must be finite and > 0)`);
    rejects(broken(scale(1, 1, Infinity, 1, 1, 1)), `${w}.rowScales: entry 2 is Infinity (scales must be finite and > 0)`);
    rejects(broken(scale(1, 1, 1, 1, 1)), `${w}.rowScales: holds 20 bytes, expected 24 (one f32 scale for each of 6 rows)`);
    rejects(broken(scale()), `${w}.rowScales: holds 0 bytes, expected 24 (one f32 scale for each of 6 rows)`);
    // an empty row (row 3) still needs a valid scale; any valid one decodes
    expect(() => decodeTicket(broken(scale(1, 1, 1, 1e-30, 1, 1)))).not.toThrow();
    // row 0 holds 0.1 and −0.2 (stored as 1 and −2 steps of 0.1): −2 × f32 max / 1.5 overflows
    rejects(broken(scale(F32_MAX / 1.5, 1, 1, 1, 1, 1)), /^layers\[0\]\.weight\.values: entry 1 \(row 0\) = -2 × scale 2\.2\d*e\+38 overflows f32$/);
  });

  it("data sizes must match the entry count", () => {
    rejects(
      broken((m) => (m.layers[0].weightCsr!.values!.data = new Uint8Array(9))),
      "layers[0].weight.values: holds 9 bytes, expected 8 (8 int8 entries; count from rowPtr[6]: row pointers must end at nnz)",
    );
    rejects(
      broken((m) => (m.layers[1].weightDense!.values!.data = new Uint8Array(48))),
      "layers[1].weight.values: holds 48 bytes, expected 24 (12 f16 entries; count = inFeatures x outFeatures = 4 x 3)",
    );
    rejects(
      broken((m) => (m.graph!.coef!.data = new Uint8Array(15))),
      "graph.coef: holds 15 bytes, expected 16 (8 f16 entries; count from rowPtr[7]: row pointers must end at the edge count)",
    );
    rejects(broken((m) => (m.layers[1].weightDense!.values!.rowScales = f32Bytes(1, 1, 1, 1))), "layers[1].weight.values.rowScales: only allowed with INT8_ROW_SCALED values");
  });

  it("f16 values must be finite", () => {
    const half = (i: number, h: number) => (m: S.TicketPayload) => {
      const d = m.layers[1].weightDense!.values!.data.slice();
      new DataView(d.buffer).setUint16(2 * i, h, true);
      m.layers[1].weightDense!.values!.data = d;
    };
    rejects(broken(half(4, 0x7c00)), "layers[1].weight.values: entry 4 is Infinity (f16 values must be finite)");
    rejects(broken(half(0, 0xfc00)), "layers[1].weight.values: entry 0 is -Infinity (f16 values must be finite)");
    rejects(broken(half(11, 0x7e00)), "layers[1].weight.values: entry 11 is NaN (f16 values must be finite)");
    expect(decodeTicket(broken(half(11, 0x7bff))).layers[1].weight).toMatchObject({ format: "dense" }); // 65504 is fine
  });

  it("int8 bias and int8 graph coefficients decode (any ValueArray may be quantised)", () => {
    const t = smallTicket();
    const d = decodeTicket(
      broken((m) => {
        m.layers[0].bias = S.createValueArray({ type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED, data: new Uint8Array([1, 2, 3, 4]), rowScales: f32Bytes(0.01) });
        m.graph!.coef = S.createValueArray({
          type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED,
          data: new Uint8Array([2, 1, 1, 4, 1, 3, 1, 1]),
          rowScales: f32Bytes(0.5, 0.5, 1, 0.25, 0.25, 1, 0.5),
        });
      }),
    );
    expect(Array.from(d.layers[0].bias!)).toEqual(Array.from(t.layers[0].bias!));
    expect(Array.from(d.graph.coef)).toEqual(Array.from(t.graph.coef));
    rejects(
      broken((m) => (m.layers[0].bias = S.createValueArray({ type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED, data: new Uint8Array(4), rowScales: f32Bytes(1, 1) }))),
      "layers[0].bias.rowScales: holds 8 bytes, expected 4 (one f32 scale for each of 1 rows)",
    );
    // int8 coefficients with broken row pointers: the row pointers are reported, nothing read out of bounds
    rejects(
      broken((m) => {
        m.graph!.coef = S.createValueArray({ type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED, data: new Uint8Array(8), rowScales: f32Bytes(1, 1, 1, 1, 1, 1, 1) });
        m.graph!.rowPtr = S.createIndexArray({ encoding: S.IndexEncoding.INDEX_U16, data: new Uint8Array(new Uint16Array([0, 5, 3, 3, 4, 6, 6, 8]).buffer) });
      }),
      "graph.rowPtr: decreases at row 1 (5 then 3); must be non-decreasing",
    );
  });

  it("version 1 files may not use them; version 2 files may use f32 only", () => {
    rejects(broken(() => {}, 1), "graph.coef.type: VALUE_TYPE_F16 values need format version 2 (this file is version 1)");
    rejects(
      broken((m) => (m.graph!.coef = smallMessage(FIXED).graph!.coef), 1),
      "layers[0].weight.values.type: VALUE_TYPE_INT8_ROW_SCALED values need format version 2 (this file is version 1)",
    );
    const f32Only = sealPayload(S.encodeTicketPayload(smallMessage(FIXED)), 2);
    expect(bits(decodeTicket(f32Only))).toEqual(bits(decodeTicket(sealPayload(S.encodeTicketPayload(smallMessage(FIXED)), 1))));
    expect(GLT_MAX_FORMAT_VERSION).toBe(2);
  });

  it("delta graph sources: out of range, truncated, left-over bytes", () => {
    const delta = (...b: number[]) => (m: S.TicketPayload) => (m.graph!.colIdx = S.createIndexArray({ encoding: S.IndexEncoding.INDEX_DELTA_VARINT, data: new Uint8Array(b) }));
    // rows: [0], [1, 2], [], [3], [4, 5], [], [0, 6] as deltas
    expect(bits(decodeTicket(broken(delta(0, 1, 0, 3, 4, 0, 0, 5))).graph.colIdx)).toEqual(bits(smallTicket().graph.colIdx.slice().fill(0, 6, 7).fill(6, 7)));
    rejects(broken(delta(0, 1, 0, 3, 4, 0, 0, 6)), "graph.colIdx: entry 7 (row 6) = 7 is out of range [0, 7)");
    rejects(broken(delta(0, 1, 0, 3, 4, 0, 0, 5, 0)), "graph.colIdx: 1 bytes left over after 8 delta varints");
    rejects(broken(delta(0, 1, 0, 3, 4, 0, 0, 0x85)), "graph.colIdx: truncated varint at entry 7 (row 6)");
    rejects(broken(delta(0, 1, 0, 3)), "graph.colIdx: holds 4 bytes, impossible for 8 delta varints (1 to 5 bytes each; count from rowPtr[7]: row pointers must end at nnz)");
  });

  it("absurd sizes with int8 values are refused before anything big is allocated", () => {
    const bytes = broken((m) => {
      Object.assign(m.layers[1], { inFeatures: 40000, outFeatures: 40000 });
      Object.assign(m.layers[1].weightDense!, { rows: 40000, cols: 40000 });
      m.layers[1].weightDense!.values = S.createValueArray({ type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED, data: new Uint8Array(12), rowScales: f32Bytes(1) });
    });
    rejects(bytes, "layers[1].weight.values: holds 12 bytes, expected 1600000000 (1600000000 int8 entries; count = inFeatures x outFeatures = 40000 x 40000)");
  });
});
