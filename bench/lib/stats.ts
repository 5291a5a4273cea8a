/** Order statistics of timing samples (benchmarks report medians, with p10/p90 as the spread). */

/** The q-quantile (0 ≤ q ≤ 1) of `xs` by linear interpolation between order statistics; NaN when empty. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  const pos = Math.min(1, Math.max(0, q)) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

export interface Summary {
  median: number;
  p10: number;
  p90: number;
  min: number;
  n: number;
}

export function summarize(xs: ArrayLike<number>): Summary {
  let min = Infinity;
  for (let i = 0; i < xs.length; i++) min = Math.min(min, xs[i]);
  return { median: median(xs), p10: quantile(xs, 0.1), p90: quantile(xs, 0.9), min, n: xs.length };
}
