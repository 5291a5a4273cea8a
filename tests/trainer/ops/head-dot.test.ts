import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headDot, prepareHeadDot } from "../../../trainer/ops/head-dot.js";
import { setSparseKernels } from "../../../trainer/ops/kernel-bridge.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import { Rng } from "../../../trainer/util/rng.js";
import { configs, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

const CONFIGS = await configs();

/** float64 y[r, p·H + k] = Σ_c z[r, k·F + c]·a[p, k, c] */
function headDot64(rows: number, p: number, heads: number, f: number, z: ArrayLike<number>, a: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * p * heads);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < p; q++) {
      for (let k = 0; k < heads; k++) for (let c = 0; c < f; c++) y[r * p * heads + q * heads + k] += z[r * heads * f + k * f + c] * a[(q * heads + k) * f + c];
    }
  }
  return y;
}

describe.each(CONFIGS)("headDot on the $label", ({ backend, kernels }) => {
  beforeAll(async () => {
    await useBackend(backend);
    setSparseKernels(kernels);
  });
  afterAll(() => setSparseKernels(referenceKernels));

  for (const [rows, p, heads, f] of [
    [1, 1, 1, 1],
    [7, 2, 1, 5],
    [5, 1, 3, 4],
    [6, 2, 3, 4],
    [9, 2, 8, 3],
  ]) {
    it(`R=${rows} P=${p} heads=${heads} F=${f}: forward and gradients match float64 and central differences`, async () => {
      const rng = new Rng(rows * 31 + heads * 7 + f + 1000 * p);
      const z = randn(rng, rows * heads * f);
      const a = randn(rng, p * heads * f);
      const r = randn(rng, rows * p * heads);
      const [zT, aT, rT] = [tf.tensor2d(z, [rows, heads * f]), tf.tensor3d(a, [p, heads, f]), tf.tensor2d(r, [rows, p * heads])];
      const plan = prepareHeadDot(rows, heads, p);
      const y = headDot(zT, aT, plan);
      expect(y.shape).toEqual([rows, p * heads]);
      const [dz, da] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(headDot(x as tf.Tensor2D, w as tf.Tensor3D, plan), rT)))([zT, aT]);
      expectClose(await data(y), headDot64(rows, p, heads, f, z, a), "forward");
      expectClose(await data(dz), numericGrad((x) => dot(headDot64(rows, p, heads, f, x, a), r), z), "dz vs central differences");
      expectClose(await data(da), numericGrad((x) => dot(headDot64(rows, p, heads, f, z, x), r), a), "da vs central differences");
      tf.dispose([zT, aT, rT, y, dz, da]);
      plan.dispose();
    });
  }

  it("rejects z whose width is not heads × F, and shapes the plan was not made for", () => {
    const plan = prepareHeadDot(2, 2, 2);
    expect(() => headDot(tf.zeros([2, 7]) as tf.Tensor2D, tf.zeros([2, 2, 3]) as tf.Tensor3D, plan)).toThrow(/z must be \[R, heads·F\]/);
    expect(() => headDot(tf.zeros([3, 6]) as tf.Tensor2D, tf.zeros([2, 2, 3]) as tf.Tensor3D, plan)).toThrow(/the plan is for z with 2 rows/);
    plan.dispose();
    expect(() => headDot(tf.zeros([2, 6]) as tf.Tensor2D, tf.zeros([2, 2, 3]) as tf.Tensor3D, plan)).toThrow(/disposed/);
  });
});
