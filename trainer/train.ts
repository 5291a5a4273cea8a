import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "./data/graph.js";
import { accuracy } from "./metrics.js";
import { FusedAdam } from "./ops/fused-adam.js";
import type { ModelState, PrunableModel } from "./models/prunable.js";
import { silentProgress, type Progress } from "./util/progress.js";

export interface TrainOptions {
  epochs: number;
  lr: number;
  weightDecay: number;
  /** seeds dropout: epoch e uses seed `seed * 100003 + e` */
  seed: number;
  phase?: string;
  progress?: Progress;
}

export const TRAIN_DEFAULTS = { epochs: 200, lr: 0.01, weightDecay: 5e-4 };

export interface Evaluation {
  logits: Float32Array;
  trainAccuracy: number;
  valAccuracy: number;
  testAccuracy: number;
}

export interface TrainResult {
  epochs: number;
  bestEpoch: number;
  best: Evaluation;
  /** the variables at the best-validation epoch (already restored into the model) */
  bestState: ModelState;
  seconds: number;
}

export function evaluate(model: PrunableModel, graph: Graph): Evaluation {
  const t = model.forward(false);
  const logits = t.dataSync() as Float32Array;
  t.dispose();
  const c = graph.numClasses;
  return {
    logits,
    trainAccuracy: accuracy(logits, c, graph.labels, graph.trainIdx),
    valAccuracy: accuracy(logits, c, graph.labels, graph.valIdx),
    testAccuracy: accuracy(logits, c, graph.labels, graph.testIdx),
  };
}

/** Cross-entropy targets: one-hot rows of the training nodes divided by their count, zero elsewhere. */
export function trainTargets(graph: Graph): tf.Tensor2D {
  const c = graph.numClasses;
  const t = new Float32Array(graph.numNodes * c);
  for (const v of graph.trainIdx) t[v * c + graph.labels[v]] = 1 / graph.trainIdx.length;
  return tf.tensor2d(t, [graph.numNodes, c]);
}

/** Dropout seed of a training epoch (the same rule `train` uses). */
export function dropoutSeed(seed: number, epoch: number): number {
  return seed * 100003 + epoch;
}

/**
 * Mean cross-entropy on the training nodes (`targets` from trainTargets) of a forward pass with
 * dropout, and its gradient w.r.t. each of `vars` (null where the loss does not depend on it).
 * The caller disposes the gradients. This is the step the ticket searches build on (they change
 * the gradients before the optimizer sees them).
 */
export function lossAndGradients(model: PrunableModel, targets: tf.Tensor2D, vars: tf.Variable[], seed: number): { loss: number; grads: (tf.Tensor | null)[] } {
  const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(model.forward(true, seed))))) as tf.Scalar), vars);
  const loss = value.dataSync()[0];
  value.dispose();
  return { loss, grads: vars.map((v) => grads[v.name] ?? null) };
}

/** One full-batch epoch: forward with dropout, cross-entropy on the training nodes, backward, Adam step. */
export interface TrainStep {
  (epoch: number): number;
  dispose(): void;
}

/**
 * The training step `train` runs each epoch (benchmarks time exactly this). Adam with L2 weight
 * decay on weights and biases, as PyTorch's `Adam(weight_decay=…)`; no decay on the edge mask:
 * with Adam, a decay-only gradient moves every edge outside the training nodes' receptive field
 * by ~lr per step, so its magnitude would say more about distance from the training set than
 * about usefulness.
 */
export function createTrainStep(model: PrunableModel, graph: Graph, opts: Pick<TrainOptions, "lr" | "weightDecay" | "seed">): TrainStep {
  const targets = trainTargets(graph);
  const vars = model.trainableVariables();
  const optimizer = new FusedAdam({ learningRate: opts.lr, weightDecay: opts.weightDecay, noDecay: [model.edgeMask] });
  const step = (epoch: number): number => {
    const lossValue = optimizer.minimize(
      () => tf.tidy(() => tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(model.forward(true, dropoutSeed(opts.seed, epoch)))))) as tf.Scalar),
      vars,
    );
    const loss = lossValue.dataSync()[0];
    lossValue.dispose();
    return loss;
  };
  return Object.assign(step, {
    dispose() {
      targets.dispose();
      optimizer.dispose();
    },
  });
}

/**
 * Full-batch training, evaluating every epoch and keeping the best-validation model: the model
 * ends restored to that epoch's variables.
 */
export function train(model: PrunableModel, graph: Graph, opts: TrainOptions): TrainResult {
  const progress = opts.progress ?? silentProgress;
  const phase = opts.phase ?? "train";
  const step = createTrainStep(model, graph, opts);
  const start = performance.now();
  let best: Evaluation | null = null;
  let bestEpoch = -1;
  let bestState: ModelState = model.snapshot();
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const loss = step(epoch);
      if (!Number.isFinite(loss)) throw new Error(`${phase}: loss became ${loss} at epoch ${epoch}; lower the learning rate`);
      const ev = evaluate(model, graph);
      if (best === null || ev.valAccuracy > best.valAccuracy) {
        best = ev;
        bestEpoch = epoch;
        bestState = model.snapshot();
      }
      progress.update(phase, epoch, opts.epochs, {
        loss,
        val: ev.valAccuracy,
        best: best.valAccuracy,
        "at epoch": bestEpoch,
      });
    }
  } finally {
    step.dispose();
  }
  model.restore(bestState);
  const seconds = (performance.now() - start) / 1000;
  if (best === null) best = evaluate(model, graph);
  return { epochs: opts.epochs, bestEpoch, best, bestState, seconds };
}
