import { csrToDense, type CsrMatrix } from "../../ticket/csr.js";
import type { Activation, LayerKind, Ticket, TicketLayer, TicketMeta, WeightMatrix } from "../../ticket/ticket.js";

/** mulberry32: small seeded PRNG for reproducible test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Finite f32 values with awkward bit patterns mixed in: subnormals, −0, extremes. */
function value(rand: () => number, allowNegZero: boolean): number {
  const u = rand();
  if (u < 0.02) return 1e-40; // subnormal
  if (u < 0.04) return allowNegZero ? -0 : -1e-38;
  if (u < 0.05) return 3.4028234663852886e38; // f32 max
  if (u < 0.06) return -1.1754943508222875e-38; // −f32 min normal
  return Math.fround((rand() - 0.5) * 4);
}

export interface LayerSpec {
  /** "gcn" unless given; a gat layer needs `gat` */
  kind?: LayerKind;
  /** gat: out must be heads · headFeatures when concat, else headFeatures */
  gat?: { heads: number; headFeatures: number; concat: boolean; negativeSlope?: number };
  out: number;
  /** fraction of weights kept (0 = fully pruned, 1 = fully dense) */
  density: number;
  format: "csr" | "dense";
  bias?: boolean;
  activation?: Activation;
  /** rows with no kept weight at all */
  emptyRowFraction?: number;
}

export interface TicketSpec {
  seed: number;
  numNodes: number;
  /** mean in-degree; some nodes get none */
  avgDegree: number;
  inFeatures: number;
  layers: LayerSpec[];
  /** feature density, or null for no features */
  featureDensity: number | null;
}

function randomCsr(rand: () => number, rows: number, cols: number, density: number, emptyRowFraction: number, negZero: boolean): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const cols_: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (rand() >= emptyRowFraction) {
      // geometric skips, so very sparse wide matrices cost O(nnz), not O(rows × cols)
      const skip = () => (density >= 1 ? 0 : density <= 0 ? cols : Math.floor(Math.log(1 - rand()) / Math.log(1 - density)));
      for (let c = skip(); c < cols; c += 1 + skip()) {
        cols_.push(c);
        let v = value(rand, negZero);
        if (v === 0 && !negZero) v = 0.5;
        vals.push(v);
      }
    }
    rowPtr[r + 1] = cols_.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(cols_), values: Float32Array.from(vals) };
}

function randomWeight(rand: () => number, rows: number, cols: number, s: LayerSpec): WeightMatrix {
  const m = randomCsr(rand, rows, cols, s.density, s.emptyRowFraction ?? 0, false);
  if (s.format === "csr") return { format: "csr", ...m };
  return { format: "dense", ...csrToDense(m) };
}

export function randomMeta(rand: () => number): TicketMeta {
  return {
    dataset: "Cora-ünïcødé ✓",
    model: "gcn",
    method: ["dense", "oneshot", "fastglt", "ugs"][Math.floor(rand() * 4)],
    seed: Math.floor(rand() * 2 ** 31),
    graphSparsity: rand(),
    weightSparsity: rand(),
    edgesDense: 13264,
    weightsDense: 737_280,
    macsDense: 2 ** 40 + 3,
    macsTicket: rand() * 1e12,
    valAccuracy: rand(),
    testAccuracy: -0,
    denseTestAccuracy: Number.NaN,
    trainingSeconds: 1e-300,
    createdAt: new Date(1_700_000_000_000).toISOString(),
  };
}

export function randomTicket(spec: TicketSpec): Ticket {
  const rand = rng(spec.seed);
  const n = spec.numNodes;
  const rowPtr = new Int32Array(n + 1);
  const src: number[] = [];
  const coef: number[] = [];
  // GAT coefficients are edge-mask values: >= 0 (−0 included), some exactly 0
  const gat = spec.layers.some((s) => s.kind === "gat");
  for (let v = 0; v < n; v++) {
    const deg = rand() < 0.2 ? 0 : Math.floor(rand() * 2 * spec.avgDegree);
    for (let k = 0; k < deg; k++) {
      src.push(Math.floor(rand() * n));
      const c = value(rand, true);
      coef.push(!gat ? c : rand() < 0.1 ? 0 : Object.is(c, -0) ? c : Math.abs(c));
    }
    rowPtr[v + 1] = src.length;
  }
  const layers: TicketLayer[] = [];
  let fin = spec.inFeatures;
  for (const s of spec.layers) {
    const kind = s.kind ?? "gcn";
    const a = s.gat;
    if (kind === "gat" && (!a || s.out !== (a.concat ? a.heads * a.headFeatures : a.headFeatures))) {
      throw new Error("randomTicket: a gat layer needs a gat spec that its out follows from");
    }
    const cols = kind === "gat" ? a!.heads * a!.headFeatures : s.out;
    const vec = () => Float32Array.from({ length: cols }, () => value(rand, true));
    const attention = kind === "gat" ? { heads: a!.heads, headFeatures: a!.headFeatures, src: vec(), dst: vec(), negativeSlope: a!.negativeSlope ?? 0.2, concat: a!.concat } : undefined;
    layers.push({
      kind,
      inFeatures: fin,
      outFeatures: s.out,
      weight: randomWeight(rand, fin, cols, s),
      bias: s.bias === false ? null : Float32Array.from({ length: s.out }, () => value(rand, true)),
      activation: s.activation ?? "relu",
      ...(attention && { attention }),
    });
    fin = s.out;
  }
  const features = spec.featureDensity === null ? null : randomCsr(rand, n, spec.inFeatures, spec.featureDensity, 0.1, true);
  return {
    version: 1,
    numClasses: fin,
    graph: { numNodes: n, rowPtr, colIdx: Int32Array.from(src), coef: Float32Array.from(coef) },
    layers,
    features,
    meta: randomMeta(rand),
  };
}

/**
 * A structure equal (under toEqual) iff the tickets are bit-identical: typed arrays become their
 * type, length and raw bytes; −0 and NaN are spelled out.
 */
export function bits(x: unknown): unknown {
  // base64 of the raw bytes: exact, and fast to compare for big arrays
  if (x instanceof Float32Array) return `f32[${x.length}]:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64")}`;
  if (x instanceof Int32Array) return `i32[${x.length}]:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64")}`;
  if (typeof x === "number") return Object.is(x, -0) ? "-0" : Number.isNaN(x) ? "NaN" : x;
  if (Array.isArray(x)) return x.map(bits);
  if (x !== null && typeof x === "object") {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) o[k] = bits((x as Record<string, unknown>)[k]);
    return o;
  }
  return x;
}

/** The ticket with every weight matrix as dense (bit patterns kept), for format-independent comparison. */
export function withDenseWeights(t: Ticket): Ticket {
  return {
    ...t,
    layers: t.layers.map((l) => ({
      ...l,
      weight: l.weight.format === "dense" ? l.weight : { format: "dense" as const, ...csrToDense(l.weight) },
    })),
  };
}
