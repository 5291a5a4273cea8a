import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import { messagePassing, prepareMessagePassing, type MessagePassingGraph } from "../ops/message-passing.js";
import { dropoutScale, prepareScaledSparse, scaledSparseMatMul, type PreparedScaledSparse } from "../ops/scaled-sparse-matmul.js";
import { denseMatMul } from "../ops/dense-matmul.js";
import { dropout } from "../ops/dropout.js";
import { edgeSoftmax, prepareEdgeSoftmax, type EdgeSoftmaxGraph } from "../ops/edge-softmax.js";
import { biasAdd } from "../ops/bias-add.js";
import { headDot, prepareHeadDot, type PreparedHeadDot } from "../ops/head-dot.js";
import { Rng } from "../util/rng.js";
import { gcnEdges, type GcnEdges } from "./gcn-graph.js";
import { glorotUniform, variableFrom } from "./init.js";
import { addTrainableMasks, removeTrainableMasks, restoreInto, snapshotOf } from "./variables.js";
import type { MaskMode, ModelState, PrunableModel, PrunableWeight } from "./prunable.js";
import { gatMacs, type TicketLayer } from "../../ticket/ticket.js";
import { ticketWeight } from "./ticket-weight.js";
import { InputTransform } from "./input-transform.js";

export interface GatConfig {
  /** features per head of the hidden layer */
  hidden: number;
  /** heads of the hidden layer (the output layer has one) */
  heads: number;
  /** dropout on the input features' nonzeros */
  inputDropout: number;
  /** dropout on the hidden layer's output (the output layer's input) */
  dropout: number;
  /** dropout on the attention coefficients α of both layers */
  attentionDropout: number;
  seed: number;
  /** the first layer runs on the kept weights alone at most at this density (default: sparseWeightMaxDensity(Fout); 0: never) */
  sparseWeightMaxDensity?: number;
}

/** The papers' sizes (algorithms.md §1.5: 8 heads × 512, dropout 0.6). */
export const GAT_DEFAULTS: GatConfig = { hidden: 512, heads: 8, inputDropout: 0.6, dropout: 0.6, attentionDropout: 0.6, seed: 0 };

export const GAT_NEGATIVE_SLOPE = 0.2;

interface GatLayerShape {
  heads: number;
  headFeatures: number;
  concat: boolean;
}


/**
 * A 2-layer GAT (Veličković et al.) with a per-edge mask shared by both layers and a binary mask
 * per weight matrix, computing exactly the ticket's `gat` layer (ticket/ticket.ts):
 *
 *   layer 1: Z = X·(W1⊙M1), 8 heads × hidden, attention over each node's in-edges, heads
 *            concatenated, + b1, ELU
 *   layer 2: Z = H·(W2⊙M2), 1 head × numClasses, + b2
 *   α_e = m_e·exp(s_e) / Σ_{e' into v} m_e'·exp(s_e'),  s_e = LeakyReLU_0.2(a_src·Z[u] + a_dst·Z[v])
 *
 * m_e = edgeMask·keep ("multiply") or edgeMask ("zeroed"); negative values count as 0. The edge set
 * is the graph's directed edges plus one self-loop per node, which is never pruned (a node always
 * attends to itself, so no row of the softmax is empty); its mask value is trained like any edge's
 * (UGS's GAT masks self-loops too).
 *
 * Where this differs from the papers' GAT (FastGLT_gat, UGS's DGL GAT):
 * - **Real removal**: the official code multiplies the attention *logit* by the mask, so a pruned
 *   edge keeps weight ∝ e⁰ in the softmax; here a pruned edge is absent. ∂α/∂m_e stays defined
 *   and nonzero at m_e = 0, which FastGLT's edge regrowth uses.
 * - The attention vectors are trained but not pruned and not in `weights` (the official code also
 *   prunes `attn_fc`); they are 2·heads·hidden numbers, < 0.2% of W1 on Cora.
 * - Dropout 0.6 on the input features, the hidden layer and α (both layers), as the official
 *   GAT; on the CSR input it drops nonzeros (the zeros of X·W1's input stay zero either way).
 * - Glorot-uniform init (W: fan in × heads·F; attention vectors: heads × F, as PyG's GATConv),
 *   bias zero, this project's seeded RNG.
 */
export class GatModel implements PrunableModel {
  readonly kind = "gat";
  readonly selfLoopsPrunable = false;
  readonly edges: GcnEdges;
  readonly weights: PrunableWeight[];
  readonly biases: tf.Variable[];
  /** per layer: [a_src; a_dst], 2 × heads × headFeatures */
  readonly attention: tf.Variable[];
  readonly layers: GatLayerShape[];
  /** continuous per-edge mask values (trained when `trainEdgeMask`) */
  readonly edgeMask: tf.Variable;
  /** binary: 1 = edge kept */
  edgeKeep: Float32Array;
  trainEdgeMask = false;
  /** train `weights[i].maskTrain` (only with trainable weight masks enabled) */
  trainWeightMasks = false;
  maskMode: MaskMode = "multiply";
  denseWeightGradients = true;

  private readonly features: PreparedScaledSparse;
  private readonly input: InputTransform;
  private readonly softmaxGraph: EdgeSoftmaxGraph;
  /** per layer: the edge set repeated per head, edge e·H + k = (src·H + k → dst·H + k), over Z seen as [N·H, F] */
  private readonly headGraphs: MessagePassingGraph[];
  /** attention scores [el | er]: of W1's rows (layer 1, scores = X·(W1·A)) and of Z2's rows (layer 2) */
  private readonly scorePlans: PreparedHeadDot[];
  private maskTensors: tf.Tensor2D[] = [];
  /** per weight: does its binary mask keep every entry? (then W ⊙ M is W, and no multiply runs) */
  private maskAllOnes: boolean[] = [];
  private edgeKeepTensor: tf.Tensor1D | null = null;

  constructor(
    readonly graph: Graph,
    readonly config: GatConfig,
  ) {
    if (graph.features.kind !== "csr") throw new Error("GatModel: features must be CSR (sparse)");
    for (const k of ["hidden", "heads"] as const) {
      if (!(Number.isInteger(config[k]) && config[k] >= 1)) throw new Error(`GatModel: ${k} must be a positive integer, got ${config[k]}`);
    }
    const rng = new Rng(config.seed);
    const f = graph.numFeatures;
    const c = graph.numClasses;
    const width = config.heads * config.hidden;
    this.layers = [
      { heads: config.heads, headFeatures: config.hidden, concat: true },
      { heads: 1, headFeatures: c, concat: false },
    ];
    this.edges = gcnEdges(graph);
    const { src, dst, numNodes } = this.edges;
    this.features = prepareScaledSparse(graph.features);
    this.input = new InputTransform(this.features, config.sparseWeightMaxDensity);
    this.softmaxGraph = prepareEdgeSoftmax(src, dst, numNodes);
    const byHeads = new Map<number, MessagePassingGraph>();
    this.headGraphs = this.layers.map(({ heads }) => {
      let g = byHeads.get(heads);
      if (!g) {
        g = prepareMessagePassing(...repeatPerHead(src, dst, heads), numNodes * heads);
        byHeads.set(heads, g);
      }
      return g;
    });
    this.scorePlans = [prepareHeadDot(f, config.heads, 2), prepareHeadDot(numNodes, 1, 2)];
    const variable = (values: Float32Array, shape: [number, number]) => variableFrom(tf.tensor2d(values, shape));
    this.weights = [
      { name: "w1", rows: f, cols: width, value: variable(glorotUniform(f, width, rng), [f, width]), mask: new Float32Array(f * width).fill(1), maskTrain: null },
      { name: "w2", rows: width, cols: c, value: variable(glorotUniform(width, c, rng), [width, c]), mask: new Float32Array(width * c).fill(1), maskTrain: null },
    ];
    this.attention = this.layers.map(({ heads, headFeatures }) => {
      const a = new Float32Array(2 * heads * headFeatures);
      a.set(glorotUniform(heads, headFeatures, rng));
      a.set(glorotUniform(heads, headFeatures, rng), heads * headFeatures);
      return variableFrom(tf.tensor3d(a, [2, heads, headFeatures]));
    });
    this.biases = [variableFrom(tf.zeros([width])), variableFrom(tf.zeros([c]))];
    this.edgeMask = variableFrom(tf.ones([src.length]));
    this.edgeKeep = new Float32Array(src.length).fill(1);
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
    const vars = [...this.weights.map((w) => w.value), ...this.biases, ...this.attention];
    if (this.trainEdgeMask) vars.push(this.edgeMask);
    if (this.trainWeightMasks) for (const w of this.weights) if (w.maskTrain) vars.push(w.maskTrain);
    return vars;
  }

  /** Call after changing `weights[i].mask` or `edgeKeep`. */
  syncMasks(): void {
    for (const t of this.maskTensors) t.dispose();
    this.edgeKeepTensor?.dispose();
    this.maskTensors = this.weights.map((w) => tf.tensor2d(w.mask, [w.rows, w.cols]));
    this.maskAllOnes = this.weights.map((w) => w.mask.every((x) => x === 1));
    this.input.sync(this.weights[0]);
    this.edgeKeepTensor = tf.tensor1d(this.edgeKeep);
  }

  /** Zeroes the values of pruned entries (W where the mask is 0, edge-mask values of pruned edges), as +0. */
  zeroPruned(): void {
    tf.tidy(() => {
      // (+ 0 turns the −0 of a negative value times 0 into +0)
      for (const [i, w] of this.weights.entries()) w.value.assign(tf.add(tf.mul(w.value, this.maskTensors[i]), 0));
      this.edgeMask.assign(tf.add(tf.mul(this.edgeMask, this.edgeKeepTensor!), 0));
    });
  }

  /** The weight matrix the forward pass multiplies by. */
  effectiveWeight(i: number): tf.Tensor2D {
    const w = this.weights[i];
    if (this.maskMode === "zeroed") return w.value as tf.Tensor2D;
    const masked = this.maskAllOnes[i] ? w.value : tf.mul(w.value, this.maskTensors[i]);
    return (w.maskTrain ? tf.mul(masked, w.maskTrain) : masked) as tf.Tensor2D;
  }

  /** m_e as the softmax uses it (negative values act as 0 there). */
  private maskedEdgeValues(): tf.Tensor1D {
    if (this.maskMode === "zeroed") return this.edgeMask as tf.Tensor1D;
    return tf.mul(this.edgeMask, this.edgeKeepTensor!) as tf.Tensor1D;
  }

  /** The ticket's graph coefficient: max(m_e, 0). */
  edgeWeights(): tf.Tensor1D {
    return tf.tidy(() => tf.relu(this.maskedEdgeValues()) as tf.Tensor1D);
  }

  /**
   * One GAT layer before bias and activation: per-head attention-weighted sums of z's rows, heads
   * side by side. `scores` = [el | er], numNodes × 2·heads.
   */
  private attend(l: number, z: tf.Tensor2D, scores: tf.Tensor2D, m: tf.Tensor1D, dropAlpha: (alpha: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const { heads, headFeatures } = this.layers[l];
    const n = this.edges.numNodes;
    const alpha = dropAlpha(edgeSoftmax(scores, m, this.softmaxGraph, { negativeSlope: GAT_NEGATIVE_SLOPE }));
    const y = messagePassing(tf.reshape(z, [n * heads, headFeatures]), tf.reshape(alpha, [-1]), this.headGraphs[l]);
    // concatenated heads; the output layer averages its one head, which is that head
    return tf.reshape(y, [n, heads * headFeatures]);
  }

  forward(training: boolean, dropoutSeed = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const { inputDropout, dropout: rate, attentionDropout } = this.config;
      // four dropout masks per pass, each from its own seed
      const seed = (i: number) => dropoutSeed * 4 + i;
      const drop = <T extends tf.Tensor>(x: T, r: number, i: number): T => (training && r > 0 ? dropout(x, r, seed(i)) : x);
      const m = this.maskedEdgeValues();
      const w1 = this.effectiveWeight(0);
      const xScale = training && inputDropout > 0 ? dropoutScale(this.features.nnz, inputDropout, seed(3)) : null;
      const z1 = this.input.apply(w1, xScale, this.maskMode, this.denseWeightGradients, () => scaledSparseMatMul(this.features, w1, xScale));
      // scores of X·W1 as X·(W1·A): W1 has fewer rows than Z1 (Cora: 1433 vs 2708)
      const s1 = scaledSparseMatMul(this.features, headDot(w1, this.attention[0] as tf.Tensor3D, this.scorePlans[0]), xScale);
      let h = tf.elu(biasAdd(this.attend(0, z1, s1, m, (a) => drop(a, attentionDropout, 0)), this.biases[0] as tf.Tensor1D)) as tf.Tensor2D;
      h = drop(h, rate, 1);
      const z2 = denseMatMul(h, this.effectiveWeight(1));
      const s2 = headDot(z2, this.attention[1] as tf.Tensor3D, this.scorePlans[1]);
      return biasAdd(this.attend(1, z2, s2, m, (a) => drop(a, attentionDropout, 2)), this.biases[1] as tf.Tensor1D);
    });
  }

  ticketLayers(): TicketLayer[] {
    return this.weights.map((w, i) => {
      const { heads, headFeatures, concat } = this.layers[i];
      const a = this.attention[i].dataSync() as Float32Array;
      return {
        kind: "gat",
        inFeatures: w.rows,
        outFeatures: concat ? heads * headFeatures : headFeatures,
        weight: ticketWeight(w.value.dataSync() as Float32Array, w.mask, w.rows, w.cols),
        bias: this.biases[i].dataSync().slice() as Float32Array,
        activation: i < this.weights.length - 1 ? "elu" : "none",
        attention: {
          heads,
          headFeatures,
          src: a.slice(0, heads * headFeatures),
          dst: a.slice(heads * headFeatures),
          negativeSlope: GAT_NEGATIVE_SLOPE,
          concat,
        },
      };
    });
  }

  forwardMacs(edgesComputed: number, weightNnz: number[]): number {
    let macs = 0;
    this.layers.forEach(({ heads, headFeatures }, i) => (macs += gatMacs(this.edges.numNodes, edgesComputed, weightNnz[i], heads, headFeatures)));
    return macs;
  }

  allVariables(): tf.Variable[] {
    const vars = [...this.weights.map((w) => w.value), ...this.biases, ...this.attention, this.edgeMask];
    for (const w of this.weights) if (w.maskTrain) vars.push(w.maskTrain);
    return vars;
  }

  /** Every variable by a stable name: w1, w2, b1, b2, att1, att2, edgeMask, and w1.maskTrain, w2.maskTrain when enabled. */
  namedVariables(): Map<string, tf.Variable> {
    const m = new Map<string, tf.Variable>();
    for (const w of this.weights) m.set(w.name, w.value);
    this.biases.forEach((b, i) => m.set(`b${i + 1}`, b));
    this.attention.forEach((a, i) => m.set(`att${i + 1}`, a));
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
    for (const g of new Set(this.headGraphs)) g.dispose();
    for (const p of this.scorePlans) p.dispose();
    this.input.dispose();
    this.features.dispose();
  }
}

/** The edge list once per head: edge e·H + k goes src·H + k → dst·H + k. */
function repeatPerHead(src: Int32Array, dst: Int32Array, heads: number): [Int32Array, Int32Array] {
  const s = new Int32Array(src.length * heads);
  const d = new Int32Array(src.length * heads);
  for (let e = 0; e < src.length; e++) {
    for (let k = 0; k < heads; k++) {
      s[e * heads + k] = src[e] * heads + k;
      d[e * heads + k] = dst[e] * heads + k;
    }
  }
  return [s, d];
}
