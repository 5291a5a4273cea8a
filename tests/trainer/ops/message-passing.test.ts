import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messagePassing, prepareMessagePassing, SKIP_ZERO_WEIGHTS_FROM, type MessagePassingGraph } from "../../../trainer/ops/message-passing.js";
import type { SparseKernels } from "../../../runtime-wasm/host/kernel-api.js";
import { Rng } from "../../../trainer/util/rng.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import { awkwardGraph, configs, countingKernels, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

const CONFIGS = await configs();

/** float64 y[v] = Σ_{e: u→v} w_e h[u] (or along reversed edges) */
function mp64(src: Int32Array, dst: Int32Array, n: number, f: number, h: ArrayLike<number>, w: ArrayLike<number>, transpose = false): Float64Array {
  const y = new Float64Array(n * f);
  for (let e = 0; e < src.length; e++) {
    const [from, to] = transpose ? [dst[e], src[e]] : [src[e], dst[e]];
    for (let c = 0; c < f; c++) y[to * f + c] += w[e] * h[from * f + c];
  }
  return y;
}

interface Problem {
  src: Int32Array;
  dst: Int32Array;
  n: number;
  f: number;
  h: Float32Array;
  w: Float32Array;
  /** L = Σ y ⊙ r, so dL/dy = r */
  r: Float32Array;
}

/**
 * Runs messagePassing and its gradients on `p` and checks the forward against float64 and dh, dw
 * against central differences; returns y and dw as arrays (the tensors are disposed) and dw's reference.
 */
async function runAndCheck(p: Problem, graph: MessagePassingGraph, transpose: boolean) {
  const { src, dst, n, f, h, w, r } = p;
  const hT = tf.tensor2d(h, [n, f]);
  const wT = tf.tensor1d(w);
  const rT = tf.tensor2d(r, [n, f]);
  const y = messagePassing(hT, wT, graph, { transpose });
  const [dh, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(messagePassing(a as tf.Tensor2D, b as tf.Tensor1D, graph, { transpose }), rT)),
  )([hT, wT]);
  const yv = await data(y);
  const dwv = await data(dw);
  const dw64 = numericGrad((x) => dot(mp64(src, dst, n, f, h, x, transpose), r), w);
  expectClose(yv, mp64(src, dst, n, f, h, w, transpose), "forward");
  expectClose(await data(dh), numericGrad((x) => dot(mp64(src, dst, n, f, x, w, transpose), r), h), "dh vs central differences");
  expectClose(dwv, dw64, "dw vs central differences");
  tf.dispose([hT, wT, rT, y, dh, dw]);
  return { yv, dwv, dw64 };
}

interface Case {
  n: number;
  f: number;
  randomEdges: number;
}
const CASES: Case[] = [
  { n: 6, f: 1, randomEdges: 0 },
  { n: 11, f: 3, randomEdges: 17 },
  { n: 13, f: 5, randomEdges: 40 },
  { n: 9, f: 7, randomEdges: 23 },
];

describe.each(CONFIGS)("messagePassing on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const { n, f, randomEdges } of CASES) {
    for (const transpose of [false, true]) {
      it(`N=${n} F=${f} E=${randomEdges + 6}${transpose ? " transposed" : ""}: forward and gradients match float64 and central differences`, async () => {
        const rng = new Rng(n * 100 + f + (transpose ? 7 : 0));
        const { src, dst } = awkwardGraph(rng, n, randomEdges);
        const e = src.length;
        const h = randn(rng, n * f);
        const w = randn(rng, e);
        w[3] = 0; // a zero weight
        const graph = prepareMessagePassing(src, dst, n);
        const { yv } = await runAndCheck({ src, dst, n, f, h, w, r: randn(rng, n * f) }, graph, transpose);
        // isolated node 0 receives nothing; node 1 has no in-edges (transpose: node 2 has no out-edges)
        for (let c = 0; c < f; c++) {
          expect(yv[c]).toBe(0);
          expect(yv[(transpose ? 2 : 1) * f + c]).toBe(0);
        }
        graph.dispose();
      });
    }
  }

  it("matches stock gather + unsortedSegmentSum (forward, dh, dw)", async () => {
    if (backend === "wasm") {
      // unsortedSegmentSum is not implemented on tfjs-backend-wasm: the stock path must say so
      const g = prepareMessagePassing(Int32Array.of(0), Int32Array.of(1), 2);
      expect(() => messagePassing(tf.ones([2, 3]) as tf.Tensor2D, tf.ones([1]) as tf.Tensor1D, g, { impl: "stock" })).toThrow(/UnsortedSegmentSum/);
      g.dispose();
      return;
    }
    const rng = new Rng(5);
    const n = 23;
    const f = 7;
    const { src, dst } = awkwardGraph(rng, n, 61);
    const graph = prepareMessagePassing(src, dst, n);
    const hT = tf.tensor2d(randn(rng, n * f), [n, f]);
    const wT = tf.tensor1d(randn(rng, src.length));
    const rT = tf.tensor2d(randn(rng, n * f), [n, f]);
    const run = (impl: "custom" | "stock") => {
      const y = messagePassing(hT, wT, graph, { impl });
      const [dh, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(messagePassing(a as tf.Tensor2D, b as tf.Tensor1D, graph, { impl }), rT)))([hT, wT]);
      return [y, dh, dw];
    };
    const custom = run("custom");
    const stock = run("stock");
    for (let i = 0; i < 3; i++) expectClose(await data(custom[i]), await data(stock[i]), ["forward", "dh", "dw"][i]);
    tf.dispose([hT, wT, rT, ...custom, ...stock]);
    graph.dispose();
  });

  it("does not compute dw when the edge weights are not being differentiated", async () => {
    const k = countingKernels(kernels);
    const rng = new Rng(9);
    const n = 10;
    const f = 3;
    const { src, dst } = awkwardGraph(rng, n, 12);
    const graph = prepareMessagePassing(src, dst, n, { kernels: k });
    const hT = tf.tensor2d(randn(rng, n * f), [n, f]);
    const wT = tf.tensor1d(randn(rng, src.length));
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(messagePassing(a as tf.Tensor2D, b as tf.Tensor1D, graph));
    const dh = tf.grad((a: tf.Tensor) => loss(a, wT))(hT);
    expect(k.calls.sddmm).toBe(0);
    expect(k.calls.spmm).toBe(2); // forward + dh
    const dw = tf.grad((b: tf.Tensor) => loss(hT, b))(wT);
    expect(k.calls.sddmm).toBe(1);
    expect(k.calls.spmm).toBe(3); // forward only: dh not needed
    tf.dispose([hT, wT, dh, dw]);
    graph.dispose();
  });

  it("reloads edge weights only when a different tensor is passed, and stays correct when they alternate", async () => {
    const k = countingKernels(kernels);
    const rng = new Rng(11);
    const n = 14;
    const f = 5;
    const { src, dst } = awkwardGraph(rng, n, 30);
    const graph = prepareMessagePassing(src, dst, n, { kernels: k });
    const h = randn(rng, n * f);
    const hT = tf.tensor2d(h, [n, f]);
    const w1 = randn(rng, src.length);
    const w2 = randn(rng, src.length);
    const w1T = tf.tensor1d(w1);
    const w2T = tf.tensor1d(w2);
    const a = messagePassing(hT, w1T, graph);
    const b = messagePassing(hT, w1T, graph); // same tensor: no reload (two layers sharing Â)
    expect(k.calls.setValues).toBe(1);
    const c = messagePassing(hT, w2T, graph);
    const d = messagePassing(hT, w1T, graph);
    expect(k.calls.setValues).toBe(3);
    expectClose(await data(a), mp64(src, dst, n, f, h, w1), "a");
    expectClose(await data(b), mp64(src, dst, n, f, h, w1), "b");
    expectClose(await data(c), mp64(src, dst, n, f, h, w2), "c");
    expectClose(await data(d), mp64(src, dst, n, f, h, w1), "d");
    tf.dispose([hT, w1T, w2T, a, b, c, d]);
    graph.dispose();
  });

  for (const transpose of [false, true]) {
    it(`aggregates without the zero-weight edges once ${SKIP_ZERO_WEIGHTS_FROM * 100}% are zero, and still differentiates every edge${transpose ? " (transposed)" : ""}`, async () => {
      const k = countingKernels(kernels);
      const spmmNnz: number[] = [];
      const spy: SparseKernels = { ...k, name: "spy", spmm: (a, b, f, out) => (spmmNnz.push(a.nnz), k.spmm(a, b, f, out)) };
      const rng = new Rng(transpose ? 41 : 40);
      const n = 13;
      const f = 5;
      const { src, dst } = awkwardGraph(rng, n, 40);
      const e = src.length;
      const graph = prepareMessagePassing(src, dst, n, { kernels: spy });
      const h = randn(rng, n * f);
      const r = randn(rng, n * f);
      const fewZeros = randn(rng, e);
      fewZeros[2] = 0; // one zero: below the threshold, the full CSR
      const manyZeros = randn(rng, e).map((x, i) => (i % 3 === 0 ? x : 0)); // two thirds zero (as dropout 0.6 leaves them)
      const zeroEdges = [...manyZeros.keys()].filter((i) => manyZeros[i] === 0);
      expect(zeroEdges.length).toBeGreaterThanOrEqual(SKIP_ZERO_WEIGHTS_FROM * e);
      for (const [w, expectedNnz] of [
        [fewZeros, e],
        [manyZeros, e - zeroEdges.length],
      ] as const) {
        spmmNnz.length = 0;
        const { dwv, dw64 } = await runAndCheck({ src, dst, n, f, h, w, r }, graph, transpose);
        // forward, the gradient's forward and its dh aggregation: each over the same edges
        expect(spmmNnz).toEqual([expectedNnz, expectedNnz, expectedNnz]);
        // a zero-weight edge's gradient is computed, not skipped (FastGLT regrows edges by it)
        expect(zeroEdges.some((i) => Math.abs(dwv[i]) > 1e-3 && Math.abs(dw64[i]) > 1e-3)).toBe(true);
      }
      graph.dispose();
    });
  }

  it("leaks no tensors over forward + backward", () => {
    const rng = new Rng(3);
    const { src, dst } = awkwardGraph(rng, 8, 10);
    const graph = prepareMessagePassing(src, dst, 8);
    const hT = tf.tensor2d(randn(rng, 8 * 5), [8, 5]);
    const wT = tf.tensor1d(randn(rng, src.length));
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(messagePassing(a as tf.Tensor2D, b as tf.Tensor1D, graph)))([hT, wT]);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([hT, wT]);
    graph.dispose();
  });

  it("rejects bad shapes, bad edges and a disposed graph with clear errors", () => {
    expect(() => prepareMessagePassing(Int32Array.of(0, 1), Int32Array.of(1), 3)).toThrow(/2 edges but dst has 1/);
    expect(() => prepareMessagePassing(Int32Array.of(0, 3), Int32Array.of(1, 1), 3)).toThrow(/edge 1 \(3 -> 1\)/);
    const g: MessagePassingGraph = prepareMessagePassing(Int32Array.of(0, 1), Int32Array.of(1, 2), 3);
    const h = tf.ones([3, 2]) as tf.Tensor2D;
    const w = tf.ones([2]) as tf.Tensor1D;
    expect(() => messagePassing(tf.ones([4, 2]) as tf.Tensor2D, w, g)).toThrow(/h must be \[3, F\]/);
    expect(() => messagePassing(h, tf.ones([3]) as tf.Tensor1D, g)).toThrow(/edgeWeight must be \[2\]/);
    g.dispose();
    expect(() => messagePassing(h, w, g)).toThrow(/disposed/);
    tf.dispose([h, w]);
  });
});

describe.each(CONFIGS.filter((c) => c.backend === "wasm"))("messagePassing on the $label with a heap that grows inside the kernel", ({ kernels }) => {
  beforeAll(async () => {
    await useBackend("wasm");
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  it("reads and writes through fresh heap views (output larger than the initial 16 MiB heap)", async () => {
    const rng = new Rng(21);
    const n = 20011;
    const f = 256; // 20 MB output: makeOutput grows the heap after the inputs were written
    const e = 3 * n;
    const src = new Int32Array(e);
    const dst = new Int32Array(e);
    for (let i = 0; i < e; i++) {
      src[i] = rng.int(n);
      dst[i] = rng.int(n);
    }
    const graph = prepareMessagePassing(src, dst, n);
    const h = randn(rng, n * f);
    const w = randn(rng, e);
    const hT = tf.tensor2d(h, [n, f]);
    const wT = tf.tensor1d(w);
    const y = messagePassing(hT, wT, graph);
    expectClose(await data(y), mp64(src, dst, n, f, h, w), "forward");
    tf.dispose([hT, wT, y]);
    graph.dispose();
  });
});
