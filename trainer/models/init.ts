import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../util/rng.js";

/** Glorot/Xavier uniform, as PyG's GCNConv and Kipf's GCN initialise their weights. */
export function glorotUniform(rows: number, cols: number, rng: Rng): Float32Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * limit;
  return w;
}

/** A trainable variable holding `t`'s values; `t` itself is released (tf.variable keeps a second handle). */
export function variableFrom(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}
