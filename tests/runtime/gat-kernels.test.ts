// The GAT kernels (f32_gat_scores, f32_gat_aggregate) and the ELU of f32_bias_act against their
// plain TypeScript references, on random inputs of awkward sizes, for both builds.
import { describe, expect, it, beforeAll, afterEach } from "vitest";
import { WasmRuntime, WasmAssertionError, type WasmVariant } from "../../runtime-wasm/host/wasm-module.js";
import { refBiasAct, refGatAggregate, refGatScores, ACT_CODE, type ActName } from "../../runtime-wasm/host/reference.js";
import type { CsrMatrix } from "../../ticket/csr.js";
import { TestRng, randomCsr, randomDense, relErr, Mem } from "./helpers.js";

const FEATS = [1, 3, 4, 5, 8, 13, 16, 17, 24, 33];
const TOL = 1e-5;

/** A random graph of `rows` destination rows over `cols` sources: coefficients in (0, 1], a share of them 0, some rows empty. */
function randomGraph(rng: TestRng, rows: number, cols: number, density: number, empty: number, zeroCoef: number): CsrMatrix {
  const a = randomCsr(rng, rows, cols, density, empty);
  for (let k = 0; k < a.values.length; k++) a.values[k] = rng.next() < zeroCoef ? 0 : 0.05 + 0.95 * rng.next();
  return a;
}

function maxDegree(a: CsrMatrix): number {
  let d = 0;
  for (let i = 0; i < a.rows; i++) d = Math.max(d, a.rowPtr[i + 1] - a.rowPtr[i]);
  return d;
}

for (const variant of ["release", "debug"] as WasmVariant[]) {
  describe(`GAT kernels (${variant})`, () => {
    let rt: WasmRuntime;
    let mem: Mem;
    beforeAll(() => {
      rt = WasmRuntime.create(variant);
      mem = new Mem(rt);
    });
    afterEach(() => mem.reset());

    it("f32_gat_scores: el over rowsL rows, er over the first rowsR, heads 1 and 3", () => {
      const rng = new TestRng(61);
      for (const heads of [1, 2, 3]) {
        for (const f of FEATS) {
          for (const [rowsL, rowsR] of [[1, 1], [7, 7], [23, 5], [40, 0]] as const) {
            const z = randomDense(rng, rowsL * heads * f, 0.2);
            const aSrc = randomDense(rng, heads * f);
            const aDst = randomDense(rng, heads * f);
            const el = mem.out(rowsL * heads);
            const er = mem.out(Math.max(1, rowsR * heads));
            rt.exports.f32_gat_scores(rowsL, rowsR, heads, f, mem.f32(z), mem.f32(aSrc), mem.f32(aDst), el, er);
            const want = refGatScores(rowsL, rowsR, heads, f, z, aSrc, aDst);
            const label = `heads=${heads} F=${f} rows ${rowsL}/${rowsR}`;
            expect(relErr(mem.read(el, rowsL * heads), want.el), label).toBeLessThanOrEqual(TOL);
            expect(relErr(mem.read(er, rowsR * heads), want.er), label).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_gat_aggregate: softmax + weighted sum per row, concat and mean, bias, every activation, empty rows and 0 coefficients", () => {
      const rng = new TestRng(62);
      for (const heads of [1, 3]) {
        for (const f of FEATS) {
          for (const [rows, zRows, density, empty, zeroCoef] of [[1, 1, 1, 0, 0], [30, 30, 0.15, 0.2, 0.2], [9, 41, 0.3, 0.3, 0.5], [12, 12, 0.4, 0, 1], [20, 20, 0, 0, 0]] as const) {
            const g = randomGraph(rng, rows, zRows, density, empty, zeroCoef);
            const z = randomDense(rng, zRows * heads * f, 0.1);
            // scores up to ±30: exp(30) would swamp an unshifted f32 sum's precision
            const el = randomDense(rng, zRows * heads).map((x) => 30 * x);
            const er = randomDense(rng, rows * heads).map((x) => 30 * x);
            const slope = [0.2, 0, 1][rng.int(3)];
            for (const concat of [true, false]) {
              for (const act of ["none", "relu", "elu"] as ActName[]) {
                const outW = concat ? heads * f : f;
                const bias = rng.next() < 0.6 ? randomDense(rng, outW) : null;
                const p = mem.csr(g);
                const out = mem.out(rows * outW);
                const scratch = mem.out(rt.exports.f32_gat_aggregate_scratch(maxDegree(g), heads) / 4);
                rt.exports.f32_gat_aggregate(
                  rows, heads, f, zRows, p.rowPtr, p.colIdx, p.values, mem.f32(z), mem.f32(el), mem.f32(er),
                  slope, concat ? 1 : 0, bias ? mem.f32(bias) : 0, ACT_CODE[act], out, scratch, maxDegree(g),
                );
                const want = refGatAggregate(g, heads, f, z, el, er, slope, concat, bias, act);
                const label = `heads=${heads} F=${f} rows=${rows}/${zRows} nnz=${g.colIdx.length} concat=${concat} ${act} slope=${slope}`;
                expect(relErr(mem.read(out, rows * outW), want), label).toBeLessThanOrEqual(TOL);
                mem.reset();
              }
            }
          }
        }
      }
    });

    it("f32_gat_aggregate: rows without kept in-edges aggregate to 0 (then bias and activation)", () => {
      const heads = 2;
      const f = 5;
      // row 0: no edges; row 1: only 0-coefficient edges; row 2: one kept edge among 0-coefficient ones
      const g: CsrMatrix = { rows: 3, cols: 3, rowPtr: Int32Array.from([0, 0, 2, 5]), colIdx: Int32Array.from([0, 2, 0, 1, 2]), values: Float32Array.from([0, 0, 0, 0.5, 0]) };
      const rng = new TestRng(63);
      const z = randomDense(rng, 3 * heads * f);
      const el = randomDense(rng, 3 * heads);
      const er = randomDense(rng, 3 * heads);
      const bias = randomDense(rng, f);
      const p = mem.csr(g);
      const out = mem.out(3 * f);
      rt.exports.f32_gat_aggregate(3, heads, f, 3, p.rowPtr, p.colIdx, p.values, mem.f32(z), mem.f32(el), mem.f32(er), 0.2, 0, mem.f32(bias), ACT_CODE.elu, out, mem.out(rt.exports.f32_gat_aggregate_scratch(3, heads) / 4), 3);
      const got = mem.read(out, 3 * f);
      const elu = (x: number) => (x > 0 ? x : Math.expm1(x));
      for (const r of [0, 1]) for (let c = 0; c < f; c++) expect(got[r * f + c]).toBeCloseTo(elu(bias[c]), 6);
      // one kept edge: α = 1, so row 2 is the mean over heads of Z[1, k, :]
      for (let c = 0; c < f; c++) expect(got[2 * f + c]).toBeCloseTo(elu((z[1 * heads * f + c] + z[1 * heads * f + f + c]) / 2 + bias[c]), 6);
    });

    it("f32_gat_aggregate: large scores stay finite (max-shifted exponentials)", () => {
      // integer scores and slope 1/4: every score is exact in f32, so only the softmax's own rounding differs
      const rows = 6;
      const heads = 3;
      const f = 7;
      const rng = new TestRng(64);
      const g = randomGraph(rng, rows, rows, 0.8, 0, 0);
      const z = randomDense(rng, rows * heads * f);
      const el = Float32Array.from({ length: rows * heads }, () => 1000 + rng.int(40) - 20);
      const er = Float32Array.from({ length: rows * heads }, () => rng.int(2) ? 900 : -3000);
      const p = mem.csr(g);
      const out = mem.out(rows * heads * f);
      rt.exports.f32_gat_aggregate(rows, heads, f, rows, p.rowPtr, p.colIdx, p.values, mem.f32(z), mem.f32(el), mem.f32(er), 0.25, 1, 0, 0, out, mem.out(rt.exports.f32_gat_aggregate_scratch(rows, heads) / 4), rows);
      const got = mem.read(out, rows * heads * f);
      expect(got.every(Number.isFinite)).toBe(true);
      expect(relErr(got, refGatAggregate(g, heads, f, z, el, er, 0.25, true, null, "none"))).toBeLessThanOrEqual(TOL);
    });

    it("f32_bias_act with ELU (act 2) and with no activation", () => {
      const rng = new TestRng(65);
      for (const rows of [1, 3, 17]) {
        for (const f of FEATS) {
          const x = randomDense(rng, rows * f).map((v) => 4 * v);
          const bias = randomDense(rng, f);
          for (const [b, act] of [[true, "elu"], [false, "elu"], [true, "none"]] as const) {
            const ptr = mem.f32(x);
            rt.exports.f32_bias_act(rows, f, ptr, b ? mem.f32(bias) : 0, ACT_CODE[act]);
            const got = mem.read(ptr, rows * f);
            const want = refBiasAct(rows, f, x, b ? bias : null, act);
            // the wasm expm1f and the f64 expm1 rounded to f32 may differ in the last bit
            for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `${act} rows=${rows} F=${f} [${i}]`).toBeLessThanOrEqual(2 ** -22 * Math.max(Math.abs(want[i]), 2 ** -10));
            if (act === "none") expect(got).toEqual(want);
          }
          mem.reset();
        }
      }
    });

    it("f32_bias_act ELU: within 1 ulp of the f64 expm1 on a sweep of [-30, 0], tiny and subnormal inputs included", () => {
      const x: number[] = [];
      for (let i = 0; i <= 60000; i++) x.push(-30 * (i / 60000) ** 2);
      for (let e = -149; e <= 0; e += 0.25) x.push(-(2 ** e));
      const xs = Float32Array.from(x);
      const p = mem.f32(xs);
      rt.exports.f32_bias_act(1, xs.length, p, 0, ACT_CODE.elu);
      const got = mem.read(p, xs.length);
      const bits = new Int32Array(Float32Array.from([0]).buffer);
      const ord = (v: number) => {
        new Float32Array(bits.buffer)[0] = v;
        return bits[0];
      };
      let worst = 0;
      for (let i = 0; i < xs.length; i++) {
        const want = Math.fround(Math.expm1(xs[i]));
        if (got[i] !== want) worst = Math.max(worst, Math.abs(ord(got[i]) - ord(want)));
      }
      expect(worst).toBeLessThanOrEqual(1);
    });

    if (variant === "debug") {
      it("debug build: asserts negative coefficients, out-of-range sources and rowsR > rowsL", () => {
        const g: CsrMatrix = { rows: 2, cols: 2, rowPtr: Int32Array.from([0, 1, 2]), colIdx: Int32Array.from([0, 1]), values: Float32Array.from([0.5, -0.1]) };
        const p = mem.csr(g);
        const buf = mem.f32(new Float32Array(64));
        const call = (colIdx: number, values: number) =>
          rt.exports.f32_gat_aggregate(2, 1, 4, 2, p.rowPtr, colIdx, values, buf, buf, buf, 0.2, 1, 0, 0, mem.out(8), mem.out(16), 1);
        expect(() => call(p.colIdx, p.values)).toThrow(/negative edge coefficient/);
        expect(() => call(mem.i32([0, 5]), mem.f32([1, 1]))).toThrow(/column index out of range/);
        const wide = mem.csr({ rows: 1, cols: 2, rowPtr: Int32Array.from([0, 2]), colIdx: Int32Array.from([0, 1]), values: Float32Array.from([1, 1]) });
        expect(() => rt.exports.f32_gat_aggregate(1, 1, 4, 2, wide.rowPtr, wide.colIdx, wide.values, buf, buf, buf, 0.2, 1, 0, 0, mem.out(8), mem.out(16), 1)).toThrow(/more in-edges than maxDegree/);
        expect(() => rt.exports.f32_gat_scores(1, 2, 1, 4, buf, buf, buf, mem.out(4), mem.out(4))).toThrow(WasmAssertionError);
      });
    }
  });
}
