import { Rng } from "../util/rng.js";

/**
 * A binary mask that keeps the `keep` entries of largest |score| among those the current mask
 * keeps (ties broken by a seeded random order, so equal scores are not pruned by position).
 */
export function topMagnitudeMask(score: Float32Array, current: Float32Array, keep: number, seed: number): Float32Array {
  if (score.length !== current.length) throw new Error(`topMagnitudeMask: ${score.length} scores for a mask of ${current.length}`);
  const active: number[] = [];
  for (let i = 0; i < current.length; i++) if (current[i] !== 0) active.push(i);
  if (keep > active.length) throw new Error(`topMagnitudeMask: cannot keep ${keep} of ${active.length} active entries`);
  const tieBreak = new Rng(seed);
  const order = new Float64Array(current.length);
  for (const i of active) order[i] = tieBreak.next();
  active.sort((a, b) => Math.abs(score[b]) - Math.abs(score[a]) || order[a] - order[b]);
  const mask = new Float32Array(current.length);
  for (let k = 0; k < keep; k++) mask[active[k]] = 1;
  return mask;
}

/** How many of `total` entries a target sparsity keeps. */
export function keepCount(total: number, sparsity: number): number {
  if (!(sparsity >= 0 && sparsity < 1)) throw new Error(`sparsity must be in [0, 1), got ${sparsity}`);
  return Math.round(total * (1 - sparsity));
}

export function countNonzero(mask: Float32Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}
