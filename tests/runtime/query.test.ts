// Node queries (GltModel.predict): logits over the receptive field only, equal to the full-graph
// run's rows, in every awkward case; and the receptive field itself.
import { describe, expect, it } from "vitest";
import { createModel, ModelError, type GltModel, type ModelOptions } from "../../runtime-wasm/host/model.js";
import { ReceptiveField } from "../../runtime-wasm/host/query.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { csrToDense, type CsrMatrix } from "../../ticket/csr.js";
import type { Ticket } from "../../ticket/ticket.js";
import { TestRng, randomCsr, randomDense, randomTicket, relErr, rowErr } from "./helpers.js";

const TOL = 1e-5;

/** Rows `ids` of a row-major matrix with `c` columns. */
function rows(m: Float32Array, ids: ArrayLike<number>, c: number): Float32Array {
  const out = new Float32Array(ids.length * c);
  for (let p = 0; p < ids.length; p++) out.set(m.subarray(ids[p] * c, ids[p] * c + c), p * c);
  return out;
}

/** The features with rows `ids` replaced by the rows of `x` (CSR, one per id). */
function withRows(t: Ticket, ids: number[], x: CsrMatrix): Float32Array {
  const f = t.layers[0].inFeatures;
  const d = csrToDense(t.features!).data.slice();
  const xd = csrToDense(x).data;
  ids.forEach((v, p) => d.set(xd.subarray(p * f, (p + 1) * f), v * f));
  return d;
}

/** Makes node v have no edges at all: its row emptied and every edge from it removed. */
function isolate(t: Ticket, v: number): void {
  const g = t.graph;
  const rowPtr = new Int32Array(g.numNodes + 1);
  const col: number[] = [];
  const coef: number[] = [];
  for (let r = 0; r < g.numNodes; r++) {
    if (r !== v) {
      for (let k = g.rowPtr[r]; k < g.rowPtr[r + 1]; k++) {
        if (g.colIdx[k] !== v) {
          col.push(g.colIdx[k]);
          coef.push(g.coef[k]);
        }
      }
    }
    rowPtr[r + 1] = col.length;
  }
  t.graph = { numNodes: g.numNodes, rowPtr, colIdx: Int32Array.from(col), coef: Float32Array.from(coef) };
}

function hasOutEdges(t: Ticket, v: number): boolean {
  return t.graph.colIdx.includes(v);
}

function inDegree(t: Ticket, v: number): number {
  return t.graph.rowPtr[v + 1] - t.graph.rowPtr[v];
}

describe("receptive field", () => {
  it("numbers hop sets as nested prefixes and renumbers the sub-CSR into them", () => {
    // a directed path 0 → 1 → 2 → 3 → 4 (row v holds v's in-edges), self-loops on 1..4, and 5 → 5
    const rowPtr = Int32Array.from([0, 0, 2, 4, 6, 8, 9]);
    const colIdx = Int32Array.from([0, 1, 1, 2, 2, 3, 3, 4, 5]);
    const coef = Float32Array.from(colIdx, (_, k) => k + 1);
    const f = new ReceptiveField({ numNodes: 6, rowPtr, colIdx }, 2);
    f.build([4, 4, 2]);
    expect(Array.from(f.bounds)).toEqual([2, 4, 5]); // {4, 2} → +{3, 1} → +{0}
    expect(Array.from(f.order.subarray(0, 5))).toEqual([4, 2, 3, 1, 0]);
    const rp = new Int32Array(5);
    const ci = new Int32Array(f.edgesOfPrefix(4));
    const va = new Float32Array(ci.length);
    f.writeSubCsr(4, coef, rp, ci, va);
    expect(Array.from(rp)).toEqual([0, 2, 4, 6, 8]);
    expect(Array.from(ci)).toEqual([2, 0, 3, 1, 1, 2, 4, 3]); // row of 4: in-edges from 3 (local 2) and 4 (local 0); row of 1: from 0 (local 4) and 1 (local 3)
    expect(Array.from(va)).toEqual([7, 8, 3, 4, 5, 6, 1, 2]);
    f.clear();
    for (let v = 0; v < 6; v++) expect(f.localOf(v)).toBe(-1);
    f.build([0]); // no in-edges: the field is the node alone
    expect(Array.from(f.bounds)).toEqual([1, 1, 1]);
    f.build([5]);
    expect(Array.from(f.bounds)).toEqual([1, 1, 1]);
    expect(f.localOf(0)).toBe(-1);
  });
});

describe("predict(nodeIds) equals the full-graph rows, bitwise", () => {
  for (const variant of ["release", "debug"] as const) {
    it(`random tickets, 1 to 3 layers, every order and weight kernel, many queries (${variant})`, () => {
      const rng = new TestRng(41);
      for (const widths of [[9, 4], [13, 17, 5], [20, 11, 16, 3]]) {
        for (const edgeProb of [0.02, 0.08, 0.3]) {
          const L = widths.length - 1;
          const t = randomTicket(rng, { nodes: 60, widths, edgeProb, isolated: 0.1, formats: new Array(L).fill(0).map((_, i) => (i % 2 ? "dense" : "csr")), densities: new Array(L).fill(0).map((_, i) => [0.1, 0.7, 0.4][i]) });
          const expected = referenceForward(t);
          const C = t.numClasses;
          for (const opts of [{}, { order: "aggregate-first", weightKernel: "sparse" }, { order: "transform-first", weightKernel: "dense" }, { measure: false }] as ModelOptions[]) {
            const m = createModel(t, { ...opts, variant });
            const full = m.run();
            expect(relErr(full, expected)).toBeLessThanOrEqual(TOL);
            for (const size of [1, 2, 7, 30]) {
              const ids = Array.from({ length: size }, () => rng.int(60));
              const got = m.predict(ids);
              const label = `widths ${widths} p=${edgeProb} ${JSON.stringify(opts)} ids ${ids}`;
              // the same kernels sum every row in the same order: bitwise the full run's rows
              expect(Array.from(got), label).toEqual(Array.from(rows(full, ids, C)));
              expect(rowErr(got, rows(expected, ids, C), C), label).toBeLessThanOrEqual(TOL);
            }
          }
        }
      }
    });
  }

  it("awkward nodes: isolated, no in-edges, duplicates, all nodes, empty query, Int32Array", () => {
    const rng = new TestRng(42);
    const t = randomTicket(rng, { nodes: 50, widths: [12, 10, 4], edgeProb: 0.06, isolated: 0.15, formats: ["csr", "dense"], densities: [0.3, 0.8] });
    isolate(t, 7);
    const noIn = Array.from({ length: 50 }, (_, v) => v).filter((v) => inDegree(t, v) === 0 && hasOutEdges(t, v));
    expect(noIn.length).toBeGreaterThan(0); // the ticket has nodes that only send
    const m = createModel(t, { variant: "debug" });
    const full = m.run();
    const C = 4;
    expect(rowErr(full, referenceForward(t), C)).toBeLessThanOrEqual(TOL);
    const check = (ids: number[] | Int32Array, label: string) => {
      const got = m.predict(ids);
      expect(got.length, label).toBe(ids.length * C);
      expect(Array.from(got), label).toEqual(Array.from(rows(full, ids, C)));
    };
    check([7], "isolated node");
    // an isolated node's logits are the bias chain alone: the same for every isolated node
    check([noIn[0]], "no in-edges");
    check(noIn, "all the nodes without in-edges");
    check([3, 3, 3], "one node three times");
    check([5, 7, 5, 12, 7, noIn[0], 5], "duplicates mixed");
    check(Array.from({ length: 50 }, (_, v) => v), "all nodes in order");
    check(Array.from({ length: 50 }, (_, v) => 49 - v), "all nodes reversed");
    check(Array.from({ length: 120 }, () => rng.int(50)), "more ids than nodes");
    check(Int32Array.from([1, 2, 3]), "Int32Array");
    expect(m.predict([])).toEqual(new Float32Array(0));
  });

  it("new feature rows for the queried nodes replace their stored ones (CSR, dense, Float32Array)", () => {
    const rng = new TestRng(43);
    for (const featureDensity of [0.1, 0.9]) {
      // 0.9: the gathered input is dense enough to take the dense-input path
      const t = randomTicket(rng, { nodes: 40, widths: [15, 9, 3], edgeProb: 0.1, featureDensity, formats: ["dense", "csr"], densities: [0.5, 0.6] });
      const m = createModel(t, { variant: "debug" });
      const C = 3;
      for (const ids of [[4], [0, 9, 17], [6, 6], Array.from({ length: 40 }, (_, v) => v)]) {
        const x = randomCsr(rng, ids.length, 15, featureDensity);
        // duplicates carry the same row
        ids.forEach((v, p) => {
          const first = ids.indexOf(v);
          if (first !== p) {
            const d = csrToDense(x).data;
            d.set(d.subarray(first * 15, first * 15 + 15), p * 15);
            Object.assign(x, denseCsr(d, ids.length, 15));
          }
        });
        const expected = rows(referenceForward(t, withRows(t, ids, x)), ids, C);
        const xd = csrToDense(x);
        for (const [label, features] of [["csr", x], ["dense", xd], ["array", xd.data]] as const) {
          expect(rowErr(m.predict(ids, { features }), expected, C), `${label} density ${featureDensity} ids ${ids}`).toBeLessThanOrEqual(TOL);
        }
        // the stored features are untouched
        expect(rowErr(m.predict(ids), rows(referenceForward(t), ids, C), C)).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it("dead hidden units and unread features: the same rows, also when every hidden unit is dead", () => {
    const rng = new TestRng(47);
    const t = randomTicket(rng, { nodes: 40, widths: [20, 16, 4], formats: ["dense", "dense"], edgeProb: 0.05 });
    const w0 = t.layers[0].weight;
    const w1 = t.layers[1].weight;
    if (w0.format !== "dense" || w1.format !== "dense") throw new Error("test setup");
    for (const j of [0, 3, 15]) w1.data.fill(0, j * 4, (j + 1) * 4);
    for (const i of [2, 7]) w0.data.fill(0, i * 16, (i + 1) * 16);
    for (const variant of ["release", "debug"] as const) {
      const m = createModel(t, { variant });
      expect(m.plan.droppedUnits).toBe(3);
      const ids = [0, 5, 5, 39, 17];
      expect(Array.from(m.predict(ids))).toEqual(Array.from(rows(m.run(), ids, 4)));
      const some = [0, 39, 17];
      const x = randomCsr(rng, some.length, 20, 0.4); // entries in unread features 2 and 7 change nothing
      expect(rowErr(m.predict(some, { features: x }), rows(referenceForward(t, withRows(t, some, x)), some, 4), 4)).toBeLessThanOrEqual(TOL);
    }
    w1.data.fill(0);
    const dead = createModel(t);
    expect(dead.plan.layers[0].outFeatures).toBe(0);
    expect(Array.from(dead.predict([1, 2]))).toEqual(Array.from(rows(dead.run(), [1, 2], 4)));
    expect(rowErr(dead.predict([1], { features: randomDense(rng, 20) }), rows(referenceForward(t), [1], 4), 4)).toBeLessThanOrEqual(TOL);
  });

  it("a ticket without features answers queries whose field is the queried nodes", () => {
    const rng = new TestRng(44);
    const t = randomTicket(rng, { nodes: 30, widths: [6, 5, 2], withFeatures: false, edgeProb: 0.1 });
    isolate(t, 3);
    const m = createModel(t);
    const x = randomDense(rng, 6);
    const all = new Float32Array(30 * 6);
    all.set(x, 3 * 6);
    expect(rowErr(m.predict([3], { features: x }), rows(referenceForward(t, all), [3], 2), 2)).toBeLessThanOrEqual(TOL);
    const busy = Array.from({ length: 30 }, (_, v) => v).find((v) => inDegree(t, v) > 1)!;
    expect(() => m.predict([busy], { features: randomDense(rng, 6) })).toThrow(/receptive field/);
    expect(() => m.predict([3])).toThrow(/no features/);
  });

  it("rejects bad queries with ModelError", () => {
    const rng = new TestRng(45);
    const t = randomTicket(rng, { nodes: 20, widths: [5, 4, 3] });
    const m = createModel(t);
    expect(() => m.predict([20])).toThrow(ModelError);
    expect(() => m.predict([3, -1])).toThrow(/-1 \(entry 1\) is not in \[0, 20\)/);
    expect(() => m.predict([1.5])).toThrow(ModelError);
    expect(() => m.predict([Number.NaN])).toThrow(ModelError);
    expect(() => m.predict("1" as never)).toThrow(ModelError);
    expect(() => m.predict([1, 2], { features: new Float32Array(5) })).toThrow(/2 × 5 = 10/);
    expect(() => m.predict([1], { features: randomCsr(rng, 1, 6, 0.5) })).toThrow(/1 × 6, expected .* 1 × 5/);
    expect(() => m.predict([1], { features: { rows: 2, cols: 5, data: new Float32Array(10) } })).toThrow(ModelError);
    expect(() => m.predict([1, 1], { features: randomDense(rng, 10) })).toThrow(/different feature rows/);
    expect(() => m.predict([1], { out: new Float32Array(2) })).toThrow(/out/);
    const out = new Float32Array(6);
    expect(m.predict([1, 2], { out })).toBe(out);
  });

  it("repeated queries reuse their buffers: memory stops growing", () => {
    const rng = new TestRng(46);
    const t = randomTicket(rng, { nodes: 200, widths: [30, 16, 5], edgeProb: 0.02 });
    const m: GltModel = createModel(t);
    const big = Array.from({ length: 200 }, (_, v) => v);
    m.predict(big, { features: randomCsr(rng, 200, 30, 0.2) });
    m.predict(big, { features: randomDense(rng, 200 * 30) });
    const bytes = m.memoryBytes;
    for (let i = 0; i < 50; i++) {
      const ids = [...new Set(Array.from({ length: 1 + rng.int(60) }, () => rng.int(200)))];
      m.predict(ids);
      m.predict(ids, { features: randomDense(rng, ids.length * 30, 0.5) });
    }
    expect(m.memoryBytes).toBe(bytes);
  });
});

function denseCsr(d: Float32Array, r: number, c: number): CsrMatrix {
  const rowPtr = new Int32Array(r + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      if (d[i * c + j] !== 0) {
        col.push(j);
        val.push(d[i * c + j]);
      }
    }
    rowPtr[i + 1] = col.length;
  }
  return { rows: r, cols: c, rowPtr, colIdx: Int32Array.from(col), values: Float32Array.from(val) };
}
