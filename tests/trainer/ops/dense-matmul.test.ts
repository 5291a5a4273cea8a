import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { denseMatMul } from "../../../trainer/ops/dense-matmul.js";
import { Rng } from "../../../trainer/util/rng.js";
import { BACKENDS, data, dot, expectClose, numericGrad, randn, useBackend } from "./helpers.js";

function mm64(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) y[i * n + j] += a[i * k + p] * b[p * n + j];
  return y;
}

const CASES = [
  { m: 5, k: 3, n: 1 },
  { m: 9, k: 7, n: 3 },
  { m: 13, k: 5, n: 7 },
  { m: 1, k: 11, n: 5 },
];

describe.each(BACKENDS)("denseMatMul on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  for (const { m, k, n } of CASES) {
    it(`${m}×${k} · ${k}×${n}: forward, dA and dB match tf.matMul, float64 and central differences`, async () => {
      const rng = new Rng(m * 7 + n);
      const a = randn(rng, m * k);
      const b = randn(rng, k * n);
      const r = randn(rng, m * n);
      const aT = tf.tensor2d(a, [m, k]);
      const bT = tf.tensor2d(b, [k, n]);
      const rT = tf.tensor2d(r, [m, n]);
      const loss = (mm: typeof tf.matMul) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(mm(x as tf.Tensor2D, y as tf.Tensor2D), rT));
      const custom = (x: tf.Tensor2D, y: tf.Tensor2D) => denseMatMul(x, y, { impl: "custom" });
      const y = custom(aT, bT);
      const [da, db] = tf.grads(loss(custom as typeof tf.matMul))([aT, bT]);
      const [daS, dbS] = tf.grads(loss(tf.matMul))([aT, bT]);
      expectClose(await data(y), mm64(a, b, m, k, n), "forward vs float64");
      expectClose(await data(da), numericGrad((v) => dot(mm64(v, b, m, k, n), r), a), "dA vs central differences");
      expectClose(await data(db), numericGrad((v) => dot(mm64(a, v, m, k, n), r), b), "dB vs central differences");
      expectClose(await data(da), await data(daS), "dA vs tf.matMul's gradient");
      expectClose(await data(db), await data(dbS), "dB vs tf.matMul's gradient");
      tf.dispose([aT, bT, rT, y, da, db, daS, dbS]);
    });
  }

  it("computes only the gradients asked for, without leaking tensors", () => {
    const aT = tf.randomNormal([6, 4]) as tf.Tensor2D;
    const bT = tf.randomNormal([4, 3]) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const db = tf.grad((y: tf.Tensor) => tf.sum(denseMatMul(aT, y as tf.Tensor2D, { impl: "custom" })))(bT);
      expect(db.shape).toEqual([4, 3]);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([aT, bT]);
  });

  it("rejects shapes that do not multiply", () => {
    expect(() => denseMatMul(tf.ones([2, 3]) as tf.Tensor2D, tf.ones([4, 2]) as tf.Tensor2D)).toThrow(/do not multiply/);
  });
});
