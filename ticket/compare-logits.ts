/**
 * Row-wise comparison of logits: max over rows of max_c |a − b| / max(max_c |a|, 1e-6), and
 * arg-max agreement (b's choice counts as agreeing when a scores it within 1e-6 of a's row scale
 * of a's best, i.e. a tie up to rounding).
 */
export function compareLogitRows(ref: Float32Array, got: Float32Array, numClasses: number): { maxRelativeError: number; samePredictions: boolean; mismatchedNodes: number } {
  if (ref.length !== got.length) throw new Error(`logits differ in size: ${ref.length} vs ${got.length} values`);
  let maxRel = 0;
  let mismatched = 0;
  for (let r = 0; r < ref.length / numClasses; r++) {
    const o = r * numClasses;
    let ia = 0;
    let ib = 0;
    let diff = 0;
    let scale = 0;
    for (let c = 0; c < numClasses; c++) {
      const x = ref[o + c];
      const y = got[o + c];
      const d = Math.abs(x - y);
      diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
      scale = Math.max(scale, Math.abs(x));
      if (x > ref[o + ia]) ia = c;
      if (y > got[o + ib]) ib = c;
    }
    const s = Math.max(scale, 1e-6);
    maxRel = Math.max(maxRel, diff / s);
    if (ia !== ib && !(ref[o + ib] >= ref[o + ia] - 1e-6 * s)) mismatched++;
  }
  return { maxRelativeError: maxRel, samePredictions: mismatched === 0, mismatchedNodes: mismatched };
}
