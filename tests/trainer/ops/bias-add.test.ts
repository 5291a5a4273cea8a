import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { biasAdd } from "../../../trainer/ops/bias-add.js";
import { Rng } from "../../../trainer/util/rng.js";
import { BACKENDS, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

/** float64 x + b and its loss Σ (x + b) ⊙ r */
function biasAdd64(rows: number, cols: number, x: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: rows * cols }, (_, i) => x[i] + b[i % cols]);
}

describe.each(BACKENDS)("biasAdd on the %s backend", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  for (const impl of ["custom", "stock"] as const) {
    for (const [rows, cols] of [
      [1, 1],
      [7, 3],
      [13, 9],
    ]) {
      it(`${impl}: ${rows} × ${cols}: forward and gradients match float64 and central differences`, async () => {
        const rng = new Rng(rows * 10 + cols);
        const x = randn(rng, rows * cols);
        const b = randn(rng, cols);
        const r = randn(rng, rows * cols);
        const [xT, bT, rT] = [tf.tensor2d(x, [rows, cols]), tf.tensor1d(b), tf.tensor2d(r, [rows, cols])];
        const y = biasAdd(xT, bT, { impl });
        const [dx, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(biasAdd(p as tf.Tensor2D, q as tf.Tensor1D, { impl }), rT)))([xT, bT]);
        expectClose(await data(y), biasAdd64(rows, cols, x, b), "forward");
        expectClose(await data(dx), numericGrad((v) => dot(biasAdd64(rows, cols, v, b), r), x), "dx vs central differences");
        expectClose(await data(db), numericGrad((v) => dot(biasAdd64(rows, cols, x, v), r), b), "db vs central differences");
        tf.dispose([xT, bT, rT, y, dx, db]);
      });
    }
  }

  it("rejects a bias whose length is not x's width", () => {
    expect(() => biasAdd(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([2]) as tf.Tensor1D)).toThrow(/x must be \[R, C\] and b \[C\]/);
  });
});
