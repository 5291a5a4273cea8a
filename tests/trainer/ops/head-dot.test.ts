import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { headDot } from "../../../trainer/ops/head-dot.js";
import { Rng } from "../../../trainer/util/rng.js";
import { BACKENDS, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

/** float64 y[r, k] = Σ_c z[r, k·F + c]·a[k, c] */
function headDot64(rows: number, heads: number, f: number, z: ArrayLike<number>, a: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * heads);
  for (let r = 0; r < rows; r++) for (let k = 0; k < heads; k++) for (let c = 0; c < f; c++) y[r * heads + k] += z[r * heads * f + k * f + c] * a[k * f + c];
  return y;
}

describe.each(BACKENDS)("headDot on the %s backend", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  for (const [rows, heads, f] of [
    [1, 1, 1],
    [7, 1, 5],
    [5, 3, 4],
    [9, 8, 3],
  ]) {
    it(`R=${rows} heads=${heads} F=${f}: forward and gradients match float64 and central differences`, async () => {
      const rng = new Rng(rows * 31 + heads * 7 + f);
      const z = randn(rng, rows * heads * f);
      const a = randn(rng, heads * f);
      const r = randn(rng, rows * heads);
      const [zT, aT, rT] = [tf.tensor2d(z, [rows, heads * f]), tf.tensor2d(a, [heads, f]), tf.tensor2d(r, [rows, heads])];
      const y = headDot(zT, aT);
      expect(y.shape).toEqual([rows, heads]);
      const [dz, da] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(headDot(p as tf.Tensor2D, q as tf.Tensor2D), rT)))([zT, aT]);
      expectClose(await data(y), headDot64(rows, heads, f, z, a), "forward");
      expectClose(await data(dz), numericGrad((x) => dot(headDot64(rows, heads, f, x, a), r), z), "dz vs central differences");
      expectClose(await data(da), numericGrad((x) => dot(headDot64(rows, heads, f, z, x), r), a), "da vs central differences");
      tf.dispose([zT, aT, rT, y, dz, da]);
    });
  }

  it("rejects z whose width is not heads × F", () => {
    expect(() => headDot(tf.zeros([2, 7]) as tf.Tensor2D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/z must be \[R, heads·F\]/);
  });
});
