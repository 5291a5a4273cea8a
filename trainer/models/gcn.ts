import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import { messagePassing, prepareMessagePassing, type MessagePassingGraph } from "../ops/message-passing.js";
import { prepareSparseMatrix, sparseMatMul, type PreparedSparseMatrix } from "../ops/sparse-matmul.js";
import { denseMatMul } from "../ops/dense-matmul.js";
import { dropout } from "../ops/dropout.js";
import { Rng } from "../util/rng.js";
import { gcnEdges, keptNormalisation, type GcnEdges } from "./gcn-graph.js";
import { glorotUniform, variableFrom } from "./init.js";
import { addTrainableMasks, removeTrainableMasks, restoreInto, snapshotOf } from "./variables.js";
import type { MaskMode, ModelState, PrunableModel, PrunableWeight } from "./prunable.js";
import { forwardMacs, type TicketLayer } from "../../ticket/ticket.js";
import { ticketWeight } from "./ticket-weight.js";
import { InputTransform } from "./input-transform.js";

/**
 * How Â's coefficients are formed from the per-edge mask values m_e:
 * - `fixed` (default; FastGLT's GCN and the one-shot pipeline): coef_e = m_e · keep_e · norm_e with
 *   norm = D^-1/2 (A+I) D^-1/2 of the *unpruned* graph; pruning removes a message without
 *   renormalising. Self-loops are ordinary edges of the mask.
 * - `renormalised` (UGS's GCN): Â = D̃^-1/2 (A⊙m⊙keep + I) D̃^-1/2 with D̃ the row sums of the
 *   *masked, soft* matrix, recomputed every forward pass (gradients flow through the degrees).
 *   Self-loops always carry weight 1 and are never masked or pruned.
 * - `kept` (ours: degree renormalisation after pruning): as `fixed`, but norm = D^-1/2 (A+I) D^-1/2
 *   of the *kept* binary graph (kept edges and kept self-loops), recomputed whenever the masks
 *   change (syncMasks), so a node that lost edges is not left with a shrunken aggregate.
 */
export type GcnNormalisation = "fixed" | "kept" | "renormalised";

export interface GcnConfig {
  hidden: number;
  dropout: number;
  seed: number;
  normalisation?: GcnNormalisation;
  /** dropout on the output logits while training (FastGLT's GCN layer drops after every layer); default 0 */
  outputDropout?: number;
  /** the first layer runs on the kept weights alone at most at this density (default: sparseWeightMaxDensity(Fout); 0: never) */
  sparseWeightMaxDensity?: number;
}

export const GCN_DEFAULTS: GcnConfig = { hidden: 512, dropout: 0.5, seed: 0 };

export type { MaskMode, ModelState, PrunableWeight } from "./prunable.js";

/**
 * A 2-layer GCN (Kipf & Welling) with a per-edge mask shared by both layers and a binary mask per
 * weight matrix:  logits = Â·(dropout(relu(Â·(X·(W1⊙M1)) + b1))·(W2⊙M2)) + b2,
 * Â's coefficient for edge e = edgeMask[e]·keep[e]·norm[e] (norm from the unpruned graph), or
 * the UGS renormalisation (`config.normalisation`).
 */
export class GcnModel implements PrunableModel {
  readonly kind: "gcn" | "gin" = "gcn";
  readonly selfLoopsPrunable: boolean = true;
  readonly edges: GcnEdges;
  readonly weights: PrunableWeight[];
  readonly biases: tf.Variable[];
  /** continuous per-edge mask values (trained when `trainEdgeMask`) */
  readonly edgeMask: tf.Variable;
  /** binary: 1 = edge kept */
  edgeKeep: Float32Array;
  trainEdgeMask = false;
  /** train `weights[i].maskTrain` (only with trainable weight masks enabled) */
  trainWeightMasks = false;
  maskMode: MaskMode = "multiply";
  denseWeightGradients = true;
  readonly normalisation: GcnNormalisation;

  private readonly features: PreparedSparseMatrix;
  private readonly input: InputTransform;
  private readonly mp: MessagePassingGraph;
  private norm: tf.Tensor1D;
  /** renormalised mode: 1 on self-loops, 0 on graph edges */
  private readonly selfLoopOnes: tf.Tensor1D | null = null;
  /** renormalised + zeroed mode: 1 on graph edges, 0 on self-loops */
  private readonly graphEdgeOnes: tf.Tensor1D | null = null;
  private readonly nodeOnes: tf.Tensor2D | null = null;
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
    this.normalisation = config.normalisation ?? "fixed";
    this.edges = gcnEdges(graph);
    this.features = prepareSparseMatrix(graph.features);
    this.input = new InputTransform(this.features, config.sparseWeightMaxDensity);
    this.mp = prepareMessagePassing(this.edges.src, this.edges.dst, graph.numNodes);
    this.norm = tf.tensor1d(this.edges.norm);
    const numEdges = this.edges.src.length;
    if (this.normalisation === "renormalised") {
      const self = new Float32Array(numEdges);
      self.fill(1, this.edges.numGraphEdges);
      this.selfLoopOnes = tf.tensor1d(self);
      this.graphEdgeOnes = tf.tensor1d(self.map((x) => 1 - x));
      this.nodeOnes = tf.ones([graph.numNodes, 1]);
    }
    this.weights = [
      { name: "w1", rows: f, cols: h, value: variableFrom(tf.tensor2d(glorotUniform(f, h, rng), [f, h])), mask: new Float32Array(f * h).fill(1), maskTrain: null },
      { name: "w2", rows: h, cols: c, value: variableFrom(tf.tensor2d(glorotUniform(h, c, rng), [h, c])), mask: new Float32Array(h * c).fill(1), maskTrain: null },
    ];
    this.biases = [variableFrom(tf.zeros([h])), variableFrom(tf.zeros([c]))];
    this.edgeMask = variableFrom(tf.ones([numEdges]));
    this.edgeKeep = new Float32Array(numEdges).fill(1);
    this.syncMasks();
  }

  /** Whether the first layer runs on the kept weights alone (models/input-transform.ts). */
  get sparseFirstLayer(): boolean {
    return this.input.sparse;
  }

  /** Adds UGS's trainable weight masks (initialised to 1): W_eff = W ⊙ m_train ⊙ M. */
  enableTrainableWeightMasks(): void {
    addTrainableMasks(this.weights);
  }

  /** Removes the trainable weight masks (back to W ⊙ M). */
  disableTrainableWeightMasks(): void {
    removeTrainableMasks(this.weights);
    this.trainWeightMasks = false;
  }

  /** Everything Adam updates. */
  trainableVariables(): tf.Variable[] {
    const vars = [...this.weights.map((w) => w.value), ...this.biases];
    if (this.trainEdgeMask) vars.push(this.edgeMask);
    if (this.trainWeightMasks) for (const w of this.weights) if (w.maskTrain) vars.push(w.maskTrain);
    return vars;
  }

  /** Call after changing `weights[i].mask` or `edgeKeep`. */
  syncMasks(): void {
    if (this.normalisation === "kept") {
      this.norm.dispose();
      this.norm = tf.tensor1d(keptNormalisation(this.edges, this.edgeKeep));
    }
    for (const t of this.maskTensors) t.dispose();
    this.edgeKeepTensor?.dispose();
    this.maskTensors = this.weights.map((w) => tf.tensor2d(w.mask, [w.rows, w.cols]));
    this.input.sync(this.weights[0]);
    if (this.normalisation === "renormalised") {
      // self-loops are never masked there: their weight comes from selfLoopOnes
      const keep = this.edgeKeep.slice();
      keep.fill(0, this.edges.numGraphEdges);
      this.edgeKeepTensor = tf.tensor1d(keep);
    } else {
      this.edgeKeepTensor = tf.tensor1d(this.edgeKeep);
    }
  }

  /** Zeroes the values of pruned entries (W where the mask is 0, edge-mask values of pruned edges), as +0. */
  zeroPruned(): void {
    tf.tidy(() => {
      // (+ 0 turns the −0 of a negative value times 0 into +0)
      for (const [i, w] of this.weights.entries()) w.value.assign(tf.add(tf.mul(w.value, this.maskTensors[i]), 0));
      this.edgeMask.assign(tf.add(tf.mul(this.edgeMask, tf.tensor1d(this.edgeKeep)), 0));
    });
  }

  /** The weight matrix the forward pass multiplies by. */
  effectiveWeight(i: number): tf.Tensor2D {
    const w = this.weights[i];
    if (this.maskMode === "zeroed") return w.value as tf.Tensor2D;
    const masked = tf.mul(w.value, this.maskTensors[i]);
    return (w.maskTrain ? tf.mul(masked, w.maskTrain) : masked) as tf.Tensor2D;
  }

  /** Per-edge mask factor m_e·keep_e (renormalised mode: 0 on self-loops, which are added as 1). */
  protected maskedEdgeValues(): tf.Tensor1D {
    if (this.maskMode === "zeroed") {
      return (this.normalisation === "renormalised" ? tf.mul(this.edgeMask, this.graphEdgeOnes!) : this.edgeMask) as tf.Tensor1D;
    }
    return tf.mul(this.edgeMask, this.edgeKeepTensor!) as tf.Tensor1D;
  }

  /** The fixed normalisation's per-edge coefficients: mask factor × norm (GIN has its own rule). */
  protected fixedCoefficients(): tf.Tensor1D {
    return tf.mul(this.maskedEdgeValues(), this.norm) as tf.Tensor1D;
  }

  /**
   * What the aggregation needs: fixed → the per-edge coefficients; renormalised → the per-edge
   * weights (mask values, self-loops 1) and r = D̃^-1/2 per node, coef_e = r[src]·w_e·r[dst].
   */
  private aggregation(): { weights: tf.Tensor1D; r: tf.Tensor2D | null } {
    if (this.normalisation !== "renormalised") return { weights: this.fixedCoefficients(), r: null };
    const w = tf.add(this.maskedEdgeValues(), this.selfLoopOnes!) as tf.Tensor1D;
    // D̃[v] = Σ_{e: src_e → v} w_e, the in-edges of v: UGS's row sums of the masked matrix plus I
    // (row v of Â is what v aggregates, x ← Â·x); guarded against ≤ 0
    const degree = messagePassing(this.nodeOnes!, w, this.mp);
    const r = tf.rsqrt(tf.maximum(degree, 1e-12)) as tf.Tensor2D;
    return { weights: w, r };
  }

  private aggregate(h: tf.Tensor2D, agg: { weights: tf.Tensor1D; r: tf.Tensor2D | null }): tf.Tensor2D {
    if (!agg.r) return messagePassing(h, agg.weights, this.mp);
    return tf.mul(messagePassing(tf.mul(h, agg.r) as tf.Tensor2D, agg.weights, this.mp), agg.r) as tf.Tensor2D;
  }

  /** The per-edge coefficient Â uses (for the ticket): mask value × keep × normalisation. */
  edgeWeights(): tf.Tensor1D {
    return tf.tidy(() => {
      const agg = this.aggregation();
      if (!agg.r) return agg.weights;
      const w = agg.weights.dataSync();
      const r = agg.r.dataSync();
      const { src, dst } = this.edges;
      const coef = new Float32Array(w.length);
      for (let e = 0; e < coef.length; e++) coef[e] = r[src[e]] * w[e] * r[dst[e]];
      return tf.tensor1d(coef);
    });
  }

  forward(training: boolean, dropoutSeed = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const agg = this.aggregation();
      const w0 = this.effectiveWeight(0);
      let h = this.input.apply(w0, null, this.maskMode, this.denseWeightGradients, () => sparseMatMul(this.features, w0));
      h = tf.relu(tf.add(this.aggregate(h, agg), this.biases[0])) as tf.Tensor2D;
      if (training && this.config.dropout > 0) h = dropout(h, this.config.dropout, dropoutSeed);
      const o = denseMatMul(h, this.effectiveWeight(1));
      const logits = tf.add(this.aggregate(o, agg), this.biases[1]) as tf.Tensor2D;
      const p = this.config.outputDropout ?? 0;
      // another mask stream than the hidden layer's for the same epoch seed
      return training && p > 0 ? dropout(logits, p, (dropoutSeed ^ 0x5bd1e995) >>> 0) : logits;
    });
  }

  ticketLayers(): TicketLayer[] {
    return this.weights.map((w, i) => ({
      kind: this.kind,
      inFeatures: w.rows,
      outFeatures: w.cols,
      weight: ticketWeight(w.value.dataSync() as Float32Array, w.mask, w.rows, w.cols),
      bias: this.biases[i].dataSync().slice() as Float32Array,
      activation: i < this.weights.length - 1 ? "relu" : "none",
    }));
  }

  forwardMacs(edgesComputed: number, weightNnz: number[]): number {
    return forwardMacs(this.edges.numNodes, edgesComputed, this.weights.map((w, i) => ({ inFeatures: w.rows, weightNnz: weightNnz[i] })));
  }

  allVariables(): tf.Variable[] {
    const vars = [...this.weights.map((w) => w.value), ...this.biases, this.edgeMask];
    for (const w of this.weights) if (w.maskTrain) vars.push(w.maskTrain);
    return vars;
  }

  /** Every variable by a stable name: w1, w2, b1, b2, edgeMask, and w1.maskTrain, w2.maskTrain when enabled. */
  namedVariables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const w of this.weights) m.set(w.name, w.value);
    this.biases.forEach((b, i) => m.set(`b${i + 1}`, b));
    m.set("edgeMask", this.edgeMask);
    for (const w of this.weights) if (w.maskTrain) m.set(`${w.name}.maskTrain`, w.maskTrain);
    return m;
  }

  snapshot(): ModelState {
    return snapshotOf(this.allVariables());
  }

  restore(s: ModelState): void {
    restoreInto(this.allVariables(), s);
  }

  dispose(): void {
    for (const v of this.allVariables()) v.dispose();
    for (const t of this.maskTensors) t.dispose();
    this.edgeKeepTensor?.dispose();
    this.norm.dispose();
    this.selfLoopOnes?.dispose();
    this.graphEdgeOnes?.dispose();
    this.nodeOnes?.dispose();
    this.mp.dispose();
    this.input.dispose();
    this.features.dispose();
  }
}
