import { describe, expect, it } from "vitest";
import { edgeMaskRegulariser } from "../../../trainer/prune/regularisers.js";
import { Rng } from "../../../trainer/util/rng.js";

/** The official definitions, O(E²): 0.1·exp(−0.5·mean|m_i − m_j|) + 0.1·(−log(var(m) + 1e−8)). */
function bruteForce(m: number[], diversity: boolean): number {
  const n = m.length;
  let pair = 0;
  for (const a of m) for (const b of m) pair += Math.abs(a - b);
  const mean = m.reduce((x, y) => x + y, 0) / n;
  const variance = m.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return (diversity ? 0.1 * Math.exp((-0.5 * pair) / (n * n)) : 0) + 0.1 * -Math.log(variance + 1e-8);
}

describe("FastGLT's edge-mask regularisers", () => {
  it("value equals the O(E²) definition, with ties and zeros (pruned entries)", () => {
    const rng = new Rng(2);
    const m = Array.from({ length: 57 }, (_, i) => (i % 5 === 0 ? 0 : i % 7 === 0 ? 1 : rng.next() * 2));
    for (const diversity of [true, false]) {
      expect(edgeMaskRegulariser(m, { diversity }).loss).toBeCloseTo(bruteForce(m, diversity), 10);
    }
  });

  it("gradient equals central differences", () => {
    const rng = new Rng(3);
    const m = Array.from({ length: 31 }, () => 0.5 + rng.next());
    const { grad } = edgeMaskRegulariser(m, { diversity: true });
    const h = 1e-6;
    for (const i of [0, 7, 30]) {
      const up = m.slice();
      up[i] += h;
      const down = m.slice();
      down[i] -= h;
      expect(grad[i]).toBeCloseTo((bruteForce(up, true) - bruteForce(down, true)) / (2 * h), 6);
    }
  });
});
