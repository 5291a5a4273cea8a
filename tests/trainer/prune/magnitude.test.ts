import { describe, expect, it } from "vitest";
import { countNonzero, keepCount, topMagnitudeMask } from "../../../trainer/prune/magnitude.js";
import { Rng } from "../../../trainer/util/rng.js";

describe("topMagnitudeMask", () => {
  it("keeps exactly the entries of largest |score| among the active ones", () => {
    const rng = new Rng(3);
    const n = 1001;
    const score = Float32Array.from({ length: n }, () => rng.normal());
    const current = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 1));
    const keep = 300;
    const mask = topMagnitudeMask(score, current, keep, 1);
    expect(countNonzero(mask)).toBe(keep);
    let minKept = Infinity;
    let maxDropped = -Infinity;
    for (let i = 0; i < n; i++) {
      if (mask[i]) {
        expect(current[i]).toBe(1);
        minKept = Math.min(minKept, Math.abs(score[i]));
      } else if (current[i]) maxDropped = Math.max(maxDropped, Math.abs(score[i]));
    }
    expect(minKept).toBeGreaterThanOrEqual(maxDropped);
  });

  it("breaks ties by a seeded random order, not by position", () => {
    const n = 2000;
    const score = new Float32Array(n).fill(1);
    const mask = topMagnitudeMask(score, new Float32Array(n).fill(1), n / 2, 5);
    let firstHalf = 0;
    for (let i = 0; i < n / 2; i++) firstHalf += mask[i];
    expect(firstHalf).toBeGreaterThan(400);
    expect(firstHalf).toBeLessThan(600);
    expect(topMagnitudeMask(score, new Float32Array(n).fill(1), n / 2, 5)).toEqual(mask);
  });

  it("refuses to keep more than is active", () => {
    expect(() => topMagnitudeMask(new Float32Array(4), Float32Array.of(1, 0, 1, 0), 3, 0)).toThrow(/cannot keep 3 of 2/);
  });
});

describe("keepCount", () => {
  it("rounds the kept count and rejects sparsities outside [0, 1)", () => {
    expect(keepCount(13264, 0.2)).toBe(10611);
    expect(keepCount(733696, 0.8)).toBe(146739);
    expect(() => keepCount(10, 1)).toThrow(/sparsity/);
    expect(() => keepCount(10, -0.1)).toThrow(/sparsity/);
  });
});
