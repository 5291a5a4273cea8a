/**
 * Selection helpers of the ticket searches: top-k by score in O(n) (quickselect) instead of a full
 * sort (a 1433×512 weight matrix has 733,696 entries and FastGLT selects twice per tensor at every
 * denoising step), with a deterministic tie rule: among equal scores the lower index wins.
 */
import { Rng } from "../util/rng.js";

/** The k-th largest value (k ≥ 1) of `a`, which is reordered. NaN counts as −∞. */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // position in descending order
  while (lo < hi) {
    // median of three as pivot
    const mid = (lo + hi) >>> 1;
    let x = a[lo];
    let y = a[mid];
    let z = a[hi];
    if (x < y) [x, y] = [y, x];
    if (y < z) [y, z] = [z, y];
    if (x < y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Indices (from `candidates`, any order) of the `k` largest `score` values (|score| with
 * `abs`); ties at the threshold go to the lower index. The result is sorted by index.
 */
export function topK(score: ArrayLike<number>, candidates: Int32Array, k: number, opts: { abs?: boolean } = {}): Int32Array {
  const n = candidates.length;
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: k must be an integer ≥ 0, got ${k}`);
  if (k > n) throw new Error(`topK: cannot select ${k} of ${n} candidates`);
  let ascending = true;
  for (let i = 1; i < n && ascending; i++) if (candidates[i] <= candidates[i - 1]) ascending = false;
  const sorted = ascending ? candidates : candidates.slice().sort();
  if (k === n) return sorted.slice();
  if (k === 0) return new Int32Array(0);
  const abs = opts.abs === true;
  const value = (i: number): number => {
    const s = abs ? Math.abs(score[i]) : score[i];
    return Number.isNaN(s) ? -Infinity : s;
  };
  const { threshold, above } = n >= PREFILTER_MIN ? prefilteredKth(value, sorted, k) : exactKth(value, sorted, k);
  let ties = k - above;
  const out = new Int32Array(k);
  let o = 0;
  for (let j = 0; j < n; j++) {
    const v = value(sorted[j]);
    if (v > threshold || (v === threshold && ties-- > 0)) out[o++] = sorted[j];
  }
  return out;
}

const PREFILTER_MIN = 32768;
const SAMPLE = 4096;

/** The k-th largest value and how many values are strictly above it. */
interface Kth {
  threshold: number;
  above: number;
}

function countAbove(a: Float64Array, t: number): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > t) c++;
  return c;
}

function exactKth(value: (i: number) => number, idx: Int32Array, k: number): Kth {
  const values = new Float64Array(idx.length);
  for (let j = 0; j < idx.length; j++) values[j] = value(idx[j]);
  const threshold = kthLargest(values, k);
  return { threshold, above: countAbove(values, threshold) };
}

/**
 * The k-th largest of n candidate values without copying all of them: a sample spread evenly over
 * the candidates brackets it in [lower, upper] (binomial margin of ±4σ + 8 sample positions), one
 * pass (`add` every candidate's value) counts the values above `upper` and keeps those in
 * [lower, upper], and `kth` selects the exact k-th among the kept ones, or returns null if the
 * bracket missed (the counts show it; the caller then runs the exact path). Same result as
 * exactKth, in ~2 passes over the scores. Shared by topK and topKWhere.
 */
class SampledKth {
  private readonly upper: number;
  private readonly lower: number;
  private aboveUpper = 0;
  private kept = 0;
  private buf: Float64Array;
  private readonly n: number;
  private readonly k: number;

  /** `sample` (reordered here) holds candidate values, NaN already mapped to −∞. */
  constructor(sample: Float64Array, n: number, k: number) {
    this.n = n;
    this.k = k;
    const s = sample.length;
    sample.sort();
    sample.reverse(); // descending
    const q = (k / n) * s;
    const margin = 4 * Math.sqrt(q * (1 - k / n)) + 8;
    const hiPos = Math.floor(q - margin);
    const loPos = Math.ceil(q + margin);
    this.upper = hiPos < 0 ? Infinity : sample[hiPos];
    this.lower = loPos >= s ? -Infinity : sample[loPos];
    this.buf = new Float64Array(Math.min(n, Math.max(1024, Math.ceil(((loPos - hiPos) / s) * n * 2))));
  }

  add(v: number): void {
    if (v > this.upper) this.aboveUpper++;
    else if (v >= this.lower) {
      if (this.kept === this.buf.length) {
        const next = new Float64Array(Math.min(this.n, this.buf.length * 2));
        next.set(this.buf);
        this.buf = next;
      }
      this.buf[this.kept++] = v;
    }
  }

  kth(): Kth | null {
    const { aboveUpper, k } = this;
    if (!(aboveUpper < k && aboveUpper + this.kept >= k)) return null;
    const kept = this.buf.subarray(0, this.kept);
    const threshold = kthLargest(kept, k - aboveUpper);
    return { threshold, above: aboveUpper + countAbove(kept, threshold) };
  }
}

/** exactKth by way of SampledKth, with a strided sample of SAMPLE candidates. */
function prefilteredKth(value: (i: number) => number, idx: Int32Array, k: number): Kth {
  const n = idx.length;
  const sample = new Float64Array(SAMPLE);
  const stride = n / SAMPLE;
  for (let s = 0; s < SAMPLE; s++) sample[s] = value(idx[Math.floor(s * stride)]);
  const sampled = new SampledKth(sample, n, k);
  for (let j = 0; j < n; j++) sampled.add(value(idx[j]));
  return sampled.kth() ?? exactKth(value, idx, k);
}

/** Indices i (ascending) with mask[i] !== 0, or with mask[i] === 0 when `value` is 0. */
export function indicesWhere(mask: ArrayLike<number>, value: 0 | 1): Int32Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if ((mask[i] !== 0) === (value === 1)) n++;
  const out = new Int32Array(n);
  let o = 0;
  for (let i = 0; i < mask.length; i++) if ((mask[i] !== 0) === (value === 1)) out[o++] = i;
  return out;
}

/** |x| of every entry, as float64 (scores for topK). */
export function absolute(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]);
  return out;
}

/** A 0/1 mask of length n with ones at `indices`. */
export function maskFromIndices(n: number, indices: ArrayLike<number>): Float32Array {
  const m = new Float32Array(n);
  for (let i = 0; i < indices.length; i++) m[indices[i]] = 1;
  return m;
}

/** A 0/1 mask of length n with exactly `zeros` zeros at seeded random positions (FastGLT's random_sparsify). */
export function randomMask(n: number, zeros: number, rng: Rng): Float32Array {
  if (zeros < 0 || zeros > n) throw new Error(`randomMask: cannot zero ${zeros} of ${n}`);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  // partial Fisher–Yates: the first `zeros` positions of a random permutation
  for (let i = 0; i < zeros; i++) {
    const j = i + rng.int(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const m = new Float32Array(n).fill(1);
  for (let i = 0; i < zeros; i++) m[perm[i]] = 0;
  return m;
}

/**
 * topK over the candidates i < `limit` whose `mask[i]` is non-zero (`active` true) or zero, without
 * building the candidate list (the regrowth step scans a whole 733,696-entry matrix): same result
 * and tie rule as topK(score, those indices, k, opts). `count`, if known, is the number of
 * candidates (saves a pass).
 */
export function topKWhere(score: ArrayLike<number>, limit: number, mask: ArrayLike<number>, active: boolean, k: number, opts: { abs?: boolean; count?: number } = {}): Int32Array {
  const abs = opts.abs === true;
  let n = opts.count ?? -1;
  if (n < 0) {
    n = 0;
    for (let i = 0; i < limit; i++) if ((mask[i] !== 0) === active) n++;
  }
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: k must be an integer ≥ 0, got ${k}`);
  if (k > n) throw new Error(`topK: cannot select ${k} of ${n} candidates`);
  const out = new Int32Array(k);
  if (k === 0) return out;
  if (k === n) {
    let o = 0;
    for (let i = 0; i < limit; i++) if ((mask[i] !== 0) === active) out[o++] = i;
    return out;
  }
  let kth: Kth | null = null;
  if (n >= PREFILTER_MIN) {
    // sample every step-th index that is a candidate
    const step = Math.max(1, Math.floor(limit / SAMPLE));
    const sampleList: number[] = [];
    for (let i = 0; i < limit; i += step) {
      if ((mask[i] !== 0) !== active) continue;
      const x = abs ? Math.abs(score[i]) : score[i];
      sampleList.push(x === x ? x : -Infinity);
    }
    if (sampleList.length >= 256) {
      const sampled = new SampledKth(Float64Array.from(sampleList), n, k);
      for (let i = 0; i < limit; i++) {
        if ((mask[i] !== 0) !== active) continue;
        const v = abs ? Math.abs(score[i]) : score[i];
        sampled.add(v === v ? v : -Infinity);
      }
      kth = sampled.kth();
    }
  }
  if (!kth) {
    const values = new Float64Array(n);
    let j = 0;
    for (let i = 0; i < limit; i++) {
      if ((mask[i] !== 0) !== active) continue;
      const v = abs ? Math.abs(score[i]) : score[i];
      values[j++] = v === v ? v : -Infinity;
    }
    const threshold = kthLargest(values, k);
    kth = { threshold, above: countAbove(values, threshold) };
  }
  const { threshold, above } = kth;
  let ties = k - Math.min(above, k);
  let o = 0;
  for (let i = 0; i < limit && o < k; i++) {
    if ((mask[i] !== 0) !== active) continue;
    let v = abs ? Math.abs(score[i]) : score[i];
    if (v !== v) v = -Infinity;
    if (v > threshold || (v === threshold && ties-- > 0)) out[o++] = i;
  }
  return out;
}
