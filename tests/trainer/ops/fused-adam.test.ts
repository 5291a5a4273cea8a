import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { FusedAdam } from "../../../trainer/ops/fused-adam.js";
import { Rng } from "../../../trainer/util/rng.js";
import { BACKENDS, data, expectClose, randn, useBackend } from "./helpers.js";

/** loss = Σ_i c_i · (w_i − t_i)² + Σ (a·b products) — a coupled, non-trivial landscape */
function lossOf(a: tf.Variable, b: tf.Variable, ta: tf.Tensor, tb: tf.Tensor): () => tf.Scalar {
  return () =>
    tf.add(
      tf.add(tf.sum(tf.square(tf.sub(a, ta))), tf.mul(tf.sum(tf.square(tf.sub(b, tb))), 3)),
      tf.sum(tf.mul(tf.sum(a), b)),
    ) as tf.Scalar;
}

describe.each(BACKENDS)("FusedAdam on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("equals tf.train.adam (weight decay 0) over several steps", async () => {
    const rng = new Rng(2);
    const a0 = randn(rng, 7 * 5);
    const b0 = randn(rng, 3);
    const ta = tf.tensor2d(randn(rng, 35), [7, 5]);
    const tb = tf.tensor1d(randn(rng, 3));
    const mk = () => [tf.variable(tf.tensor2d(a0, [7, 5])), tf.variable(tf.tensor1d(b0))] as const;
    const [a1, b1] = mk();
    const [a2, b2] = mk();
    const fused = new FusedAdam({ learningRate: 0.05, beta1: 0.8, beta2: 0.99, epsilon: 1e-7 });
    const stock = tf.train.adam(0.05, 0.8, 0.99, 1e-7);
    for (let step = 0; step < 6; step++) {
      fused.minimize(lossOf(a1, b1, ta, tb), [a1, b1]).dispose();
      stock.minimize(lossOf(a2, b2, ta, tb), false, [a2, b2]);
      expectClose(await data(a1), await data(a2), `a after step ${step + 1}`);
      expectClose(await data(b1), await data(b2), `b after step ${step + 1}`);
    }
    tf.dispose([a1, b1, a2, b2, ta, tb]);
    stock.dispose();
  });

  it("with weight decay matches a float64 PyTorch-Adam reference, and leaks nothing", async () => {
    const rng = new Rng(3);
    const n = 13;
    const w0 = randn(rng, n);
    const target = randn(rng, n);
    const lr = 0.01;
    const wd = 0.1;
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const w = tf.variable(tf.tensor1d(w0));
    const t = tf.tensor1d(target);
    const frozen = tf.variable(tf.ones([2]), false);
    const opt = new FusedAdam({ learningRate: lr, weightDecay: wd });
    const ref = Float64Array.from(w0);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    let before = 0;
    for (let step = 1; step <= 5; step++) {
      if (step === 2) before = tf.memory().numTensors;
      opt.minimize(() => tf.sum(tf.square(tf.sub(w, t))) as tf.Scalar, [w]).dispose();
      for (let i = 0; i < n; i++) {
        const g = 2 * (ref[i] - target[i]) + wd * ref[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        ref[i] -= ((lr / (1 - b1 ** step)) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** step) + eps);
      }
      expectClose(await data(w), ref, `w after step ${step}`);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(await data(frozen))).toEqual([1, 1]);
    tf.dispose([w, t, frozen]);
  });

  it("masked steps with changing masks match a float64 reference that decays every pruned entry every step; a mask change mid-run resumes exactly", async () => {
    const rng = new Rng(4);
    const n = 40;
    const [lr, wd, b1, b2, eps] = [0.01, 5e-4, 0.9, 0.999, 1e-8];
    const steps = 12;
    const grads = Array.from({ length: steps }, () => randn(rng, n));
    // the mask changes twice: entries pruned for a few steps, then regrown (with their value 0)
    const masks = [0, 4, 8].map((k) => Float32Array.from({ length: n }, (_, i) => ((i + k) % 5 < 3 ? 1 : 0)));
    const maskAt = (step: number) => masks[step < 4 ? 0 : step < 8 ? 1 : 2];
    const w0 = randn(rng, n).map((x, i) => x * maskAt(0)[i]);
    const ref = Float64Array.from(w0);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const run = (opt: FusedAdam, w: tf.Variable, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        const mask = maskAt(s);
        // as FastGLT: the new mask's pruned entries are zeroed, regrown ones start at 0 (already 0)
        w.assign(tf.tensor1d(w.dataSync().map((x, i) => x * mask[i])));
        const g = tf.tensor1d(grads[s]);
        opt.applyGradients([w], [g], [mask]);
        g.dispose();
      }
    };
    const w = tf.variable(tf.tensor1d(w0));
    const opt = new FusedAdam({ learningRate: lr, weightDecay: wd });
    run(opt, w, 0, steps);
    for (let s = 0; s < steps; s++) {
      const mask = maskAt(s);
      for (let i = 0; i < n; i++) {
        ref[i] *= mask[i];
        const g = mask[i] ? grads[s][i] + wd * ref[i] : 0;
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        if (mask[i]) ref[i] -= ((lr / (1 - b1 ** (s + 1))) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** (s + 1)) + eps);
      }
    }
    expectClose(await data(w), ref, "w after 12 masked steps", 1e-5);
    // interrupted at step 6 (entries pruned at step 4 are lagging), resumed from getState
    const a = tf.variable(tf.tensor1d(w0));
    const optA = new FusedAdam({ learningRate: lr, weightDecay: wd });
    run(optA, a, 0, 6);
    const state = optA.getState([a]);
    expect(state[0]!.since).toBeInstanceOf(Int32Array);
    const b = tf.variable(tf.tensor1d(a.dataSync()));
    const optB = new FusedAdam({ learningRate: lr, weightDecay: wd });
    optB.setState([b], state);
    run(optB, b, 6, steps);
    expect(Array.from(b.dataSync())).toEqual(Array.from(w.dataSync()));
    // an unmasked step after masked ones sees every pending decay
    const c = tf.variable(tf.tensor1d(w.dataSync()));
    const optC = new FusedAdam({ learningRate: lr, weightDecay: wd });
    optC.setState([c], opt.getState([w]));
    const g = tf.tensor1d(grads[0]);
    optC.applyGradients([c], [g]);
    const mc = optC.getState([c])[0]!;
    expect(mc.since).toBeNull();
    for (let i = 0; i < n; i++) {
      const gi = grads[0][i] + wd * ref[i];
      expect(mc.m[i]).toBeCloseTo(b1 * m[i] + (1 - b1) * gi, 6);
    }
    tf.dispose([w, a, b, c, g]);
  });

  it("rejects bad hyper-parameters", () => {
    expect(() => new FusedAdam({ learningRate: -1 })).toThrow(/learningRate/);
    expect(() => new FusedAdam({ learningRate: 0.1, beta2: 1 })).toThrow(/beta1 and beta2/);
  });
});
