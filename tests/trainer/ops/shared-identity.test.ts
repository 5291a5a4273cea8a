import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { shareIdentityOnWasm } from "../../../trainer/ops/shared-identity.js";
import { useBackend } from "./helpers.js";

describe("shareIdentityOnWasm", () => {
  beforeAll(async () => {
    await useBackend("wasm");
    shareIdentityOnWasm();
    shareIdentityOnWasm(); // idempotent: installs once
  });

  it("makes a clone share its source's memory instead of copying it", () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const buffersBefore = (tf.memory() as tf.MemoryInfo & { numDataBuffers: number }).numDataBuffers;
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect((tf.memory() as tf.MemoryInfo & { numDataBuffers: number }).numDataBuffers).toBe(buffersBefore);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose([x, y]);
  });

  it("keeps the shared memory alive until the last tensor using it is disposed", () => {
    const tensorsBefore = tf.memory().numTensors;
    const x = tf.tensor1d([7, 8, 9]);
    const y = tf.clone(x);
    x.dispose();
    // a new tensor of the same size must not take over y's memory
    const z = tf.tensor1d([0, 0, 0]);
    expect(Array.from(y.dataSync())).toEqual([7, 8, 9]);
    tf.dispose([y, z]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it("leaves gradients (whose saved inputs are clones) and variables' assign unchanged", () => {
    const v = tf.variable(tf.tensor1d([1, -2, 3]));
    const saved = tf.clone(v);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]);
    expect(value.dataSync()[0]).toBe(14);
    expect(Array.from(grads[v.name].dataSync())).toEqual([2, -4, 6]);
    v.assign(tf.tensor1d([0, 0, 0]));
    expect(Array.from(saved.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([v, saved, value, grads[v.name]]);
  });

  it("copies strings as the stock kernel does", () => {
    const s = tf.tensor1d(["a", "bc"], "string");
    const t = tf.clone(s);
    expect(t.dataSync()).toEqual(["a", "bc"]);
    tf.dispose([s, t]);
  });
});
