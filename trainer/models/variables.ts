import * as tf from "@tensorflow/tfjs-core";
import { variableFrom } from "./init.js";
import type { ModelState, PrunableWeight } from "./prunable.js";

/** Gives every weight UGS's trainable mask, initialised to 1 (kept when it has one). */
export function addTrainableMasks(weights: PrunableWeight[]): void {
  for (const w of weights) if (!w.maskTrain) w.maskTrain = variableFrom(tf.ones([w.rows, w.cols]));
}

/** Disposes the weights' trainable masks (back to W ⊙ M). */
export function removeTrainableMasks(weights: PrunableWeight[]): void {
  for (const w of weights) {
    w.maskTrain?.dispose();
    w.maskTrain = null;
  }
}

/** The values of `vars`, copied. */
export function snapshotOf(vars: tf.Variable[]): ModelState {
  return vars.map((v) => v.dataSync().slice() as Float32Array);
}

/** Assigns a snapshot taken of the same variables. */
export function restoreInto(vars: tf.Variable[], s: ModelState): void {
  if (s.length !== vars.length) throw new Error(`restore: state has ${s.length} tensors, the model ${vars.length}`);
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(s[i], v.shape))));
}
