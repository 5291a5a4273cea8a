import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { edgeSoftmax, prepareEdgeSoftmax } from "../../../trainer/ops/edge-softmax.js";
import { Rng } from "../../../trainer/util/rng.js";
import { awkwardGraph, BACKENDS, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

const SLOPE = 0.2;

/**
 * float64 α_e = m_e·exp(s_e) / Σ_{e' into dst_e} m_e'·exp(s_e') per head, written without a max
 * shift and without clamping m (smooth in m around 0, so central differences see the derivative).
 */
function alpha64(src: Int32Array, dst: Int32Array, n: number, heads: number, el: ArrayLike<number>, er: ArrayLike<number>, m: ArrayLike<number>): Float64Array {
  const e = src.length;
  const w = new Float64Array(e * heads);
  const denom = new Float64Array(n * heads);
  for (let i = 0; i < e; i++) {
    for (let k = 0; k < heads; k++) {
      const x = el[src[i] * heads + k] + er[dst[i] * heads + k];
      w[i * heads + k] = m[i] * Math.exp(x > 0 ? x : SLOPE * x);
      denom[dst[i] * heads + k] += w[i * heads + k];
    }
  }
  for (let i = 0; i < e; i++) for (let k = 0; k < heads; k++) w[i * heads + k] /= denom[dst[i] * heads + k];
  return w;
}

/**
 * The awkward multigraph of helpers.ts plus node n (one in-edge, from node 3) and node n+1 (two
 * in-edges, both given m = 0 by the callers that test an all-pruned row).
 */
function graphWithExtras(rng: Rng, n: number, randomEdges: number): { src: Int32Array; dst: Int32Array; nodes: number; oneInEdge: number; allPrunedEdges: number[] } {
  const g = awkwardGraph(rng, n, randomEdges);
  const src = Int32Array.from([...g.src, 3, 4, 5]);
  const dst = Int32Array.from([...g.dst, n, n + 1, n + 1]);
  return { src, dst, nodes: n + 2, oneInEdge: g.src.length, allPrunedEdges: [g.src.length + 1, g.src.length + 2] };
}

/** a mask in [0.2, 1.5] with exact zeros on some edges, never on every in-edge of a node */
function maskWithZeros(rng: Rng, src: Int32Array, dst: Int32Array, nodes: number): Float32Array {
  const m = Float32Array.from(src, () => 0.2 + 1.3 * rng.next());
  const positive = new Int32Array(nodes);
  for (let e = 0; e < src.length; e++) positive[dst[e]]++;
  for (let e = 0; e < src.length; e += 3) {
    if (positive[dst[e]] > 1) {
      m[e] = 0;
      positive[dst[e]]--;
    }
  }
  return m;
}

/** [el | er] rows, N × 2H, from el and er (N × H each) */
function joinScores(el: Float32Array, er: Float32Array, n: number, heads: number): Float32Array {
  const s = new Float32Array(2 * n * heads);
  for (let v = 0; v < n; v++) {
    s.set(el.subarray(v * heads, (v + 1) * heads), 2 * v * heads);
    s.set(er.subarray(v * heads, (v + 1) * heads), (2 * v + 1) * heads);
  }
  return s;
}

function splitScores(s: Float32Array, n: number, heads: number): [Float32Array, Float32Array] {
  const el = new Float32Array(n * heads);
  const er = new Float32Array(n * heads);
  for (let v = 0; v < n; v++) {
    el.set(s.subarray(2 * v * heads, (2 * v + 1) * heads), v * heads);
    er.set(s.subarray((2 * v + 1) * heads, (2 * v + 2) * heads), v * heads);
  }
  return [el, er];
}

interface Case {
  n: number;
  heads: number;
  randomEdges: number;
}
const CASES: Case[] = [
  { n: 6, heads: 1, randomEdges: 0 },
  { n: 9, heads: 3, randomEdges: 14 },
  { n: 13, heads: 1, randomEdges: 37 },
  { n: 11, heads: 3, randomEdges: 25 },
];

describe.each(BACKENDS)("edgeSoftmax on the %s backend", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  for (const { n, heads, randomEdges } of CASES) {
    it(`N=${n} heads=${heads} E=${randomEdges + 9}: forward and dα/d(el, er, m) match float64 and central differences`, async () => {
      const rng = new Rng(1000 * n + heads);
      const { src, dst, nodes, oneInEdge, allPrunedEdges } = graphWithExtras(rng, n, randomEdges);
      const e = src.length;
      const el = randn(rng, nodes * heads);
      const er = randn(rng, nodes * heads);
      const m = maskWithZeros(rng, src, dst, nodes);
      // node n+1's row is checked on its own below; here its edges keep a positive mask
      for (const i of allPrunedEdges) m[i] = 0.5 + rng.next();
      expect(m.filter((x) => x === 0).length).toBeGreaterThan(0);
      const r = randn(rng, e * heads); // L = Σ α ⊙ r
      const graph = prepareEdgeSoftmax(src, dst, nodes);
      const [sT, mT, rT] = [tf.tensor2d(joinScores(el, er, nodes, heads), [nodes, 2 * heads]), tf.tensor1d(m), tf.tensor2d(r, [e, heads])];
      const y = edgeSoftmax(sT, mT, graph);
      const [dS, dM] = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(edgeSoftmax(a as tf.Tensor2D, c as tf.Tensor1D, graph), rT)))([sT, mT]);
      const [dEl, dEr] = splitScores(await data(dS), nodes, heads);

      const y64 = alpha64(src, dst, nodes, heads, el, er, m);
      const yv = await data(y);
      expectClose(yv, y64, "forward");
      // a pruned edge has weight exactly 0; the single in-edge of node n has weight 1
      for (let i = 0; i < e; i++) for (let k = 0; k < heads; k++) if (m[i] === 0) expect(yv[i * heads + k]).toBe(0);
      for (let k = 0; k < heads; k++) expect(yv[oneInEdge * heads + k]).toBeCloseTo(1, 6);

      // step 1e-5: the reference is float64, and α is curved enough in m (small denominators) that
      // a 1e-3 step's truncation error reaches 2e-4 relative
      const loss = (elx: ArrayLike<number>, erx: ArrayLike<number>, mx: ArrayLike<number>) => dot(alpha64(src, dst, nodes, heads, elx, erx, mx), r);
      expectClose(dEl, numericGrad((x) => loss(x, er, m), el, 1e-5), "del vs central differences");
      expectClose(dEr, numericGrad((x) => loss(el, x, m), er, 1e-5), "der vs central differences");
      const dm = await data(dM);
      expectClose(dm, numericGrad((x) => loss(el, er, x), m, 1e-5), "dm vs central differences");
      // the gradient reaches pruned edges (regrowth needs it)
      for (let i = 0; i < e; i++) if (m[i] === 0 && dst[i] !== n) expect(Math.abs(dm[i])).toBeGreaterThan(0);
      // isolated node 0 and node 1 (no in-edges) get no der; node 0 no del
      for (let k = 0; k < heads; k++) {
        expect(dEr[k]).toBe(0);
        expect(dEr[heads + k]).toBe(0);
        expect(dEl[k]).toBe(0);
      }
      tf.dispose([sT, mT, rT, y, dS, dM]);
    });
  }

  it("a node whose in-edges all have mask 0 aggregates nothing and passes no gradient; a negative mask acts as 0", async () => {
    const rng = new Rng(77);
    const heads = 3;
    const { src, dst, nodes, allPrunedEdges } = graphWithExtras(rng, 10, 20);
    const e = src.length;
    const el = randn(rng, nodes * heads);
    const er = randn(rng, nodes * heads);
    const m = maskWithZeros(rng, src, dst, nodes);
    for (const i of allPrunedEdges) m[i] = 0;
    const r = randn(rng, e * heads);
    const graph = prepareEdgeSoftmax(src, dst, nodes);
    const rT = tf.tensor2d(r, [e, heads]);
    const run = async (mask: Float32Array) => {
      const [sT, mT] = [tf.tensor2d(joinScores(el, er, nodes, heads), [nodes, 2 * heads]), tf.tensor1d(mask)];
      const y = edgeSoftmax(sT, mT, graph);
      const [dS, dM] = tf.grads((a: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(edgeSoftmax(a as tf.Tensor2D, c as tf.Tensor1D, graph), rT)))([sT, mT]);
      const out = [await data(y), ...splitScores(await data(dS), nodes, heads), await data(dM)];
      tf.dispose([sT, mT, y, dS, dM]);
      return out;
    };
    const [y, dEl, dEr, dM] = await run(m);
    const last = nodes - 1;
    for (const i of allPrunedEdges) {
      for (let k = 0; k < heads; k++) expect(y[i * heads + k]).toBe(0);
      expect(dM[i]).toBe(0);
    }
    for (let k = 0; k < heads; k++) expect(dEr[last * heads + k]).toBe(0);
    // the other rows are untouched by that row: compare with float64 where every row has a positive mask
    const y64 = alpha64(src, dst, nodes, heads, el, er, m);
    for (const i of allPrunedEdges) for (let k = 0; k < heads; k++) y64[i * heads + k] = 0;
    expectClose(y, y64, "forward with an all-pruned row");

    // negative mask values give exactly what 0 gives, forward and gradients
    const neg = m.slice();
    for (let i = 0; i < e; i++) if (m[i] === 0) neg[i] = -0.3 - rng.next();
    const withNeg = await run(neg);
    const names = ["forward", "del", "der", "dm"];
    [y, dEl, dEr, dM].forEach((t, i) => expect(withNeg[i], names[i]).toEqual(t));
    rT.dispose();
  });

  it("is stable for large scores (no overflow in exp)", async () => {
    const graph = prepareEdgeSoftmax(Int32Array.of(0, 1, 2), Int32Array.of(2, 2, 2), 3);
    // [el | er] per node: el = 500, 499, 0 and er = 0, 0, 300
    const scores = tf.tensor2d([500, 0, 499, 0, 0, 300], [3, 2]);
    const m = tf.tensor1d([1, 2, 1]);
    const y = await data(edgeSoftmax(scores, m, graph));
    // s = 800, 799, 300: weights ∝ 1, 2·e^-1, ~0
    const z = 1 + 2 * Math.exp(-1);
    expectClose(y, [1 / z, (2 * Math.exp(-1)) / z, 0], "forward");
    tf.dispose([scores, m]);
  });

  it("rejects mismatched shapes with a message naming them", () => {
    const graph = prepareEdgeSoftmax(Int32Array.of(0), Int32Array.of(1), 2);
    expect(() => edgeSoftmax(tf.zeros([2, 3]) as tf.Tensor2D, tf.ones([1]) as tf.Tensor1D, graph)).toThrow(/scores must be \[2, 2·heads\]/);
    expect(() => edgeSoftmax(tf.zeros([3, 2]) as tf.Tensor2D, tf.ones([1]) as tf.Tensor1D, graph)).toThrow(/scores must be \[2, 2·heads\]/);
    expect(() => edgeSoftmax(tf.zeros([2, 2]) as tf.Tensor2D, tf.ones([3]) as tf.Tensor1D, graph)).toThrow(/m must be \[1\]/);
    expect(() => prepareEdgeSoftmax(Int32Array.of(0), Int32Array.of(5), 2)).toThrow(/edge 0 \(0 -> 5\)/);
  });
});
