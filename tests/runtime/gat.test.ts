// GIN and GAT tickets on the wasm model against the plain reference forward (referenceForward, f64),
// node queries against the full run (bitwise), profiles, and the checks that refuse malformed
// GAT tickets.
import { describe, expect, it } from "vitest";
import { encodeTicket } from "../../exporter/protobuf.js";
import { loadModel } from "../../runtime-wasm/host/index.js";
import { createModel, createModelAsync, ModelError, type ModelOptions } from "../../runtime-wasm/host/model.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { csrToDense } from "../../ticket/csr.js";
import { gatMacs, weightNnz, type Ticket } from "../../ticket/ticket.js";
import { TestRng, randomCsr, randomDense, randomGatTicket, randomTicket, rowErr, type GatTicketSpec } from "./helpers.js";

const TOL = 1e-5;

function rows(m: Float32Array, ids: ArrayLike<number>, c: number): Float32Array {
  const out = new Float32Array(ids.length * c);
  for (let p = 0; p < ids.length; p++) out.set(m.subarray(ids[p] * c, ids[p] * c + c), p * c);
  return out;
}

/** Nodes with in-edges, all of coefficient 0 (their attention rows aggregate to 0). */
function zeroCoefRows(t: Ticket): number[] {
  const g = t.graph;
  const out: number[] = [];
  for (let v = 0; v < g.numNodes; v++) {
    if (g.rowPtr[v + 1] > g.rowPtr[v] && g.coef.subarray(g.rowPtr[v], g.rowPtr[v + 1]).every((c) => c === 0)) out.push(v);
  }
  return out;
}

const SPECS: [string, Omit<GatTicketSpec, "nodes">][] = [
  [
    "hidden 3 heads × 5 concat ELU, output 1 head mean, dense weights",
    { inFeatures: 13, layers: [{ heads: 3, headFeatures: 5, concat: true, activation: "elu" }, { heads: 1, headFeatures: 3, concat: false, activation: "none" }] },
  ],
  [
    "hidden 2 heads × 7 concat ELU, output 3 heads mean, CSR weights",
    {
      inFeatures: 22, featureDensity: 0.3,
      layers: [
        { heads: 2, headFeatures: 7, concat: true, activation: "elu", format: "csr", density: 0.3 },
        { heads: 3, headFeatures: 4, concat: false, activation: "none", format: "csr", density: 0.6 },
      ],
    },
  ],
  [
    "hidden 1 head × 17, ReLU, output 3 heads × 2 mean, no bias, slope 0",
    {
      inFeatures: 9, bias: false, negativeSlope: 0,
      layers: [{ heads: 1, headFeatures: 17, concat: true, activation: "relu", format: "csr", density: 0.5 }, { heads: 3, headFeatures: 2, concat: false, activation: "none" }],
    },
  ],
];

describe("GAT forward on wasm vs the reference", () => {
  for (const variant of ["release", "debug"] as const) {
    it(`awkward tickets, every weight kernel, own CSR features and dense ones (${variant})`, () => {
      const rng = new TestRng(71);
      for (const [name, spec] of SPECS) {
        const t = randomGatTicket(rng, { nodes: 45, edgeProb: 0.08, isolated: 0.1, zeroCoef: 0.15, ...spec });
        const C = t.numClasses;
        const expected = referenceForward(t);
        const dense = csrToDense(t.features!).data;
        const other = randomDense(rng, 45 * spec.inFeatures, 0.3);
        const expectedOther = referenceForward(t, other);
        for (const opts of [{}, { weightKernel: "sparse" }, { weightKernel: "dense" }, { measure: false }] as ModelOptions[]) {
          const label = `${name} ${JSON.stringify(opts)}`;
          const m = createModel(t, { ...opts, variant });
          expect(m.plan.droppedUnits, label).toBe(0);
          expect(rowErr(m.run(), expected, C), `own ${label}`).toBeLessThanOrEqual(TOL);
          expect(rowErr(m.run({ features: dense }), expected, C), `dense array run as CSR ${label}`).toBeLessThanOrEqual(TOL);
          expect(rowErr(m.run({ features: other }), expectedOther, C), `other dense ${label}`).toBeLessThanOrEqual(TOL);
          const md = createModel(t, { ...opts, variant, denseInputMaxDensity: 0 });
          expect(rowErr(md.run({ features: dense }), expected, C), `dense path ${label}`).toBeLessThanOrEqual(TOL);
          expect(rowErr(md.run({ features: other }), expectedOther, C), `other dense path ${label}`).toBeLessThanOrEqual(TOL);
          expect(rowErr(m.run(), expected, C), `own again ${label}`).toBeLessThanOrEqual(TOL);
        }
      }
    });
  }

  it("three layers, widths past the kernels' 16-wide tiles, and the async loader", async () => {
    const rng = new TestRng(72);
    const t = randomGatTicket(rng, {
      nodes: 120, inFeatures: 70, edgeProb: 0.04, isolated: 0.05, zeroCoef: 0.1,
      layers: [
        { heads: 3, headFeatures: 19, concat: true, activation: "elu", format: "csr", density: 0.2 },
        { heads: 2, headFeatures: 33, concat: true, activation: "elu", density: 0.5 },
        { heads: 3, headFeatures: 6, concat: false, activation: "none", format: "csr", density: 0.4 },
      ],
    });
    const m = await createModelAsync(t);
    expect(rowErr(m.run(), referenceForward(t), 6)).toBeLessThanOrEqual(TOL);
  });

  it("isolated nodes and rows whose coefficients are all 0 aggregate to 0: their logits are the bias chain", () => {
    const rng = new TestRng(73);
    const t = randomGatTicket(rng, { nodes: 40, inFeatures: 8, edgeProb: 0.05, isolated: 0.2, zeroCoef: 0.6, layers: SPECS[0][1].layers });
    const zero = zeroCoefRows(t);
    const isolated = Array.from({ length: 40 }, (_, v) => v).filter((v) => t.graph.rowPtr[v + 1] === t.graph.rowPtr[v]);
    expect(zero.length).toBeGreaterThan(0);
    expect(isolated.length).toBeGreaterThan(0);
    const out = createModel(t, { variant: "debug" }).run();
    expect(rowErr(out, referenceForward(t), 3)).toBeLessThanOrEqual(TOL);
    // the last layer aggregates nothing at such a node either: its logits are exactly the last bias
    for (const v of [...zero, ...isolated]) expect(Array.from(out.subarray(v * 3, v * 3 + 3))).toEqual(Array.from(t.layers[1].bias!));
  });

  it("no dead units are dropped across GAT layers, even where a row of the next W is all zero", () => {
    const rng = new TestRng(74);
    const t = randomGatTicket(rng, { nodes: 30, inFeatures: 10, layers: SPECS[0][1].layers });
    const w1 = t.layers[1].weight;
    if (w1.format !== "dense") throw new Error("test setup");
    for (const j of [0, 4, 9]) w1.data.fill(0, j * w1.cols, (j + 1) * w1.cols); // hidden units 0, 4, 9 feed no Z of layer 1
    const w0 = t.layers[0].weight;
    if (w0.format !== "dense") throw new Error("test setup");
    w0.data.fill(0, 3 * w0.cols, 4 * w0.cols); // input feature 3 is read by nothing
    const m = createModel(t);
    expect(m.plan.droppedUnits).toBe(0);
    expect(m.plan.usedFeatures).toBe(9);
    expect(rowErr(m.run(), referenceForward(t), 3)).toBeLessThanOrEqual(TOL);
  });
});

describe("GAT and GIN .glt files through loadModel", () => {
  it("encode, load, run: equal to the reference of the decoded ticket; queries equal the run", async () => {
    const rng = new TestRng(80);
    const gat = randomGatTicket(rng, { nodes: 50, edgeProb: 0.06, zeroCoef: 0.1, ...SPECS[1][1] });
    const gin = randomTicket(rng, { kind: "gin", hiddenActivation: "elu", nodes: 50, widths: [11, 9, 4], formats: ["csr", "dense"], densities: [0.3, 0.9] });
    for (const t of [gat, gin]) {
      const m = await loadModel(encodeTicket(t), { variant: "debug" });
      const out = m.run();
      expect(rowErr(out, referenceForward(t), t.numClasses), t.layers[0].kind).toBeLessThanOrEqual(TOL);
      expect(Array.from(m.predict([2, 30, 2]))).toEqual(Array.from(rows(out, [2, 30, 2], t.numClasses)));
    }
  });
});

describe("GAT node queries equal the full run, bitwise", () => {
  for (const variant of ["release", "debug"] as const) {
    it(`chosen nodes, duplicates, isolated and zero-coefficient rows, every weight kernel (${variant})`, () => {
      const rng = new TestRng(75);
      for (const [name, spec] of SPECS) {
        const t = randomGatTicket(rng, { nodes: 60, edgeProb: 0.05, isolated: 0.1, zeroCoef: 0.2, ...spec });
        const C = t.numClasses;
        const expected = referenceForward(t);
        const special = [...zeroCoefRows(t).slice(0, 2), ...Array.from({ length: 60 }, (_, v) => v).filter((v) => t.graph.rowPtr[v + 1] === t.graph.rowPtr[v]).slice(0, 2)];
        for (const opts of [{}, { weightKernel: "sparse" }, { weightKernel: "dense" }] as ModelOptions[]) {
          const m = createModel(t, { ...opts, variant });
          const full = m.run();
          for (const ids of [[0], [5, 17], [3, 3, 41], special, Array.from({ length: 25 }, () => rng.int(60)), Array.from({ length: 60 }, (_, v) => 59 - v)]) {
            const label = `${name} ${JSON.stringify(opts)} ids ${ids}`;
            const got = m.predict(ids);
            expect(Array.from(got), label).toEqual(Array.from(rows(full, ids, C)));
            expect(rowErr(got, rows(expected, ids, C), C), label).toBeLessThanOrEqual(TOL);
          }
        }
      }
    });
  }

  it("new feature rows for the queried nodes (CSR and dense), against the reference", () => {
    const rng = new TestRng(76);
    const t = randomGatTicket(rng, { nodes: 40, edgeProb: 0.08, ...SPECS[1][1] });
    const f = t.layers[0].inFeatures;
    const C = t.numClasses;
    const m = createModel(t, { variant: "debug" });
    for (const ids of [[4], [0, 9, 17]]) {
      for (const density of [0.2, 0.9]) {
        const x = randomCsr(rng, ids.length, f, density);
        const all = csrToDense(t.features!).data.slice();
        const xd = csrToDense(x).data;
        ids.forEach((v, p) => all.set(xd.subarray(p * f, (p + 1) * f), v * f));
        const want = rows(referenceForward(t, all), ids, C);
        expect(rowErr(m.predict(ids, { features: x }), want, C), `csr ids ${ids} density ${density}`).toBeLessThanOrEqual(TOL);
        expect(rowErr(m.predict(ids, { features: xd }), want, C), `dense ids ${ids} density ${density}`).toBeLessThanOrEqual(TOL);
      }
    }
  });
});

describe("GAT profile and memory", () => {
  const rng = new TestRng(77);
  const t = randomGatTicket(rng, { nodes: 150, edgeProb: 0.03, zeroCoef: 0.2, ...SPECS[1][1] });
  const m = createModel(t);

  it("full graph: transform, attention and aggregate per layer; executed MACs = planned steps; ticket MACs = gatMacs", () => {
    const p = m.profile();
    expect(p.input).toBe("csr");
    expect(rowErr(p.logits, referenceForward(t), t.numClasses)).toBeLessThanOrEqual(TOL);
    const steps = m.steps();
    expect(p.layers.flatMap((l) => l.steps.map((s) => [s.layer, s.op, s.kernel, s.macs]))).toEqual(steps.map((s) => [s.layer, s.op, s.kernel, s.macs]));
    expect(steps.map((s) => s.op)).toEqual(["transform", "attention", "aggregate", "transform", "attention", "aggregate"]);
    const E = t.graph.colIdx.length;
    const kept = t.graph.coef.filter((c) => c > 0).length;
    expect(kept).toBeLessThan(E);
    t.layers.forEach((l, i) => {
      const a = l.attention!;
      expect(p.layers[i].ticketMacs).toBe(gatMacs(150, E, weightNnz(l.weight), a.heads, a.headFeatures));
      // 0-coefficient edges are skipped: the aggregation executes kept edges only
      expect(p.layers[i].steps[2].macs).toBe(kept * a.heads * (a.headFeatures + 1));
      expect(p.layers[i].steps[1].macs).toBe(2 * 150 * a.heads * a.headFeatures);
    });
    const q = m.profile({ nodes: [7] });
    expect(q.layers[1].rows).toBe(1);
    expect(q.executedMacs).toBeLessThan(p.executedMacs);
    expect(Array.from(q.logits)).toEqual(Array.from(p.logits.subarray(7 * t.numClasses, 8 * t.numClasses)));
    const kept7 = Array.from(t.graph.coef.subarray(t.graph.rowPtr[7], t.graph.rowPtr[8])).filter((c) => c > 0).length;
    const a1 = t.layers[1].attention!;
    expect(q.layers[1].steps[2].macs).toBe(kept7 * a1.heads * (a1.headFeatures + 1));
  });

  it("repeated runs and queries reuse their buffers: memory stops growing", () => {
    const x = randomDense(rng, 150 * 22, 0.5);
    m.run();
    m.run({ features: x });
    m.predict(Array.from({ length: 150 }, (_, v) => v), { features: randomDense(rng, 150 * 22) });
    const bytes = m.memoryBytes;
    for (let i = 0; i < 20; i++) {
      m.run();
      m.run({ features: x });
      const ids = [...new Set(Array.from({ length: 1 + rng.int(40) }, () => rng.int(150)))];
      m.predict(ids);
      m.predict(ids, { features: randomDense(rng, ids.length * 22, 0.5) });
    }
    expect(m.memoryBytes).toBe(bytes);
  });
});

describe("GIN tickets and ELU on GCN/GIN layers", () => {
  for (const variant of ["release", "debug"] as const) {
    it(`a random GIN ticket runs equal to the reference; queries equal the run (${variant})`, () => {
      const rng = new TestRng(78);
      for (const hiddenActivation of ["relu", "elu"] as const) {
        for (const kind of ["gin", "gcn"] as const) {
          const t = randomTicket(rng, { kind, hiddenActivation, nodes: 50, widths: [19, 13, 6, 5], formats: ["csr", "dense", "csr"], densities: [0.2, 0.8, 0.5], edgeProb: 0.06 });
          const expected = referenceForward(t);
          for (const opts of [{}, { order: "aggregate-first" }, { order: "transform-first", weightKernel: "sparse" }] as ModelOptions[]) {
            const label = `${kind} ${hiddenActivation} ${JSON.stringify(opts)}`;
            const m = createModel(t, { ...opts, variant });
            const full = m.run();
            expect(rowErr(full, expected, 5), label).toBeLessThanOrEqual(TOL);
            const xd = randomDense(rng, 50 * 19, 0.4);
            expect(rowErr(m.run({ features: xd }), referenceForward(t, xd), 5), `dense ${label}`).toBeLessThanOrEqual(TOL);
            const ids = [1, 8, 8, 33, 49];
            expect(Array.from(m.predict(ids)), label).toEqual(Array.from(rows(full, ids, 5)));
            const p = m.profile();
            expect(p.layers.flatMap((l) => l.steps.map((s) => [s.op, s.macs]))).toEqual(m.steps().map((s) => [s.op, s.macs]));
            expect(p.layers.flatMap((l) => l.steps).filter((s) => s.op === "activation").length).toBe(hiddenActivation === "elu" ? 2 : 0);
          }
        }
      }
    });
  }
});

describe("checkTicket refuses malformed GAT tickets", () => {
  const rng = new TestRng(79);
  const base = () => randomGatTicket(rng, { nodes: 12, ...SPECS[0][1] });
  const layer0 = (t: Ticket) => t.layers[0];

  it("says what is wrong and where", () => {
    const cases: [string, (t: Ticket) => void, RegExp][] = [
      ["no attention", (t) => delete layer0(t).attention, /layer 0: is gat but has no attention/],
      ["src too short", (t) => (layer0(t).attention!.src = new Float32Array(14)), /layer 0: attention src has 14 values, expected heads × headFeatures = 15/],
      ["dst NaN", (t) => (layer0(t).attention!.dst[3] = NaN), /attention dst\[3\] is NaN/],
      ["heads 0", (t) => (layer0(t).attention!.heads = 0), /heads 0 and headFeatures 5 must be positive integers/],
      ["outFeatures vs heads", (t) => (layer0(t).attention!.heads = 2), /outFeatures is 15, expected heads × headFeatures = 2 × 5 \(concat\) = 10/],
      ["mean width", (t) => (layer0(t).attention!.concat = false), /outFeatures is 15, expected headFeatures \(heads averaged\) = 5/],
      ["slope", (t) => (layer0(t).attention!.negativeSlope = Infinity), /negativeSlope Infinity is not finite/],
      ["negative coefficient", (t) => (t.graph.coef[2] = -0.5), /graph: coef\[2\] = -0.5: .* ≥ 0/],
      ["mixed kinds", (t) => (t.layers[1].kind = "gcn"), /layer 1: is gcn but layer 0 is gat/],
      ["attention on a gcn layer", (t) => {
        for (const l of t.layers) l.kind = "gin";
      }, /layer 0: is gin but carries attention/],
      ["unknown activation", (t) => (layer0(t).activation = "tanh" as never), /unknown activation "tanh"/],
      ["huge attention", (t) => (layer0(t).attention!.src[0] = 1e38), /overflow float32 at layer 0 \(gat\)/],
    ];
    for (const [name, mutate, message] of cases) {
      const t = base();
      mutate(t);
      expect(() => createModel(t), name).toThrow(ModelError);
      expect(() => createModel(t), name).toThrow(message);
    }
    const w = base();
    w.layers[0].weight = { format: "dense", rows: 13, cols: 14, data: new Float32Array(13 * 14) };
    expect(() => createModel(w)).toThrow(/weight is 13 × 14, expected inFeatures × heads × headFeatures = 13 × 15/);
    expect(() => createModel(base())).not.toThrow();
  });
});
