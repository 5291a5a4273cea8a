/**
 * The edge-mask regularisers of FastGLT's graph runs (FastGLT_gcn/main.py, utils.py), added to the
 * loss in every epoch of a run that prunes edges:
 *
 *   0.1 · exp(−0.5 · mean_{i,j} |m_i − m_j|)      "exp diversity" (left out on PubMed, as there)
 *   0.1 · (−log(var(m) + 1e−8))                   "log variance" (unbiased variance, as torch.var)
 *
 * over every entry of the edge mask (pruned ones are 0 there and count too). The official code
 * builds the E×E difference matrix (why it skips PubMed); the mean of |m_i − m_j| over all pairs
 * is computed here from the sorted values in O(E log E):  Σ_{i,j}|m_i − m_j| = 2·Σ_k s_k·(2k − E + 1)
 * for s sorted ascending, and ∂/∂m_i = 2·(#{j: m_j < m_i} − #{j: m_j > m_i}) (|x|' = sign(x), 0 at 0).
 */
export interface Regularised {
  loss: number;
  grad: Float64Array;
}

export const REGULARISER_WEIGHT = 0.1;

export function edgeMaskRegulariser(m: ArrayLike<number>, opts: { diversity: boolean }): Regularised {
  const n = m.length;
  const grad = new Float64Array(n);
  let loss = 0;
  if (n < 2) return { loss, grad };
  if (opts.diversity) {
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => m[a] - m[b] || a - b);
    let pairSum = 0;
    for (let k = 0; k < n; k++) pairSum += m[order[k]] * (2 * k - n + 1);
    const meanAbs = (2 * pairSum) / (n * n);
    const value = Math.exp(-0.5 * meanAbs);
    loss += REGULARISER_WEIGHT * value;
    const scale = REGULARISER_WEIGHT * value * -0.5 * (2 / (n * n));
    for (let a = 0; a < n; ) {
      let b = a + 1;
      while (b < n && m[order[b]] === m[order[a]]) b++;
      const g = scale * (a - (n - b)); // (#less − #greater)
      for (let k = a; k < b; k++) grad[order[k]] += g;
      a = b;
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += m[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (m[i] - mean) ** 2;
  const variance = ss / (n - 1);
  loss += REGULARISER_WEIGHT * -Math.log(variance + 1e-8);
  const c = (-REGULARISER_WEIGHT / (variance + 1e-8)) * (2 / (n - 1));
  for (let i = 0; i < n; i++) grad[i] += c * (m[i] - mean);
  return { loss, grad };
}
