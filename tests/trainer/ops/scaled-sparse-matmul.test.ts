import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropoutScale, prepareScaledSparse, scaledSparseMatMul } from "../../../trainer/ops/scaled-sparse-matmul.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import type { CsrMatrix } from "../../../ticket/csr.js";
import { Rng } from "../../../trainer/util/rng.js";
import { configs, data, dot, expectClose, numericGrad, randn, randomCsr, useBackend } from "./helpers.js";

const CONFIGS = await configs();

/** float64 (X ⊙ S) · W, S per stored entry (null: ones) */
function mm64(x: CsrMatrix, scale: Float32Array | null, w: ArrayLike<number>, f: number): Float64Array {
  const y = new Float64Array(x.rows * f);
  for (let r = 0; r < x.rows; r++) {
    for (let k = x.rowPtr[r]; k < x.rowPtr[r + 1]; k++) {
      const v = x.values[k] * (scale ? scale[k] : 1);
      for (let c = 0; c < f; c++) y[r * f + c] += v * w[x.colIdx[k] * f + c];
    }
  }
  return y;
}

describe.each(CONFIGS)("scaledSparseMatMul on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const [rows, cols, f] of [
    [1, 1, 1],
    [9, 7, 3],
    [17, 12, 5],
  ]) {
    it(`${rows} × ${cols} times ${cols} × ${f}: forward and dW match float64 and central differences, with and without factors`, async () => {
      const rng = new Rng(rows * 100 + cols * 10 + f);
      const x = randomCsr(rng, rows, cols, 0.5);
      const nnz = x.rowPtr[rows];
      const w = randn(rng, cols * f);
      const r = randn(rng, rows * f);
      const plan = prepareScaledSparse(x);
      const [wT, rT] = [tf.tensor2d(w, [cols, f]), tf.tensor2d(r, [rows, f])];
      for (const scale of [null, dropoutScale(nnz, 0.5, 3), Float32Array.from({ length: nnz }, () => rng.normal())]) {
        const y = scaledSparseMatMul(plan, wT, scale);
        const dw = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(scaledSparseMatMul(plan, v as tf.Tensor2D, scale), rT)))(wT);
        expectClose(await data(y), mm64(x, scale, w, f), "forward");
        expectClose(await data(dw), numericGrad((v) => dot(mm64(x, scale, v, f), r), w), "dW vs central differences");
        tf.dispose([y, dw]);
      }
      tf.dispose([wT, rT]);
      plan.dispose();
    });
  }

  it("each call's gradient uses the factors of its own forward", async () => {
    const rng = new Rng(8);
    const x = randomCsr(rng, 11, 6, 0.6);
    const nnz = x.rowPtr[11];
    const f = 4;
    const w = randn(rng, 6 * f);
    const [r1, r2] = [randn(rng, 11 * f), randn(rng, 11 * f)];
    const [s1, s2] = [dropoutScale(nnz, 0.4, 1), dropoutScale(nnz, 0.4, 2)];
    expect(s1).not.toEqual(s2);
    const plan = prepareScaledSparse(x);
    const [wT, r1T, r2T] = [tf.tensor2d(w, [6, f]), tf.tensor2d(r1, [11, f]), tf.tensor2d(r2, [11, f])];
    const dw = tf.grad((v: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(scaledSparseMatMul(plan, v as tf.Tensor2D, s1), r1T)), tf.sum(tf.mul(scaledSparseMatMul(plan, v as tf.Tensor2D, s2), r2T))),
    )(wT);
    expectClose(await data(dw), numericGrad((v) => dot(mm64(x, s1, v, f), r1) + dot(mm64(x, s2, v, f), r2), w), "dW");
    tf.dispose([wT, r1T, r2T, dw]);
    plan.dispose();
  });

  it("dropoutScale drops about `rate` of the entries and scales the rest by 1/(1 − rate)", () => {
    const s = dropoutScale(20000, 0.6, 5);
    const kept = s.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 2.5) < 1e-6)).toBe(true);
    expect(Math.abs(kept.length / s.length - 0.4)).toBeLessThan(0.02);
    expect(dropoutScale(100, 0.6, 5)).toEqual(dropoutScale(100, 0.6, 5));
  });
});
