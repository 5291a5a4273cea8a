import { describe, expect, it } from "vitest";
import { randomMask, topK, topKWhere } from "../../../trainer/prune/select.js";
import { Rng } from "../../../trainer/util/rng.js";

/** Sort-based statement of the rule: largest first, ties to the lower index, NaN last; result by index. */
function reference(score: ArrayLike<number>, candidates: number[], k: number, abs: boolean): number[] {
  const v = (i: number) => {
    const s = abs ? Math.abs(score[i]) : score[i];
    return Number.isNaN(s) ? -Infinity : s;
  };
  return [...candidates].sort((a, b) => v(b) - v(a) || a - b).slice(0, k).sort((a, b) => a - b);
}

describe("topK / topKWhere", () => {
  it("select the k largest (|score| with abs) with ties to the lower index, small and large inputs", () => {
    const rng = new Rng(11);
    for (const n of [1, 7, 100, 5000, 40_000, 120_000]) {
      // few distinct values: many ties at any threshold; some NaN
      const score = Float32Array.from({ length: n }, (_, i) => (i % 97 === 5 ? NaN : rng.int(41) - 20));
      const mask = Float32Array.from({ length: n }, () => (rng.next() < 0.7 ? 1 : 0));
      const active: number[] = [];
      const inactive: number[] = [];
      for (let i = 0; i < n; i++) (mask[i] !== 0 ? active : inactive).push(i);
      for (const frac of [0, 0.01, 0.3, 0.97, 1]) {
        for (const abs of [false, true]) {
          const k = Math.round(active.length * frac);
          const want = reference(score, active, k, abs);
          expect(Array.from(topK(score, Int32Array.from(active), k, { abs })), `n ${n} k ${k}`).toEqual(want);
          // candidates in any order give the same, index-sorted result
          expect(Array.from(topK(score, new Rng(n).shuffle(Int32Array.from(active)), k, { abs }))).toEqual(want);
          expect(Array.from(topKWhere(score, n, mask, true, k, { abs }))).toEqual(want);
          const k2 = Math.round(inactive.length * frac);
          expect(Array.from(topKWhere(score, n, mask, false, k2, { abs }))).toEqual(reference(score, inactive, k2, abs));
        }
      }
    }
  });

  it("continuous scores on a large input take the sampled prefilter and still match exactly", () => {
    const rng = new Rng(5);
    const n = 300_000;
    const score = Float64Array.from({ length: n }, () => rng.normal());
    const all = Array.from({ length: n }, (_, i) => i);
    for (const k of [1, 37, 3000, 150_000, 299_999]) {
      expect(Array.from(topK(score, Int32Array.from(all), k, { abs: true }))).toEqual(reference(score, all, k, true));
    }
    // a limit below the array length only considers the prefix
    const mask = new Float32Array(n).fill(1);
    expect(Array.from(topKWhere(score, 1000, mask, true, 10))).toEqual(reference(score, all.slice(0, 1000), 10, false));
  });

  it("refuse k larger than the candidates", () => {
    expect(() => topK(new Float32Array(4), Int32Array.of(0, 1), 3)).toThrow(/cannot select 3 of 2/);
    expect(() => topKWhere(new Float32Array(4), 4, Float32Array.of(1, 0, 0, 0), true, 2)).toThrow(/cannot select 2 of 1/);
  });

  it("randomMask zeroes exactly the requested count, seeded", () => {
    const m = randomMask(1000, 737, new Rng(3));
    expect(m.reduce((a, b) => a + b, 0)).toBe(263);
    expect(randomMask(1000, 737, new Rng(3))).toEqual(m);
    expect(randomMask(1000, 737, new Rng(4))).not.toEqual(m);
  });
});
