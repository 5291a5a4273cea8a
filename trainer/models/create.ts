import type { Graph } from "../data/graph.js";
import { GcnModel, GCN_DEFAULTS, type GcnNormalisation } from "./gcn.js";
import { GatModel, GAT_DEFAULTS } from "./gat.js";
import { GinModel, GIN_DEFAULTS } from "./gin.js";
import type { ModelKind, PrunableModel } from "./prunable.js";

export const MODEL_KINDS: readonly ModelKind[] = ["gcn", "gin", "gat"];

export interface ModelSpec {
  kind: ModelKind;
  /** hidden width (GAT: per head); default 512 */
  hidden?: number;
  seed: number;
  /** GCN only */
  normalisation?: GcnNormalisation;
  /** GCN only: dropout on the logits while training; default 0 */
  outputDropout?: number;
}

/** A freshly initialised model of the given kind, with the papers' layer sizes unless overridden. */
export function createModel(graph: Graph, spec: ModelSpec): PrunableModel {
  switch (spec.kind) {
    case "gcn":
      return new GcnModel(graph, { ...GCN_DEFAULTS, hidden: spec.hidden ?? GCN_DEFAULTS.hidden, seed: spec.seed, normalisation: spec.normalisation, outputDropout: spec.outputDropout });
    case "gin":
      if (spec.normalisation === "renormalised") throw new Error("createModel: the GIN has no renormalisation (it averages over kept in-edges)");
      return new GinModel(graph, { ...GIN_DEFAULTS, hidden: spec.hidden ?? GIN_DEFAULTS.hidden, seed: spec.seed });
    case "gat":
      if (spec.normalisation === "renormalised") throw new Error("createModel: the GAT has no renormalisation (attention normalises)");
      return new GatModel(graph, { ...GAT_DEFAULTS, hidden: spec.hidden ?? GAT_DEFAULTS.hidden, seed: spec.seed });
    default:
      throw new Error(`createModel: unknown model ${String(spec.kind)} (expected ${MODEL_KINDS.join(", ")})`);
  }
}

/** Adam settings for dense training of each kind (GCN: Kipf & Welling; GIN and GAT: FastGLT's weight runs). */
export function denseTrainDefaults(kind: ModelKind): { lr: number; weightDecay: number } {
  return kind === "gcn" ? { lr: 0.01, weightDecay: 5e-4 } : { lr: 0.005, weightDecay: 5e-4 };
}
