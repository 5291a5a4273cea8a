import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import type { CsrMatrix } from "../../../ticket/csr.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { prepareSparseMatrix, sparseMatMul } from "../../../trainer/ops/sparse-matmul.js";
import { Rng } from "../../../trainer/util/rng.js";
import { configs, countingKernels, csrToDenseF64, data, dot, expectClose, numericGrad, randn, randomCsr, useBackend } from "./helpers.js";

const CONFIGS = await configs();

/** float64 X · W */
function mm64(x: Float64Array, w: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const y = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) y[i * m + j] += x[i * k + p] * w[p * m + j];
  return y;
}

const CASES = [
  { n: 7, fin: 13, fout: 1 },
  { n: 11, fin: 9, fout: 3 },
  { n: 17, fin: 23, fout: 5 },
  { n: 10, fin: 6, fout: 7 },
];

describe.each(CONFIGS)("sparseMatMul on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const { n, fin, fout } of CASES) {
    it(`X ${n}×${fin} (empty rows and columns) · W ${fin}×${fout}: forward and dW match tf.matMul, float64 and central differences`, async () => {
      const rng = new Rng(n * 31 + fout);
      const xm: CsrMatrix = randomCsr(rng, n, fin, 0.3);
      const xd = csrToDenseF64(xm);
      const w = randn(rng, fin * fout);
      const r = randn(rng, n * fout);
      const x = prepareSparseMatrix(xm);
      const wT = tf.tensor2d(w, [fin, fout]);
      const rT = tf.tensor2d(r, [n, fout]);
      const xT = tf.tensor2d(Float32Array.from(xd), [n, fin]);

      const y = sparseMatMul(x, wT);
      const dw = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(sparseMatMul(x, a as tf.Tensor2D), rT)))(wT);
      const yStock = tf.matMul(xT, wT);
      const dwStock = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.matMul(xT, a as tf.Tensor2D), rT)))(wT);

      expect(y.shape).toEqual([n, fout]);
      expectClose(await data(y), mm64(xd, w, n, fin, fout), "forward vs float64");
      expectClose(await data(y), await data(yStock), "forward vs tf.matMul");
      expectClose(await data(dw), numericGrad((v) => dot(mm64(xd, v, n, fin, fout), r), w), "dW vs central differences");
      expectClose(await data(dw), await data(dwStock), "dW vs tf.matMul's gradient");
      // rows of X with no entries give zero rows of y; empty columns of X give zero rows of dW
      const yv = await data(y);
      const dwv = await data(dw);
      for (let j = 0; j < fout; j++) {
        expect(yv[1 * fout + j]).toBe(0);
        expect(dwv[2 * fout + j]).toBe(0);
      }
      tf.dispose([wT, rT, xT, y, dw, yStock, dwStock]);
      x.dispose();
    });
  }

  it("matches its stock path (dense X, tf.matMul)", async () => {
    const rng = new Rng(77);
    const xm = randomCsr(rng, 19, 15, 0.2);
    const x = prepareSparseMatrix(xm);
    const wT = tf.tensor2d(randn(rng, 15 * 5), [15, 5]);
    const run = (impl: "custom" | "stock") => [
      sparseMatMul(x, wT, { impl }),
      tf.grad((a: tf.Tensor) => tf.sum(tf.square(sparseMatMul(x, a as tf.Tensor2D, { impl }))))(wT),
    ];
    const c = run("custom");
    const s = run("stock");
    expectClose(await data(c[0]), await data(s[0]), "forward");
    expectClose(await data(c[1]), await data(s[1]), "dW");
    tf.dispose([wT, ...c, ...s]);
    x.dispose();
  });

  it("runs one spmm forward and one (with Xᵀ) for dW; no tensors leak", () => {
    const k = countingKernels(kernels);
    const rng = new Rng(4);
    const x = prepareSparseMatrix(randomCsr(rng, 9, 8, 0.4), { kernels: k });
    const wT = tf.tensor2d(randn(rng, 8 * 3), [8, 3]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.grad((a: tf.Tensor) => tf.sum(sparseMatMul(x, a as tf.Tensor2D)))(wT);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(k.calls.spmm).toBe(2);
    wT.dispose();
    x.dispose();
  });

  it("rejects bad structures, bad shapes and a disposed matrix", () => {
    const good: CsrMatrix = { rows: 2, cols: 3, rowPtr: Int32Array.of(0, 1, 2), colIdx: Int32Array.of(0, 2), values: Float32Array.of(1, 2) };
    expect(() => prepareSparseMatrix({ ...good, colIdx: Int32Array.of(0, 3) })).toThrow(/column 3 outside 0..2/);
    expect(() => prepareSparseMatrix({ ...good, rowPtr: Int32Array.of(0, 2, 1) })).toThrow(/decreases at row 1/);
    const x = prepareSparseMatrix(good);
    expect(() => sparseMatMul(x, tf.ones([2, 4]) as tf.Tensor2D)).toThrow(/w must be \[3, Fout\]/);
    x.dispose();
    expect(() => sparseMatMul(x, tf.ones([3, 4]) as tf.Tensor2D)).toThrow(/disposed/);
  });
});
