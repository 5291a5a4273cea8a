import type * as tf from "@tensorflow/tfjs-core";
import type { TicketLayer } from "../../ticket/ticket.js";
import type { GcnEdges } from "./gcn-graph.js";

/** A weight matrix that can be pruned: its values and a binary mask of the same shape. */
export interface PrunableWeight {
  name: string;
  rows: number;
  cols: number;
  value: tf.Variable;
  mask: Float32Array;
  /** UGS's continuous, trainable weight mask (`enableTrainableWeightMasks`), else null */
  maskTrain: tf.Variable | null;
}

/** Values of every variable (in `allVariables()` order), to restore the best-validation model or rewind. */
export type ModelState = Float32Array[];

/**
 * How the binary masks (`weights[i].mask`, `edgeKeep`) enter the forward pass:
 * - `multiply` (default): W_eff = W ⊙ M (⊙ m_train when trainable weight masks are on) and the edge
 *   weight is m_e · keep_e; gradients of pruned entries are zero.
 * - `zeroed` (RigL / FastGLT): the forward pass uses W and m_e as they are, and the caller keeps
 *   pruned entries at exactly 0 (FusedAdam's masked update, `zeroPruned()`). The gradient of W and
 *   of the edge mask is then the gradient of the *unmasked* loss w.r.t. every entry, pruned ones
 *   included: what FastGLT's regrowth scores use. Same logits as `multiply` while the invariant holds.
 */
export type MaskMode = "multiply" | "zeroed";

export type ModelKind = "gcn" | "gin" | "gat";

/**
 * What the trainer, the ticket searches and the ticket builder need of a model with a per-edge
 * mask and per-weight masks (GCN, GIN, GAT). The edge set is `edges`: the graph's directed edges,
 * then one self-loop per node (ids ≥ `edges.numGraphEdges`); the edge mask has one entry per edge.
 */
export interface PrunableModel {
  readonly kind: ModelKind;
  readonly edges: GcnEdges;
  readonly weights: PrunableWeight[];
  readonly biases: tf.Variable[];
  /** continuous per-edge mask values (trained when `trainEdgeMask`) */
  readonly edgeMask: tf.Variable;
  /** binary: 1 = edge kept */
  edgeKeep: Float32Array;
  trainEdgeMask: boolean;
  trainWeightMasks: boolean;
  maskMode: MaskMode;
  /**
   * In `zeroed` mode: must the next backward pass give the first weight's gradient at pruned entries
   * too (FastGLT's regrowth reads it; default true)? false lets the first layer run on the kept
   * weights alone in both directions (models/input-transform.ts): the gradient at pruned entries is
   * then incomplete (the GCN's 0, the GAT's only its attention scores' share), which the masked
   * optimizer step ignores.
   */
  denseWeightGradients: boolean;
  /** may searches prune the self-loops? (GCN: yes, as FastGLT's; GIN's (1+ε)·h and GAT's self-attention: no) */
  readonly selfLoopsPrunable: boolean;
  enableTrainableWeightMasks(): void;
  disableTrainableWeightMasks(): void;
  trainableVariables(): tf.Variable[];
  /** Call after changing `weights[i].mask` or `edgeKeep`. */
  syncMasks(): void;
  /** Zeroes the values of pruned entries (weights and edge-mask values), as +0. */
  zeroPruned(): void;
  /** logits, numNodes × numClasses */
  forward(training: boolean, dropoutSeed?: number): tf.Tensor2D;
  /** The per-edge coefficient the ticket's graph stores (ticket/ticket.ts says what it means per kind). */
  edgeWeights(): tf.Tensor1D;
  /** The layers of the ticket, pruned weights removed (no graph, no meta). */
  ticketLayers(): TicketLayer[];
  /** MACs of one full-graph forward pass with `edgesComputed` edges (self-loops included) and these nonzeros per weight matrix. */
  forwardMacs(edgesComputed: number, weightNnz: number[]): number;
  allVariables(): tf.Variable[];
  namedVariables(): Map<string, tf.Variable>;
  snapshot(): ModelState;
  restore(s: ModelState): void;
  dispose(): void;
}
