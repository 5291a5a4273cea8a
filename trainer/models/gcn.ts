import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import { messagePassing, prepareMessagePassing, type MessagePassingGraph } from "../ops/message-passing.js";
import { prepareSparseMatrix, sparseMatMul, type PreparedSparseMatrix } from "../ops/sparse-matmul.js";
import { denseMatMul } from "../ops/dense-matmul.js";
import { dropout } from "../ops/dropout.js";
import { Rng } from "../util/rng.js";
import { gcnEdges, type GcnEdges } from "./gcn-graph.js";
import { glorotUniform } from "./init.js";

export interface GcnConfig {
  hidden: number;
  dropout: number;
  seed: number;
}

export const GCN_DEFAULTS: GcnConfig = { hidden: 512, dropout: 0.5, seed: 0 };

/** A weight matrix that can be pruned: its values and a binary mask of the same shape. */
export interface PrunableWeight {
  name: string;
  rows: number;
  cols: number;
  value: tf.Variable;
  mask: Float32Array;
}

/** Values of every variable (in `allVariables()` order), to restore the best-validation model or rewind. */
export type ModelState = Float32Array[];

/**
 * A 2-layer GCN (Kipf & Welling) with a per-edge mask shared by both layers and a binary mask per
 * weight matrix:  logits = Â·(dropout(relu(Â·(X·(W1⊙M1)) + b1))·(W2⊙M2)) + b2,
 * Â's coefficient for edge e = edgeMask[e]·keep[e]·norm[e] (norm from the unpruned graph).
 */
export class GcnModel {
  readonly kind = "gcn";
  readonly edges: GcnEdges;
  readonly weights: PrunableWeight[];
  readonly biases: tf.Variable[];
  /** continuous per-edge mask values (trained when `trainEdgeMask`) */
  readonly edgeMask: tf.Variable;
  /** binary: 1 = edge kept */
  edgeKeep: Float32Array;
  trainEdgeMask = false;

  private readonly features: PreparedSparseMatrix;
  private readonly mp: MessagePassingGraph;
  private readonly norm: tf.Tensor1D;
  private maskTensors: tf.Tensor2D[] = [];
  private edgeKeepTensor: tf.Tensor1D | null = null;

  constructor(
    readonly graph: Graph,
    readonly config: GcnConfig,
  ) {
    if (graph.features.kind !== "csr") throw new Error("GcnModel: features must be CSR (sparse)");
    const rng = new Rng(config.seed);
    const f = graph.numFeatures;
    const h = config.hidden;
    const c = graph.numClasses;
    this.edges = gcnEdges(graph);
    this.features = prepareSparseMatrix(graph.features);
    this.mp = prepareMessagePassing(this.edges.src, this.edges.dst, graph.numNodes);
    this.norm = tf.tensor1d(this.edges.norm);
    this.weights = [
      { name: "w1", rows: f, cols: h, value: tf.variable(tf.tensor2d(glorotUniform(f, h, rng), [f, h]), true), mask: new Float32Array(f * h).fill(1) },
      { name: "w2", rows: h, cols: c, value: tf.variable(tf.tensor2d(glorotUniform(h, c, rng), [h, c]), true), mask: new Float32Array(h * c).fill(1) },
    ];
    this.biases = [tf.variable(tf.zeros([h]), true), tf.variable(tf.zeros([c]), true)];
    this.edgeMask = tf.variable(tf.ones([this.edges.src.length]), true);
    this.edgeKeep = new Float32Array(this.edges.src.length).fill(1);
    this.syncMasks();
  }

  /** Everything Adam updates. */
  trainableVariables(): tf.Variable[] {
    const vars = [...this.weights.map((w) => w.value), ...this.biases];
    if (this.trainEdgeMask) vars.push(this.edgeMask);
    return vars;
  }

  /** Call after changing `weights[i].mask` or `edgeKeep`. */
  syncMasks(): void {
    for (const t of this.maskTensors) t.dispose();
    this.edgeKeepTensor?.dispose();
    this.maskTensors = this.weights.map((w) => tf.tensor2d(w.mask, [w.rows, w.cols]));
    this.edgeKeepTensor = tf.tensor1d(this.edgeKeep);
  }

  /** The per-edge weight Â uses: mask value × keep × normalisation. */
  edgeWeights(): tf.Tensor1D {
    return tf.tidy(() => tf.mul(tf.mul(this.edgeMask, this.edgeKeepTensor!), this.norm) as tf.Tensor1D);
  }

  forward(training: boolean, dropoutSeed = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const ew = this.edgeWeights();
      const w1 = tf.mul(this.weights[0].value, this.maskTensors[0]) as tf.Tensor2D;
      let h = sparseMatMul(this.features, w1);
      h = tf.relu(tf.add(messagePassing(h, ew, this.mp), this.biases[0])) as tf.Tensor2D;
      if (training && this.config.dropout > 0) h = dropout(h, this.config.dropout, dropoutSeed);
      const w2 = tf.mul(this.weights[1].value, this.maskTensors[1]) as tf.Tensor2D;
      const o = denseMatMul(h, w2);
      return tf.add(messagePassing(o, ew, this.mp), this.biases[1]) as tf.Tensor2D;
    });
  }

  allVariables(): tf.Variable[] {
    return [...this.weights.map((w) => w.value), ...this.biases, this.edgeMask];
  }

  snapshot(): ModelState {
    return this.allVariables().map((v) => v.dataSync().slice() as Float32Array);
  }

  restore(s: ModelState): void {
    const vars = this.allVariables();
    if (s.length !== vars.length) throw new Error(`restore: state has ${s.length} tensors, the model ${vars.length}`);
    vars.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(s[i], v.shape))));
  }

  dispose(): void {
    for (const v of this.allVariables()) v.dispose();
    for (const t of this.maskTensors) t.dispose();
    this.edgeKeepTensor?.dispose();
    this.norm.dispose();
  }
}
