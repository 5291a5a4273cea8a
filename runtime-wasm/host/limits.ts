/**
 * Checks a structurally valid Ticket against what running it would take, before anything is
 * allocated or any kernel runs:
 *  - memory: the bytes the model would hold (graph, features, weights in their kernel forms,
 *    activation buffers, the plan's dense weights, the logits) against a limit, so a file that
 *    declares absurd widths is refused with a message instead of an out-of-memory crash;
 *  - range: an upper bound on every intermediate value of the forward pass on the ticket's own
 *    features (|x| ≤ 1 when it has none), from the norms of Â, W and the attention vectors, must
 *    stay far below the f32 maximum, so whatever loads runs to finite logits. A corrupted
 *    exponent bit in one weight or coefficient is caught here.
 */
import type { Ticket, WeightMatrix } from "../../ticket/ticket.js";

/** Default ModelOptions.maxMemoryBytes: 2 GiB (a wasm32 instance addresses at most 4). */
export const DEFAULT_MAX_MEMORY_BYTES = 2 * 1024 ** 3;

/** Largest bound on any intermediate value that is accepted (f32 max ≈ 3.4e38). */
export const MAX_VALUE_BOUND = 1e30;

export interface MemoryEstimate {
  graph: number;
  features: number;
  weights: number;
  activations: number;
  total: number;
}

/** Approximate bytes a model of this ticket holds, wasm heap and JS side together (full-graph runs on its own or sparse features). */
export function estimateMemory(t: Ticket): MemoryEstimate {
  const n = t.graph.numNodes;
  const e = t.graph.colIdx.length;
  const graph = (n + 1 + 2 * e) * 4 * 2; // wasm copy + the JS copy node queries walk
  const features = t.features ? (n + 1 + 2 * t.features.colIdx.length) * 4 * 2 : 0;
  let weights = 0;
  let width = t.numClasses;
  let scores = 0;
  t.layers.forEach((l, i) => {
    // W's columns: heads·headFeatures for a GAT layer
    const cols = l.weight.cols;
    // the plan's dense copy, plus at most two kernel forms kept (sparse-input and dense-input
    // kernels of layer 0), each at most the dense size (packed panels round the columns up to 8)
    const cells = l.inFeatures * (Math.ceil(cols / 8) * 8);
    weights += cells * 4 * 3 + l.outFeatures * 4 + (l.attention ? 2 * cols * 4 : 0);
    width = Math.max(width, l.outFeatures, cols, i > 0 ? l.inFeatures : 0);
    if (l.attention) scores = Math.max(scores, 2 * n * l.attention.heads * 4);
  });
  // two buffers, the logits array, GAT scores el and er
  const activations = 2 * n * width * 4 + n * t.numClasses * 4 + scores;
  return { graph, features, weights, activations, total: graph + features + weights + activations };
}

/** The memory check: a message when the estimate exceeds `limit`, else null. */
export function memoryProblem(t: Ticket, limit: number): string | null {
  const m = estimateMemory(t);
  if (m.total <= limit) return null;
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(b < 1024 ** 2 ? 2 : 0)} MiB`;
  return (
    `running it needs about ${mib(m.total)} (graph ${mib(m.graph)}, features ${mib(m.features)}, weights ${mib(m.weights)}, ` +
    `activations ${mib(m.activations)} for ${t.graph.numNodes} nodes × widths up to ${Math.max(t.numClasses, ...t.layers.map((l) => l.outFeatures))}), ` +
    `more than the limit of ${mib(limit)} (ModelOptions.maxMemoryBytes)`
  );
}

/** max_j Σ_i |W_ij|: |(h · W)_j| ≤ max|h| · this. */
function maxColumnAbsSum(w: WeightMatrix): number {
  const sums = new Float64Array(w.cols);
  if (w.format === "dense") {
    for (let i = 0; i < w.rows; i++) for (let j = 0; j < w.cols; j++) sums[j] += Math.abs(w.data[i * w.cols + j]);
  } else {
    for (let k = 0; k < w.colIdx.length; k++) sums[w.colIdx[k]] += Math.abs(w.values[k]);
  }
  let m = 0;
  for (let j = 0; j < sums.length; j++) if (!(sums[j] <= m)) m = sums[j]; // NaN propagates
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (!(v <= m)) m = v;
  }
  return m;
}

/**
 * The range check: a message when some intermediate of the forward pass could exceed
 * MAX_VALUE_BOUND (or a value is not finite), else null. `inputBound` bounds |x| of the input
 * (default: the ticket's own features, or 1).
 */
export function rangeProblem(t: Ticket, inputBound?: number): string | null {
  const g = t.graph;
  let aggGain = 0; // max_v Σ_k |coef|: |(Â · h)_v| ≤ max|h| · this
  for (let v = 0; v < g.numNodes; v++) {
    let s = 0;
    for (let k = g.rowPtr[v]; k < g.rowPtr[v + 1]; k++) s += Math.abs(g.coef[k]);
    if (!(s <= aggGain)) aggGain = s;
  }
  if (!Number.isFinite(aggGain)) return `graph coefficients are not finite`;
  let h = inputBound ?? Math.max(1, t.features ? maxAbs(t.features.values) : 1);
  if (!Number.isFinite(h)) return `features are not finite`;
  for (let l = 0; l < t.layers.length; l++) {
    const layer = t.layers[l];
    const wGain = maxColumnAbsSum(layer.weight);
    const b = layer.bias ? maxAbs(layer.bias) : 0;
    const att = layer.attention;
    if (layer.kind === "gat" && att) {
      // |Z| ≤ h·wGain; a score is LeakyReLU(a_src·Z_u + a_dst·Z_v); the attention weights of a row
      // sum to 1 and the exponentials are max-shifted (≤ 1), so |output| ≤ |Z| + |b| (ELU shrinks)
      const z = h * wGain;
      let aGain = 0;
      for (let k = 0; k < att.heads; k++) {
        let s = 0;
        for (let c = 0; c < att.headFeatures; c++) s += Math.abs(att.src[k * att.headFeatures + c]) + Math.abs(att.dst[k * att.headFeatures + c]);
        if (!(s <= aGain)) aGain = s;
      }
      const score = z * aGain * Math.max(1, Math.abs(att.negativeSlope));
      const next = z + b;
      const worst = Math.max(score, next);
      if (!(worst <= MAX_VALUE_BOUND)) {
        return (
          `values could overflow float32 at layer ${l} (gat): |Z| ≤ ${fmt(z)}, |attention scores| ≤ ${fmt(score)} (input ≤ ${fmt(h)}, ` +
          `max column |W| sum ${fmt(wGain)}, max |a_src|+|a_dst| sum per head ${fmt(aGain)}, negativeSlope ${fmt(att.negativeSlope)}, max |bias| ${fmt(b)}); weights or attention vectors are absurdly large`
        );
      }
      h = next;
      continue;
    }
    // transform first: |H·W| ≤ h·wGain, then |Â(HW) + b| ≤ aggGain·h·wGain + b;
    // aggregate first: |ÂH| ≤ aggGain·h, then |(ÂH)W + b| ≤ the same
    const mid = Math.max(h * wGain, h * aggGain);
    const next = aggGain * h * wGain + b;
    const worst = Math.max(mid, next);
    if (!(worst <= MAX_VALUE_BOUND)) {
      return (
        `values could overflow float32 at layer ${l}: |activations| ≤ ${fmt(worst)} (input ≤ ${fmt(h)}, ` +
        `max column |W| sum ${fmt(wGain)}, max row |Â| sum ${fmt(aggGain)}, max |bias| ${fmt(b)}); weights or coefficients are absurdly large`
      );
    }
    h = next;
  }
  return null;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}
