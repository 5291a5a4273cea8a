import * as tf from "@tensorflow/tfjs-core";
import type { PrunableModel } from "../models/prunable.js";

/**
 * First-order (Taylor) saliency of every graph edge: |m_e · ∂L/∂m_e|, the estimated change of the
 * loss when edge e's mask value m_e goes to 0. L is the cross-entropy of the model's own
 * predictions over *all* nodes (self-distillation), not only the labelled ones: with the labelled
 * loss, edges outside the training nodes' receptive field get no gradient and would be ranked at
 * random (the known weakness of UGS's mask scores). Scores the first `count` edges (default: the
 * graph's edges; the self-loops follow them).
 */
export function edgeSaliency(model: PrunableModel, count = model.edges.numGraphEdges): Float32Array {
  const n = model.edges.numNodes;
  const e = count;
  const logits = model.forward(false);
  const c = logits.shape[1];
  const values = logits.dataSync();
  logits.dispose();
  const targets = new Float32Array(n * c);
  for (let v = 0; v < n; v++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (values[v * c + k] > values[v * c + best]) best = k;
    targets[v * c + best] = 1 / n;
  }
  const t = tf.tensor2d(targets, [n, c]);
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(model.forward(false)))))) as tf.Scalar, [model.edgeMask]);
  const grad = grads[model.edgeMask.name].dataSync();
  const mask = model.edgeMask.dataSync();
  tf.dispose([value, t, ...Object.values(grads)]);
  const score = new Float32Array(e);
  for (let k = 0; k < e; k++) score[k] = Math.abs(grad[k] * mask[k]);
  return score;
}
