import * as tf from "@tensorflow/tfjs-core";
import type { Graph } from "../data/graph.js";
import { GcnModel, type GcnConfig } from "./gcn.js";

export type GinConfig = Omit<GcnConfig, "normalisation">;

export const GIN_DEFAULTS: GinConfig = { hidden: 512, dropout: 0.5, seed: 0 };

/**
 * A 2-layer GIN with a per-edge mask and per-weight masks. Layer l:
 *   h' = act( ((1+ε)·h_v + mean_{kept e: u → v} m_e·h_u) · W_l + b_l ),  ε = 0,
 * ReLU on the hidden layer, dropout 0.5 after it. By linearity this is the GCN's Â·(H·W) + b with
 * coef = m_e / (kept in-degree of v) on graph edges and 1 + ε on the self-loop, so the GCN's
 * machinery (custom ops, masks, snapshot, ticket) serves unchanged; the ticket's graph stores those
 * coefficients and its layers are kind "gin".
 *
 * Where this differs from the papers' GIN (FastGLT_gin, UGS's DGL GIN; algorithms.md):
 * - **Real removal**: the mean runs over the *kept* in-edges. The official code divides by the
 *   unpruned in-degree, so a pruned edge still shrinks its destination's mean.
 * - The self-loop term (1+ε)·h_v is not an edge of the mask: it is never masked, trained or pruned,
 *   so graph sparsity is over the graph's directed edges alone (10,556 on Cora).
 * - One linear layer per GIN layer *with* bias, no ReLU on the output layer and no
 *   `linears_prediction` head (the official output is (linears_prediction(h1) + h2)/2 after a
 *   ReLU on both layers); ε is fixed at 0 as in FastGLT (UGS learns it).
 * - Glorot-uniform init and this project's seeded RNG, as the GCN.
 */
export class GinModel extends GcnModel {
  override readonly kind = "gin";
  override readonly selfLoopsPrunable = false;
  /** per edge: 1 / kept in-degree of its destination on graph edges, 0 on self-loops (set by syncMasks) */
  private declare invKeptDegree: tf.Tensor1D;
  /** 1 + ε on self-loops, 0 on graph edges */
  private declare selfTerm: tf.Tensor1D;

  constructor(graph: Graph, config: GinConfig) {
    super(graph, { ...config, normalisation: "fixed" });
  }

  override syncMasks(): void {
    super.syncMasks();
    const { dst, numGraphEdges, numNodes } = this.edges;
    const kept = new Float64Array(numNodes);
    for (let e = 0; e < numGraphEdges; e++) if (this.edgeKeep[e] !== 0) kept[dst[e]] += 1;
    const inv = new Float32Array(dst.length);
    for (let e = 0; e < numGraphEdges; e++) inv[e] = kept[dst[e]] > 0 ? 1 / kept[dst[e]] : 0;
    this.invKeptDegree?.dispose();
    this.invKeptDegree = tf.tensor1d(inv);
    if (!this.selfTerm) {
      const self = new Float32Array(dst.length);
      self.fill(1, numGraphEdges);
      this.selfTerm = tf.tensor1d(self);
    }
  }

  protected override fixedCoefficients(): tf.Tensor1D {
    return tf.add(tf.mul(this.maskedEdgeValues(), this.invKeptDegree), this.selfTerm) as tf.Tensor1D;
  }

  override dispose(): void {
    super.dispose();
    this.invKeptDegree.dispose();
    this.selfTerm.dispose();
  }
}
