import { afterAll, describe, expect, it } from "vitest";
import * as S from "../../exporter/generated/ticket-schema.js";
import { decodeTicket, encodeTicket, openContainer, sealPayload, ticketToMessage, TicketFormatError, validateTicket, type EncodeOptions } from "../../exporter/protobuf.js";
import { smallGatMessage, smallMessage, smallTicket } from "./fixtures.js";
import type { Ticket } from "../../ticket/ticket.js";
import { bits, randomTicket, rng } from "./helpers.js";

type Outcome = "ok" | "rejected";
let lastDecoded: Ticket | null = null;

/**
 * Decodes `bytes`; it must either give a Ticket that passes validation (and re-encodes) or throw
 * TicketFormatError from one of the decoder's own checks, quickly.
 */
function check(bytes: Uint8Array, label: string, messages: Map<string, number>): Outcome {
  const t0 = performance.now();
  let outcome: Outcome;
  lastDecoded = null;
  try {
    const t = decodeTicket(bytes);
    lastDecoded = t;
    validateTicket(t);
    decodeTicket(encodeTicket(t));
    outcome = "ok";
  } catch (e) {
    if (!(e instanceof TicketFormatError)) throw new Error(`${label}: ${String(e)} is not a TicketFormatError`, { cause: e });
    if (/unexpected/.test(e.message)) throw new Error(`${label}: safety net hit: ${e.message}`, { cause: e });
    const key = e.message.replace(/\d+/g, "#");
    messages.set(key, (messages.get(key) ?? 0) + 1);
    outcome = "rejected";
  }
  const ms = performance.now() - t0;
  if (ms > 500) throw new Error(`${label}: took ${ms.toFixed(0)} ms`);
  return outcome;
}

type Mutator = (b: Uint8Array, rand: () => number) => Uint8Array;

const MUTATORS: Record<string, Mutator> = {
  bitflip: (b, rand) => {
    const c = b.slice();
    const flips = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < flips; i++) c[Math.floor(rand() * c.length)] ^= 1 << Math.floor(rand() * 8);
    return c;
  },
  overwrite: (b, rand) => {
    const c = b.slice();
    const at = Math.floor(rand() * c.length);
    const n = 1 + Math.floor(rand() * 8);
    const special = [0x00, 0xff, 0x7f, 0x80, 0x01];
    for (let i = at; i < Math.min(c.length, at + n); i++) c[i] = rand() < 0.5 ? special[Math.floor(rand() * special.length)] : Math.floor(rand() * 256);
    return c;
  },
  truncate: (b, rand) => b.slice(0, Math.floor(rand() * b.length)),
  insert: (b, rand) => {
    const at = Math.floor(rand() * (b.length + 1));
    const n = 1 + Math.floor(rand() * 6);
    const c = new Uint8Array(b.length + n);
    c.set(b.subarray(0, at));
    for (let i = 0; i < n; i++) c[at + i] = Math.floor(rand() * 256);
    c.set(b.subarray(at), at + n);
    return c;
  },
  delete: (b, rand) => {
    const at = Math.floor(rand() * b.length);
    const n = Math.min(1 + Math.floor(rand() * 6), b.length - at);
    const c = new Uint8Array(b.length - n);
    c.set(b.subarray(0, at));
    c.set(b.subarray(at + n), at);
    return c;
  },
};

/** Field-aware corruption of the payload message: plausible-looking but wrong numbers and arrays. */
function mutateMessage(m: S.TicketPayload, rand: () => number): void {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const num = () => pick([0, 1, 2, 3, 5, 7, 8, 65535, 65536, 0x7ffffffe, 0x7fffffff, 0xffffffff, Math.floor(rand() * 20)]);
  const arrays: { data: Uint8Array }[] = [];
  const nums: [Record<string, unknown>, string][] = [];
  const values = (v: S.ValueArray | null) => {
    if (v === null) return;
    arrays.push(v);
    nums.push([v as never, "type"]);
    // int8 scales: corrupt them like any array
    if (v.rowScales.length > 0) arrays.push({ get data() { return v.rowScales; }, set data(d: Uint8Array) { v.rowScales = d; } });
  };
  const g = m.graph!;
  nums.push([g as never, "numNodes"], [m as never, "numClasses"], [m as never, "ticketVersion"]);
  for (const a of [g.rowPtr, g.colIdx]) if (a) arrays.push(a);
  values(g.coef);
  for (const a of [g.rowPtr, g.colIdx]) if (a) nums.push([a as never, "encoding"]);
  const csrs = m.features ? [m.features] : [];
  for (const l of m.layers) {
    nums.push([l as never, "inFeatures"], [l as never, "outFeatures"], [l as never, "kind"], [l as never, "activation"]);
    if (l.weightCsr) csrs.push(l.weightCsr);
    if (l.weightDense) {
      nums.push([l.weightDense as never, "rows"], [l.weightDense as never, "cols"]);
      values(l.weightDense.values);
    }
    values(l.bias);
    const a = l.attention;
    if (a) {
      nums.push([a as never, "heads"], [a as never, "headFeatures"]);
      values(a.src);
      values(a.dst);
    }
  }
  for (const c of csrs) {
    nums.push([c as never, "rows"], [c as never, "cols"]);
    for (const a of [c.rowPtr, c.colIdx]) if (a) arrays.push(a);
    values(c.values);
    for (const a of [c.rowPtr, c.colIdx]) if (a) nums.push([a as never, "encoding"]);
  }
  const what = rand();
  if (what < 0.4) {
    const [o, k] = pick(nums);
    o[k] = k === "encoding" || k === "type" ? pick([0, 1, 2, 3, 4]) : num();
  } else if (what < 0.85) {
    const a = pick(arrays);
    if (a.data.length === 0) return;
    const d = a.data.slice();
    const i = Math.floor(rand() * d.length);
    // NaN / Inf bit patterns in floats, big or small numbers in indices
    d[i] = pick([0x00, 0xff, 0x7f, 0x80, 0xc0, d[i] ^ (1 << Math.floor(rand() * 8))]);
    a.data = d;
  } else if (what < 0.95) {
    const a = pick(arrays);
    a.data = a.data.subarray(0, Math.floor(rand() * a.data.length));
  } else {
    const gat = m.layers.filter((l) => l.attention !== null);
    const attentionMoves = gat.length === 0 ? [] : [
      () => {
        const a = pick(gat).attention!;
        a.concat = !a.concat;
      },
      () => (pick(gat).attention!.negativeSlope = pick([NaN, Infinity, -1, 0, 1e30])),
      () => (pick(m.layers).attention = null),
      () => (m.layers[0].attention = gat[0].attention),
      () => (pick(gat).attention!.src = null),
    ];
    pick([() => (m.layers = m.layers.slice(1)), () => (m.features = null), () => m.layers.push(m.layers[0]), () => (m.meta = null), ...attentionMoves])();
  }
}

describe("fuzz: corrupted files decode to a valid Ticket or throw TicketFormatError", () => {
  const valid = encodeTicket(
    randomTicket({
      seed: 11,
      numNodes: 23,
      avgDegree: 2,
      inFeatures: 19,
      layers: [
        { out: 8, density: 0.3, format: "csr", emptyRowFraction: 0.3 },
        { out: 6, density: 0.9, format: "dense" },
        { out: 3, density: 0.5, format: "csr", bias: false, activation: "none" },
      ],
      featureDensity: 0.2,
    }),
  );
  const payload = openContainer(valid);
  const N = 400; // per mutator and mode

  it(`the base file is valid (${valid.length} bytes)`, () => {
    expect(() => decodeTicket(valid)).not.toThrow();
  });

  const summary: string[] = [];
  afterAll(() => console.log(summary.join("\n")));

  for (const [name, mutate] of Object.entries(MUTATORS)) {
    it(`${name}: whole file (checksum left stale) and payload (checksum recomputed)`, () => {
      const rand = rng(name.length * 1000 + 7);
      const messages = new Map<string, number>();
      const stale = { ok: 0, rejected: 0 };
      const resealed = { ok: 0, rejected: 0 };
      const original = bits(decodeTicket(valid));
      for (let i = 0; i < N; i++) {
        const o = check(mutate(valid, rand), `${name} #${i}`, messages);
        stale[o]++;
        // the payload is covered by the crc: whatever still decodes is the original ticket
        if (o === "ok") expect(bits(lastDecoded)).toEqual(original);
      }
      const structural = new Map<string, number>();
      for (let i = 0; i < N; i++) resealed[check(sealPayload(mutate(payload, rand)), `${name} resealed #${i}`, structural)]++;
      expect(stale.rejected).toBeGreaterThan(0.95 * N);
      // with a fresh crc the structural checks do the work. Most of the payload is f32 data, where
      // a corruption usually leaves another finite number: those decode, correctly
      expect(resealed.rejected).toBeGreaterThan(N / 5);
      if (name === "bitflip" || name === "overwrite") expect(resealed.ok).toBeGreaterThan(0);
      summary.push(`${name}: stale crc ${stale.rejected}/${N} rejected; fresh crc ${resealed.rejected}/${N} rejected, ${structural.size} distinct messages`);
      expect([...structural.keys()].some((k) => /checksum/.test(k))).toBe(false);
      expect(structural.size).toBeGreaterThan(5);
    });
  }

  it("field-aware corruption of the payload message (checksum recomputed)", () => {
    const rand = rng(99);
    const messages = new Map<string, number>();
    const outcome = { ok: 0, rejected: 0 };
    for (let i = 0; i < 3 * N; i++) {
      const m = smallMessage({ weightFormat: rand() < 0.5 ? "keep" : "auto" });
      const rounds = 1 + Math.floor(rand() * 2);
      for (let r = 0; r < rounds; r++) mutateMessage(m, rand);
      outcome[check(sealPayload(S.encodeTicketPayload(m)), `message #${i}`, messages)]++;
    }
    summary.push(`field-aware: ${outcome.rejected}/${3 * N} rejected, ${messages.size} distinct messages`);
    expect(outcome.rejected).toBeGreaterThan(N);
    expect(messages.size).toBeGreaterThan(25);
  });
});

describe("fuzz: quantised files (format version 2: int8 / f16 values, delta graph sources)", () => {
  const QUANTISED: EncodeOptions = { weightValues: "int8", coefValues: "f16", featureValues: "int8", graphIndices: "delta" };
  const t = randomTicket({
    seed: 12,
    numNodes: 23,
    avgDegree: 2,
    inFeatures: 19,
    layers: [
      { out: 16, density: 0.4, format: "csr", emptyRowFraction: 0.2 },
      { out: 6, density: 0.9, format: "dense" },
      { out: 3, density: 0.5, format: "csr", bias: false, activation: "none" },
    ],
    featureDensity: 0.3,
  });
  // f16 cannot hold the f32 extremes the random tickets carry; distinct sources per row, so deltas apply
  const coef = t.graph.coef.map((x) => (Math.abs(x) > 1e4 ? 1 : x));
  const rowPtr = t.graph.rowPtr;
  const colIdx = t.graph.colIdx.slice();
  for (let v = 0; v < t.graph.numNodes; v++) for (let k = rowPtr[v]; k < rowPtr[v + 1]; k++) colIdx[k] = (v + 3 * (k - rowPtr[v])) % t.graph.numNodes;
  const tamed = { ...t, graph: { ...t.graph, colIdx, coef } };
  const valid = encodeTicket(tamed, QUANTISED);
  const m0 = ticketToMessage(tamed, QUANTISED);
  const payload = openContainer(valid);
  const N = 150;
  const summary: string[] = [];
  afterAll(() => console.log(summary.join("\n")));

  it(`the base file is valid and uses every version-2 encoding (${valid.length} bytes)`, () => {
    expect(valid[4]).toBe(2);
    expect(m0.graph!.colIdx!.encoding).toBe(S.IndexEncoding.INDEX_DELTA_VARINT);
    expect(m0.graph!.coef!.type).toBe(S.ValueType.VALUE_TYPE_F16);
    expect(m0.layers.map((l) => (l.weightCsr ?? l.weightDense)!.values!.type)).toContain(S.ValueType.VALUE_TYPE_INT8_ROW_SCALED);
    expect(m0.features!.values!.type).toBe(S.ValueType.VALUE_TYPE_INT8_ROW_SCALED);
    expect(() => decodeTicket(valid)).not.toThrow();
  });

  it("every mutator: whole file (stale checksum) and payload (checksum recomputed)", () => {
    const original = bits(decodeTicket(valid));
    for (const [name, mutate] of Object.entries(MUTATORS)) {
      const rand = rng(name.length * 1000 + 13);
      const messages = new Map<string, number>();
      const stale = { ok: 0, rejected: 0 };
      const resealed = { ok: 0, rejected: 0 };
      for (let i = 0; i < N; i++) {
        const o = check(mutate(valid, rand), `q ${name} #${i}`, messages);
        stale[o]++;
        if (o === "ok") expect(bits(lastDecoded)).toEqual(original);
      }
      const structural = new Map<string, number>();
      for (let i = 0; i < N; i++) resealed[check(sealPayload(mutate(payload, rand), 2), `q ${name} resealed #${i}`, structural)]++;
      expect(stale.rejected, name).toBeGreaterThan(0.95 * N);
      expect(resealed.rejected, name).toBeGreaterThan(N / 5);
      summary.push(`quantised ${name}: stale crc ${stale.rejected}/${N} rejected; fresh crc ${resealed.rejected}/${N} rejected, ${structural.size} distinct messages`);
    }
  });

  it("field-aware corruption of a quantised message (checksum recomputed)", () => {
    const rand = rng(77);
    const messages = new Map<string, number>();
    const outcome = { ok: 0, rejected: 0 };
    for (let i = 0; i < 2 * N; i++) {
      const m = rand() < 0.5 ? ticketToMessage(tamed, QUANTISED) : ticketToMessage(smallTicket(), { ...QUANTISED, weightFormat: "keep" });
      const rounds = 1 + Math.floor(rand() * 2);
      for (let r = 0; r < rounds; r++) mutateMessage(m, rand);
      outcome[check(sealPayload(S.encodeTicketPayload(m), rand() < 0.9 ? 2 : 1), `q message #${i}`, messages)]++;
    }
    summary.push(`quantised field-aware: ${outcome.rejected}/${2 * N} rejected, ${messages.size} distinct messages`);
    expect(outcome.rejected).toBeGreaterThan(N / 2);
    expect([...messages.keys()].some((k) => /scales must be finite and > #/.test(k))).toBe(true);
    expect([...messages.keys()].some((k) => /needs? format version #/.test(k))).toBe(true);
    expect(messages.size).toBeGreaterThan(20);
  });
});

describe("fuzz: GAT files (attention, format version 2)", () => {
  const t = randomTicket({
    seed: 13,
    numNodes: 23,
    avgDegree: 2,
    inFeatures: 19,
    layers: [
      { kind: "gat", gat: { heads: 3, headFeatures: 5, concat: true }, out: 15, density: 0.3, format: "csr", emptyRowFraction: 0.2, activation: "elu" },
      { kind: "gat", gat: { heads: 2, headFeatures: 3, concat: false }, out: 3, density: 0.9, format: "dense", activation: "none" },
    ],
    featureDensity: 0.2,
  });
  const valid = encodeTicket(t);
  const payload = openContainer(valid);
  const N = 150;
  const summary: string[] = [];
  afterAll(() => console.log(summary.join("\n")));

  it(`the base file is valid, version 2 (${valid.length} bytes)`, () => {
    expect(valid[4]).toBe(2);
    expect(bits(decodeTicket(valid))).toEqual(bits(t));
  });

  it("every mutator: whole file (stale checksum) and payload (checksum recomputed)", () => {
    const original = bits(decodeTicket(valid));
    for (const [name, mutate] of Object.entries(MUTATORS)) {
      const rand = rng(name.length * 1000 + 17);
      const messages = new Map<string, number>();
      const stale = { ok: 0, rejected: 0 };
      const resealed = { ok: 0, rejected: 0 };
      for (let i = 0; i < N; i++) {
        const o = check(mutate(valid, rand), `gat ${name} #${i}`, messages);
        stale[o]++;
        if (o === "ok") expect(bits(lastDecoded)).toEqual(original);
      }
      const structural = new Map<string, number>();
      for (let i = 0; i < N; i++) resealed[check(sealPayload(mutate(payload, rand), 2), `gat ${name} resealed #${i}`, structural)]++;
      expect(stale.rejected, name).toBeGreaterThan(0.95 * N);
      expect(resealed.rejected, name).toBeGreaterThan(N / 5);
      summary.push(`gat ${name}: stale crc ${stale.rejected}/${N} rejected; fresh crc ${resealed.rejected}/${N} rejected, ${structural.size} distinct messages`);
    }
  });

  it("field-aware corruption of GAT messages (checksum recomputed)", () => {
    const rand = rng(55);
    const messages = new Map<string, number>();
    const outcome = { ok: 0, rejected: 0 };
    for (let i = 0; i < 2 * N; i++) {
      const m = rand() < 0.5 ? ticketToMessage(t) : smallGatMessage({ weightFormat: rand() < 0.5 ? "keep" : "auto" });
      const rounds = 1 + Math.floor(rand() * 2);
      for (let r = 0; r < rounds; r++) mutateMessage(m, rand);
      outcome[check(sealPayload(S.encodeTicketPayload(m), rand() < 0.9 ? 2 : 1), `gat message #${i}`, messages)]++;
    }
    summary.push(`gat field-aware: ${outcome.rejected}/${2 * N} rejected, ${messages.size} distinct messages`);
    expect(outcome.rejected).toBeGreaterThan(N / 2);
    const keys = [...messages.keys()];
    for (const re of [/attention/, /heads/, /needs format version #/, /must be >= #/]) expect(keys.some((k) => re.test(k)), String(re)).toBe(true);
    expect(messages.size).toBeGreaterThan(20);
  });
});
