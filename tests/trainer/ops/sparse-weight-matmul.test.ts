import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareWeightPattern, sparseWeightMatMul } from "../../../trainer/ops/sparse-weight-matmul.js";
import { dropoutScale, prepareScaledSparse } from "../../../trainer/ops/scaled-sparse-matmul.js";
import { prepareSparseMatrix } from "../../../trainer/ops/sparse-matmul.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import { loadWasmKernels } from "../../../runtime-wasm/host/wasm-kernels.js";
import type { CsrMatrix } from "../../../ticket/csr.js";
import { Rng } from "../../../trainer/util/rng.js";
import { configs, countingKernels, data, dot, expectClose, numericGrad, randn, randomCsr, useBackend } from "./helpers.js";

const CONFIGS = await configs();

/** float64 (X ⊙ S) · (W ⊙ M) */
function mm64(x: CsrMatrix, scale: Float32Array | null, w: ArrayLike<number>, mask: ArrayLike<number>, f: number): Float64Array {
  const y = new Float64Array(x.rows * f);
  for (let r = 0; r < x.rows; r++) {
    for (let k = x.rowPtr[r]; k < x.rowPtr[r + 1]; k++) {
      const v = x.values[k] * (scale ? scale[k] : 1);
      const i = x.colIdx[k];
      for (let c = 0; c < f; c++) if (mask[i * f + c] !== 0) y[r * f + c] += v * w[i * f + c];
    }
  }
  return y;
}

/** A 0/1 mask with the given density, an all-pruned row and an all-kept row when there are ≥ 3 rows. */
function randomMask(rng: Rng, rows: number, cols: number, density: number): Float32Array {
  const m = Float32Array.from({ length: rows * cols }, () => (rng.next() < density ? 1 : 0));
  if (rows >= 3) {
    m.fill(0, 0, cols);
    m.fill(1, 2 * cols, 3 * cols);
  }
  return m;
}

describe.each(CONFIGS)("sparseWeightMatMul on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const [rows, cols, f, density] of [
    [1, 1, 1, 1],
    [9, 7, 3, 0.3],
    [17, 12, 5, 0.1],
    [23, 19, 13, 0],
  ] as const) {
    it(`${rows} × ${cols} times ${cols} × ${f} at weight density ${density}: forward and both gradients match float64 and central differences`, async () => {
      const rng = new Rng(rows * 1000 + cols * 10 + f);
      const x = randomCsr(rng, rows, cols, 0.5);
      const nnz = x.rowPtr[rows];
      const mask = randomMask(rng, cols, f, density);
      // W holds junk at pruned entries: the op must read only the kept ones
      const w = randn(rng, cols * f);
      const r = randn(rng, rows * f);
      const pattern = prepareWeightPattern(mask, cols, f);
      expect(pattern.nnz).toBe(mask.reduce((a, b) => a + b, 0));
      const [wT, rT] = [tf.tensor2d(w, [cols, f]), tf.tensor2d(r, [rows, f])];
      const scaled = prepareScaledSparse(x);
      const plain = prepareSparseMatrix(x);
      for (const [xs, scale] of [
        [plain, null],
        [scaled, null],
        [scaled, dropoutScale(nnz, 0.5, 3)],
        [scaled, Float32Array.from({ length: nnz }, () => rng.normal())],
      ] as const) {
        const y = sparseWeightMatMul(xs, wT, scale, pattern, { gradient: "masked" });
        expectClose(await data(y), mm64(x, scale, w, mask, f), "forward");
        const loss = (g: "masked" | "dense") => (v: tf.Tensor) => tf.sum(tf.mul(sparseWeightMatMul(xs, v as tf.Tensor2D, scale, pattern, { gradient: g }), rT));
        const masked = await data(tf.grad(loss("masked"))(wT));
        // the op is X·(W⊙M): its exact gradient, zero at pruned entries
        expectClose(masked, numericGrad((v) => dot(mm64(x, scale, v, mask, f), r), w), "masked dW vs central differences");
        // "dense": the gradient X·W would have, at every entry
        const ones = new Float32Array(cols * f).fill(1);
        expectClose(await data(tf.grad(loss("dense"))(wT)), numericGrad((v) => dot(mm64(x, scale, v, ones, f), r), w), "dense dW vs central differences");
        y.dispose();
      }
      tf.dispose([wT, rT]);
      pattern.dispose();
      scaled.dispose();
      plain.dispose();
    });
  }

  it("the masked gradient runs spgemmGradW, the dense one spmm over Xᵀ; the forward never a dense spmm", () => {
    const counting = countingKernels(kernels);
    const rng = new Rng(5);
    const x = prepareScaledSparse(randomCsr(rng, 13, 11, 0.4), { kernels: counting });
    const pattern = prepareWeightPattern(randomMask(rng, 11, 6, 0.2), 11, 6, { kernels: counting });
    const w = tf.tensor2d(randn(rng, 66), [11, 6]);
    for (const g of ["masked", "dense"] as const) {
      for (const k of Object.keys(counting.calls)) counting.calls[k] = 0;
      tf.dispose(tf.grad((v: tf.Tensor) => tf.sum(sparseWeightMatMul(x, v as tf.Tensor2D, null, pattern, { gradient: g })))(w));
      expect(counting.calls.spgemm, g).toBe(1);
      expect([counting.calls.spgemmGradW, counting.calls.spmm], g).toEqual(g === "masked" ? [1, 0] : [0, 1]);
    }
    w.dispose();
    pattern.dispose();
    x.dispose();
  });

  it("rejects a pattern of another shape, from other kernels, or disposed", () => {
    const rng = new Rng(6);
    const x = prepareScaledSparse(randomCsr(rng, 5, 4, 0.5));
    const w = tf.tensor2d(randn(rng, 12), [4, 3]);
    const wrong = prepareWeightPattern(new Float32Array(8).fill(1), 4, 2);
    expect(() => sparseWeightMatMul(x, w, null, wrong, { gradient: "masked" })).toThrow(/w must be \[4, 2\]/);
    const other = prepareWeightPattern(new Float32Array(12).fill(1), 4, 3, { kernels: kernels === referenceKernels ? loadWasmKernels() : referenceKernels });
    expect(() => sparseWeightMatMul(x, w, null, other, { gradient: "masked" })).toThrow(/different SparseKernels/);
    const p = prepareWeightPattern(new Float32Array(12).fill(1), 4, 3);
    p.dispose();
    expect(() => sparseWeightMatMul(x, w, null, p, { gradient: "masked" })).toThrow(/disposed/);
    expect(() => prepareWeightPattern(new Float32Array(5), 4, 3)).toThrow(/needs 12/);
    tf.dispose(w);
    wrong.dispose();
    other.dispose();
    x.dispose();
  });
});
