// Malformed .glt files against loadModel: hundreds of random corruptions of a real trained ticket
// (whole-file with the checksum left stale, payload with the checksum recomputed, field-aware
// changes to the decoded message, and semantic changes to a valid ticket). Each must either be
// rejected quickly with TicketFormatError or ModelError before any kernel runs, or load, run (on
// the debug wasm build, whose kernels assert every index) and give finite logits that match the
// reference forward pass of what was decoded.
import { beforeAll, describe, expect, it } from "vitest";
import * as S from "../../exporter/generated/ticket-schema.js";
import { decodeTicket, encodeTicket, openContainer, sealPayload } from "../../exporter/protobuf.js";
import { loadModel, ModelError, referenceForward, TicketFormatError, type GltModel, type ModelOptions } from "../../runtime-wasm/host/index.js";
import type { Ticket } from "../../ticket/ticket.js";
import { TestRng, rowErr } from "./helpers.js";
import { trainedTicketBytes } from "./trained.js";

type Outcome = "loaded" | "rejected";

const OPTS: ModelOptions = { variant: "debug", maxMemoryBytes: 256 * 1024 ** 2 };
const MAX_MS = 3000;

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Loads `bytes`; a rejection must be one of the two expected errors with a one-line message. A
 * model that loads must run to finite logits equal to the reference of the decoded ticket, and
 * answer a node query with the same rows.
 */
async function check(bytes: Uint8Array, label: string, messages: Map<string, number>, rng: TestRng): Promise<Outcome> {
  const t0 = performance.now();
  let model: GltModel;
  try {
    model = await loadModel(bytes, OPTS);
  } catch (e) {
    if (!(e instanceof TicketFormatError || e instanceof ModelError)) throw new Error(`${label}: ${String(e)} is neither TicketFormatError nor ModelError`, { cause: e });
    const msg = (e as Error).message;
    if (/unexpected/.test(msg) || msg.includes("\n")) throw new Error(`${label}: bad message ${JSON.stringify(msg)}`);
    const key = `${(e as Error).name}: ${msg.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/g, "#").slice(0, 90)}`;
    messages.set(key, (messages.get(key) ?? 0) + 1);
    const ms = performance.now() - t0;
    if (ms > MAX_MS) throw new Error(`${label}: rejection took ${ms.toFixed(0)} ms`);
    return "rejected";
  }
  const t = decodeTicket(bytes);
  const C = t.numClasses;
  // a ticket that lost its features runs on features passed in
  const x = t.features ? undefined : new Float32Array(t.graph.numNodes * t.layers[0].inFeatures).map(() => (rng.next() < 0.1 ? rng.next() : 0));
  const logits = model.run({ features: x });
  expect(allFinite(logits), `${label}: logits finite`).toBe(true);
  expect(rowErr(logits, referenceForward(t, x), C), `${label}: matches the reference`).toBeLessThanOrEqual(1e-4);
  if (model.numNodes > 0 && t.features) {
    const ids = Array.from({ length: 3 }, () => rng.int(model.numNodes));
    const q = model.predict(ids);
    const want = new Float32Array(ids.length * C);
    ids.forEach((v, p) => want.set(logits.subarray(v * C, v * C + C), p * C));
    expect(rowErr(q, want, C), `${label}: query rows`).toBeLessThanOrEqual(1e-5);
  }
  const ms = performance.now() - t0;
  if (ms > MAX_MS) throw new Error(`${label}: load and run took ${ms.toFixed(0)} ms`);
  return "loaded";
}

type Mutator = (b: Uint8Array, rng: TestRng) => Uint8Array;

const MUTATORS: Record<string, Mutator> = {
  bitflip: (b, rng) => {
    const c = b.slice();
    const flips = 1 + rng.int(3);
    for (let i = 0; i < flips; i++) c[rng.int(c.length)] ^= 1 << rng.int(8);
    return c;
  },
  overwrite: (b, rng) => {
    const c = b.slice();
    const at = rng.int(c.length);
    const special = [0x00, 0xff, 0x7f, 0x80, 0x01];
    for (let i = at; i < Math.min(c.length, at + 1 + rng.int(8)); i++) c[i] = rng.next() < 0.5 ? special[rng.int(special.length)] : rng.int(256);
    return c;
  },
  truncate: (b, rng) => b.slice(0, rng.int(b.length)),
  insert: (b, rng) => {
    const at = rng.int(b.length + 1);
    const n = 1 + rng.int(6);
    const c = new Uint8Array(b.length + n);
    c.set(b.subarray(0, at));
    for (let i = 0; i < n; i++) c[at + i] = rng.int(256);
    c.set(b.subarray(at), at + n);
    return c;
  },
  delete: (b, rng) => {
    const at = rng.int(b.length);
    const n = Math.min(1 + rng.int(6), b.length - at);
    const c = new Uint8Array(b.length - n);
    c.set(b.subarray(0, at));
    c.set(b.subarray(at + n), at);
    return c;
  },
};

/** Field-aware corruption of the decoded payload message: plausible but wrong sizes, indices, encodings and values. */
function mutateMessage(m: S.TicketPayload, rng: TestRng): void {
  const pick = <T,>(xs: T[]): T => xs[rng.int(xs.length)];
  const num = () => pick([0, 1, 2, 3, 4, 5, 7, 8, 31, 32, 33, 119, 120, 121, 599, 600, 601, 65535, 65536, 1 << 20, 0x7ffffffe, 0x7fffffff, 0xffffffff]);
  const nums: [Record<string, unknown>, string][] = [];
  const arrays: { data: Uint8Array }[] = [];
  const g = m.graph!;
  nums.push([g as never, "numNodes"], [m as never, "numClasses"]);
  for (const a of [g.rowPtr, g.colIdx, g.coef]) if (a) arrays.push(a);
  const csrs = m.features ? [m.features] : [];
  for (const l of m.layers) {
    nums.push([l as never, "inFeatures"], [l as never, "outFeatures"], [l as never, "activation"]);
    if (l.weightCsr) csrs.push(l.weightCsr);
    if (l.weightDense) {
      nums.push([l.weightDense as never, "rows"], [l.weightDense as never, "cols"]);
      if (l.weightDense.values) arrays.push(l.weightDense.values);
    }
    if (l.bias) arrays.push(l.bias);
  }
  for (const c of csrs) {
    nums.push([c as never, "rows"], [c as never, "cols"]);
    for (const a of [c.rowPtr, c.colIdx, c.values]) if (a) arrays.push(a);
  }
  const what = rng.next();
  if (what < 0.4) {
    const [o, k] = pick(nums);
    o[k] = num();
  } else if (what < 0.85) {
    const a = pick(arrays);
    if (a.data.length === 0) return;
    const d = a.data.slice();
    const n = 1 + rng.int(4);
    for (let r = 0; r < n; r++) {
      const i = rng.int(d.length);
      d[i] = pick([0x00, 0xff, 0x7f, 0x80, 0xc0, 0x43, d[i] ^ (1 << rng.int(8))]);
    }
    a.data = d;
  } else if (what < 0.95) {
    const a = pick(arrays);
    a.data = a.data.subarray(0, rng.int(a.data.length));
  } else {
    pick([() => (m.layers = m.layers.slice(1)), () => (m.features = null), () => m.layers.push(m.layers[0]), () => m.layers.reverse()])();
  }
}

/** Semantic corruptions of a valid ticket that the exporter still encodes: absurd magnitudes, lost features, odd shapes. */
function mutateTicket(t: Ticket, rng: TestRng): void {
  const pickArr = (): Float32Array => {
    const l = t.layers[rng.int(t.layers.length)];
    const opts: Float32Array[] = [t.graph.coef, l.weight.format === "dense" ? l.weight.data : l.weight.values];
    if (l.bias) opts.push(l.bias);
    if (t.features) opts.push(t.features.values);
    return opts[rng.int(opts.length)];
  };
  const a = pickArr();
  if (a.length === 0) return;
  const scale = [1e3, 1e10, 1e20, 1e30, 3e38, -3e38][rng.int(6)];
  const n = 1 + rng.int(3);
  for (let r = 0; r < n; r++) a[rng.int(a.length)] = Math.fround(scale * (0.5 + 0.49 * rng.next()));
}

describe("loadModel on corrupted trained tickets", () => {
  let valid: Uint8Array;
  let payload: Uint8Array;
  const summary: string[] = [];
  const N = 150; // per mutator and mode

  beforeAll(async () => {
    valid = await trainedTicketBytes();
    payload = openContainer(valid);
  }, 300_000);

  it("the trained ticket loads and runs on the debug build", async () => {
    const rng = new TestRng(60);
    expect(await check(valid, "original", new Map(), rng)).toBe("loaded");
    const m = await loadModel(valid, OPTS);
    expect(m.numNodes).toBe(600);
  });

  for (const name of Object.keys(MUTATORS)) {
    it(`${name}: whole file (stale checksum) and payload (checksum recomputed)`, async () => {
      const rng = new TestRng(1000 + name.length * 17 + name.charCodeAt(0));
      const mutate = MUTATORS[name];
      const messages = new Map<string, number>();
      const stale = { loaded: 0, rejected: 0 };
      const fresh = { loaded: 0, rejected: 0 };
      for (let i = 0; i < N; i++) stale[await check(mutate(valid, rng), `${name} #${i}`, messages, rng)]++;
      for (let i = 0; i < N; i++) fresh[await check(sealPayload(mutate(payload, rng)), `${name} resealed #${i}`, messages, rng)]++;
      summary.push(`${name}: stale crc ${stale.rejected}/${N} rejected; fresh crc ${fresh.rejected}/${N} rejected, ${fresh.loaded} loaded and ran`);
      expect(stale.rejected).toBeGreaterThan(0.9 * N);
      expect(fresh.rejected + fresh.loaded).toBe(N);
    }, 120_000);
  }

  it("field-aware corruption of the payload message (checksum recomputed): sizes, indices, encodings", async () => {
    const rng = new TestRng(77);
    const messages = new Map<string, number>();
    const outcome = { loaded: 0, rejected: 0 };
    for (let i = 0; i < 3 * N; i++) {
      const m = S.decodeTicketPayload(payload, "payload");
      for (let r = 0, rounds = 1 + rng.int(2); r < rounds; r++) mutateMessage(m, rng);
      outcome[await check(sealPayload(S.encodeTicketPayload(m)), `message #${i}`, messages, rng)]++;
    }
    if (process.env.SHOW_MESSAGES) console.log([...messages].join("\n"));
    summary.push(`field-aware: ${outcome.rejected}/${3 * N} rejected, ${outcome.loaded} loaded and ran, ${messages.size} distinct messages`);
    expect(outcome.rejected).toBeGreaterThan(N);
    expect(messages.size).toBeGreaterThan(15);
  }, 120_000);

  it("semantic corruption (valid file, absurd magnitudes): rejected by the range check or finite", async () => {
    const rng = new TestRng(78);
    const messages = new Map<string, number>();
    const outcome = { loaded: 0, rejected: 0 };
    for (let i = 0; i < N; i++) {
      const t = decodeTicket(valid);
      mutateTicket(t, rng);
      outcome[await check(encodeTicket(t), `semantic #${i}`, messages, rng)]++;
    }
    summary.push(`semantic: ${outcome.rejected}/${N} rejected (${[...messages.keys()].filter((k) => /overflow/.test(k)).length} overflow messages), ${outcome.loaded} loaded and ran`);
    expect([...messages.keys()].some((k) => /ModelError: ticket values: values could overflow float#/.test(k))).toBe(true);
    console.log(summary.join("\n"));
  }, 120_000);

  it("absurd sizes are refused by the memory check with a clear message, before allocating", async () => {
    const t = decodeTicket(valid);
    const last = t.layers[t.layers.length - 1];
    // the last layer's width is bounded by nothing else in the file: 2^27 classes, no bias
    const wide = 1 << 27;
    const w = last.weight;
    const rowPtr = new Int32Array(last.inFeatures + 1);
    t.layers[t.layers.length - 1] = { ...last, outFeatures: wide, bias: null, weight: { format: "csr", rows: last.inFeatures, cols: wide, rowPtr, colIdx: new Int32Array(0), values: new Float32Array(0) } };
    t.numClasses = wide;
    void w;
    const bytes = encodeTicket(t);
    expect(bytes.length).toBeLessThan(200_000);
    const t0 = performance.now();
    await expect(loadModel(bytes)).rejects.toThrow(/ticket size: running it needs about \d+ MiB .* more than the limit of 2048 MiB/);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(loadModel(valid, { maxMemoryBytes: 1000 })).rejects.toThrow(ModelError);
  });
});
