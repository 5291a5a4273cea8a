/** Fraction of `nodes` whose arg-max logit equals their label (logits row-major, nodes × classes). */
export function accuracy(logits: Float32Array, numClasses: number, labels: Int32Array, nodes: Int32Array): number {
  if (nodes.length === 0) return 0;
  let correct = 0;
  for (const v of nodes) if (argmaxRow(logits, numClasses, v) === labels[v]) correct++;
  return correct / nodes.length;
}

export function argmaxRow(logits: Float32Array, numClasses: number, row: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let c = 0; c < numClasses; c++) {
    const x = logits[row * numClasses + c];
    if (x > bestValue) {
      bestValue = x;
      best = c;
    }
  }
  return best;
}
