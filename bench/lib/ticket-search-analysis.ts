/**
 * The pure part of bench/ticket-search.ts: from the recorded runs to winning tickets, extreme
 * sparsities and FastGLT-vs-UGS speed-ups. No I/O, no training; the rules, stated once:
 *
 * - Bar: the dense model's mean test accuracy (at its best validation epoch) over the seeds the
 *   judged runs used, per (dataset, model).
 * - A FastGLT configuration (dataset, model, family, targets) wins when the mean over its seeds of
 *   the test accuracy at the best validation epoch is ≥ the bar. A UGS round wins when the mean over
 *   the seeds' runs of that round's test accuracy (at the round's best validation epoch) is ≥ the bar.
 * - Extreme sparsity, FastGLT: per (family, variant), the winning configuration with the highest
 *   target (joint runs: highest weight target, then highest graph target); a variant (bench
 *   --variant NAME: the paper's settings plus that invocation's --fastglt-args) never competes with
 *   the paper's settings (variant null, "faithful") or with another variant. UGS: the last winning
 *   round (its graph and weight sparsity both count).
 * - Sparsities are compared on one set of denominators for both methods: graph sparsity over the
 *   directed graph edges, self-loops excluded (UGS never prunes self-loops; FastGLT's GCN also
 *   prunes them and counts them in its own target's denominator, reported beside), weight sparsity
 *   over all entries of the weight matrices (global).
 * - Speed-up: for a FastGLT run, the same seed's UGS run's cumulative wall-clock at the end of the
 *   first round whose graph and weight sparsity are both ≥ the FastGLT ticket's (less
 *   SPARSITY_TOLERANCE), divided by the FastGLT run's training wall-clock (and by its seconds to
 *   the selected epoch). When no round got there, the UGS time is a lower bound (> its last round).
 */

export type Family = "weight" | "graph" | "both";
export type Method = "fastglt" | "ugs";

/** Sparsity counts within this of the FastGLT ticket's count as reaching it (per-matrix rounding). */
export const SPARSITY_TOLERANCE = 1e-4;

export interface MeanStd {
  mean: number;
  /** sample standard deviation (n − 1); 0 for one value */
  std: number;
  n: number;
}

export function meanStd(xs: readonly number[]): MeanStd {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

export interface DenseRecord {
  key: string;
  dataset: string;
  model: string;
  seed: number;
  status: "done" | "error";
  error?: string;
  testAccuracy: number;
  valAccuracy: number;
  bestEpoch: number;
  epochs: number;
  seconds: number;
}

/** One UGS round as the prune report records it (trainer/prune/ugs.ts UgsRound). */
export interface RoundRecord {
  round: number;
  graphSparsity: number;
  graphSparsityWithSelfLoops: number;
  weightSparsity: number;
  testAccuracy: number;
  valAccuracy: number;
  /** cumulative training wall-clock at the end of the round */
  seconds: number;
}

export interface TicketRecord {
  testAccuracy: number;
  valAccuracy: number;
  graphSparsity: number;
  graphSparsityWithSelfLoops: number;
  weightSparsity: number;
  meetsTarget: boolean;
}

export interface RunRecord {
  /** identifies the configuration: the prune argv without seed and output folder */
  config: string;
  /**
   * FastGLT: the bench's --variant of the invocation that made the run (its --fastglt-args are the
   * variant's extra flags); null = the paper's settings ("faithful"), and always for UGS. Records
   * written before variants existed lack it: read as null (variantOf).
   */
  variant: string | null;
  dataset: string;
  model: string;
  method: Method;
  family: Family;
  targetGraph: number | null;
  targetWeight: number | null;
  /** the paper's README target for this family (FastGLT) */
  isDefaultTarget: boolean;
  seed: number;
  status: "done" | "error" | "interrupted";
  error?: string;
  ticket: TicketRecord | null;
  rounds?: RoundRecord[];
  /** ugs: epochs per round (mask + fix) */
  epochsPerRound?: number;
  epochs: number;
  secondsToBest: number | null;
  trainingSeconds: number;
}

export interface Bar {
  mean: number;
  std: number;
  seeds: number[];
  /** seeds of the judged runs without a dense run (the bar is over the others) */
  missingSeeds: number[];
}

/** The dense mean over `seeds` (those with a finished dense run); NaN when there is none. */
export function denseBar(dense: readonly DenseRecord[], dataset: string, model: string, seeds: readonly number[]): Bar {
  const have = new Map(dense.filter((d) => d.status === "done" && d.dataset === dataset && d.model === model).map((d) => [d.seed, d.testAccuracy]));
  const used = seeds.filter((s) => have.has(s));
  const m = meanStd(used.map((s) => have.get(s)!));
  return { mean: m.mean, std: m.std, seeds: used, missingSeeds: seeds.filter((s) => !have.has(s)) };
}

export interface PerSeed {
  seed: number;
  testAccuracy: number;
  /** ≥ the bar (the dense mean) */
  wins: boolean;
}

export interface ConfigSummary {
  config: string;
  variant: string | null;
  dataset: string;
  model: string;
  family: Family;
  targetGraph: number | null;
  targetWeight: number | null;
  isDefaultTarget: boolean;
  bar: Bar;
  accuracy: MeanStd;
  perSeed: PerSeed[];
  wins: boolean;
  graphSparsity: MeanStd;
  graphSparsityWithSelfLoops: MeanStd;
  weightSparsity: MeanStd;
  trainingSeconds: MeanStd;
  secondsToBest: MeanStd;
  epochs: MeanStd;
  allMeetTarget: boolean;
}

/** A record's variant; null for the paper's settings and for records from before variants. */
export function variantOf(r: { variant?: string | null }): string | null {
  return r.variant ?? null;
}

/** Sorts variants: null (the paper's settings) first, then by name. */
export function compareVariants(a: string | null, b: string | null): number {
  return a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
}

function done(runs: readonly RunRecord[]): RunRecord[] {
  return runs.filter((r) => r.status === "done" && r.ticket !== null);
}

/** FastGLT runs grouped by (variant, configuration), each judged against the dense mean over its own seeds. */
export function summarizeConfigs(runs: readonly RunRecord[], dense: readonly DenseRecord[]): ConfigSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of done(runs)) {
    if (r.method !== "fastglt") continue;
    const k = `${variantOf(r) ?? ""}\u0000${r.config}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    rs = [...rs].sort((a, b) => a.seed - b.seed);
    const r0 = rs[0];
    const bar = denseBar(dense, r0.dataset, r0.model, rs.map((r) => r.seed));
    const accuracy = meanStd(rs.map((r) => r.ticket!.testAccuracy));
    return {
      config: r0.config,
      variant: variantOf(r0),
      dataset: r0.dataset,
      model: r0.model,
      family: r0.family,
      targetGraph: r0.targetGraph,
      targetWeight: r0.targetWeight,
      isDefaultTarget: r0.isDefaultTarget,
      bar,
      accuracy,
      perSeed: rs.map((r) => ({ seed: r.seed, testAccuracy: r.ticket!.testAccuracy, wins: r.ticket!.testAccuracy >= bar.mean })),
      wins: accuracy.mean >= bar.mean,
      graphSparsity: meanStd(rs.map((r) => r.ticket!.graphSparsity)),
      graphSparsityWithSelfLoops: meanStd(rs.map((r) => r.ticket!.graphSparsityWithSelfLoops)),
      weightSparsity: meanStd(rs.map((r) => r.ticket!.weightSparsity)),
      trainingSeconds: meanStd(rs.map((r) => r.trainingSeconds)),
      secondsToBest: meanStd(rs.map((r) => r.secondsToBest ?? NaN)),
      epochs: meanStd(rs.map((r) => r.epochs)),
      allMeetTarget: rs.every((r) => r.ticket!.meetsTarget),
    };
  });
}

/**
 * Per (family, variant), the winning configuration with the highest target; null when none wins.
 * variant null (the default) = the paper's settings only.
 */
export function fastgltExtreme(configs: readonly ConfigSummary[], family: Family, variant: string | null = null): ConfigSummary | null {
  const key = (c: ConfigSummary): [number, number] => (family === "graph" ? [c.targetGraph ?? 0, 0] : [c.targetWeight ?? 0, c.targetGraph ?? 0]);
  let best: ConfigSummary | null = null;
  for (const c of configs) {
    if (c.family !== family || c.variant !== variant || !c.wins) continue;
    if (best === null) best = c;
    else {
      const [a1, a2] = key(c);
      const [b1, b2] = key(best);
      if (a1 > b1 || (a1 === b1 && a2 > b2)) best = c;
    }
  }
  return best;
}

export interface RoundSummary {
  round: number;
  /** seeds that ran this round */
  seeds: number[];
  accuracy: MeanStd;
  perSeed: PerSeed[];
  wins: boolean;
  graphSparsity: MeanStd;
  graphSparsityWithSelfLoops: MeanStd;
  weightSparsity: MeanStd;
  /** cumulative wall-clock to the end of the round */
  seconds: MeanStd;
  /** cumulative epochs to the end of the round */
  epochs: number;
}

export interface UgsSummary {
  dataset: string;
  model: string;
  config: string;
  bar: Bar;
  seeds: number[];
  rounds: RoundSummary[];
  /** the last winning round; null when none wins */
  extreme: RoundSummary | null;
}

/**
 * The UGS path per (dataset, model): per round, the mean over the seeds whose run reached it.
 * With several UGS configurations for one (dataset, model) (a resumed bench with other --ugs-rounds),
 * the one with the most rounds is used.
 */
export function summarizeUgs(runs: readonly RunRecord[], dense: readonly DenseRecord[]): UgsSummary[] {
  const byConfig = new Map<string, RunRecord[]>();
  for (const r of done(runs)) if (r.method === "ugs" && r.rounds && r.rounds.length > 0) byConfig.set(r.config, [...(byConfig.get(r.config) ?? []), r]);
  const byCell = new Map<string, RunRecord[]>();
  for (const rs of byConfig.values()) {
    const cell = `${rs[0].dataset}/${rs[0].model}`;
    const cur = byCell.get(cell);
    const len = (x: RunRecord[]) => Math.max(...x.map((r) => r.rounds!.length));
    if (!cur || len(rs) > len(cur) || (len(rs) === len(cur) && rs.length > cur.length)) byCell.set(cell, rs);
  }
  return [...byCell.values()].map((rs) => {
    rs = [...rs].sort((a, b) => a.seed - b.seed);
    const r0 = rs[0];
    const seeds = rs.map((r) => r.seed);
    const bar = denseBar(dense, r0.dataset, r0.model, seeds);
    const maxRound = Math.max(...rs.flatMap((r) => r.rounds!.map((x) => x.round)));
    const rounds: RoundSummary[] = [];
    for (let k = 1; k <= maxRound; k++) {
      const at = rs.map((r) => ({ seed: r.seed, rec: r.rounds!.find((x) => x.round === k), per: r.epochsPerRound ?? NaN })).filter((x) => x.rec !== undefined);
      if (at.length === 0) continue;
      const accuracy = meanStd(at.map((x) => x.rec!.testAccuracy));
      rounds.push({
        round: k,
        seeds: at.map((x) => x.seed),
        accuracy,
        perSeed: at.map((x) => ({ seed: x.seed, testAccuracy: x.rec!.testAccuracy, wins: x.rec!.testAccuracy >= bar.mean })),
        wins: accuracy.mean >= bar.mean,
        graphSparsity: meanStd(at.map((x) => x.rec!.graphSparsity)),
        graphSparsityWithSelfLoops: meanStd(at.map((x) => x.rec!.graphSparsityWithSelfLoops)),
        weightSparsity: meanStd(at.map((x) => x.rec!.weightSparsity)),
        seconds: meanStd(at.map((x) => x.rec!.seconds)),
        epochs: k * at[0].per,
      });
    }
    const winners = rounds.filter((r) => r.wins);
    return { dataset: r0.dataset, model: r0.model, config: r0.config, bar, seeds, rounds, extreme: winners.length ? winners[winners.length - 1] : null };
  });
}

/** The first round reaching both sparsities (less the tolerance), or null. */
export function firstRoundReaching(rounds: readonly RoundRecord[], graphSparsity: number, weightSparsity: number): RoundRecord | null {
  const sorted = [...rounds].sort((a, b) => a.round - b.round);
  return sorted.find((r) => r.graphSparsity >= graphSparsity - SPARSITY_TOLERANCE && r.weightSparsity >= weightSparsity - SPARSITY_TOLERANCE) ?? null;
}

export interface SpeedUp {
  config: string;
  variant: string | null;
  dataset: string;
  model: string;
  family: Family;
  seed: number;
  /** the FastGLT configuration wins (its mean over seeds ≥ the dense mean) */
  winningConfig: boolean;
  /** this seed's ticket alone is ≥ the dense mean */
  winningSeed: boolean;
  graphSparsity: number;
  weightSparsity: number;
  testAccuracy: number;
  fastgltSeconds: number;
  fastgltSecondsToBest: number | null;
  fastgltEpochs: number;
  /** null: no UGS run of this (dataset, model, seed) */
  ugs: {
    reached: boolean;
    /** the first round reaching the ticket's sparsity, or the last round run */
    round: number;
    roundsRun: number;
    seconds: number;
    epochs: number;
    /** that round's test accuracy, and whether it is ≥ the dense mean */
    testAccuracy: number;
    wins: boolean;
  } | null;
  /** UGS seconds / FastGLT training seconds; a lower bound when !ugs.reached */
  speedup: number;
  /** UGS seconds / FastGLT seconds to the selected epoch */
  speedupToBest: number;
  lowerBound: boolean;
}

/** Every FastGLT run against the same seed's UGS run (see the header for the rule). */
export function speedUps(runs: readonly RunRecord[], configs: readonly ConfigSummary[], ugs: readonly UgsSummary[]): SpeedUp[] {
  const ok = done(runs);
  const out: SpeedUp[] = [];
  for (const r of ok) {
    if (r.method !== "fastglt") continue;
    const c = configs.find((x) => x.config === r.config && x.variant === variantOf(r));
    const u = ugs.find((x) => x.dataset === r.dataset && x.model === r.model);
    const ur = u ? ok.find((x) => x.method === "ugs" && x.config === u.config && x.seed === r.seed) : undefined;
    const t = r.ticket!;
    let ugsPart: SpeedUp["ugs"] = null;
    if (ur && ur.rounds && ur.rounds.length > 0) {
      const hit = firstRoundReaching(ur.rounds, t.graphSparsity, t.weightSparsity);
      const last = [...ur.rounds].sort((a, b) => a.round - b.round)[ur.rounds.length - 1];
      const rec = hit ?? last;
      const bar = c?.bar.mean ?? NaN;
      ugsPart = { reached: hit !== null, round: rec.round, roundsRun: ur.rounds.length, seconds: rec.seconds, epochs: rec.round * (ur.epochsPerRound ?? NaN), testAccuracy: rec.testAccuracy, wins: rec.testAccuracy >= bar };
    }
    const bar = c?.bar.mean ?? NaN;
    out.push({
      config: r.config,
      variant: variantOf(r),
      dataset: r.dataset,
      model: r.model,
      family: r.family,
      seed: r.seed,
      winningConfig: c?.wins ?? false,
      winningSeed: t.testAccuracy >= bar,
      graphSparsity: t.graphSparsity,
      weightSparsity: t.weightSparsity,
      testAccuracy: t.testAccuracy,
      fastgltSeconds: r.trainingSeconds,
      fastgltSecondsToBest: r.secondsToBest,
      fastgltEpochs: r.epochs,
      ugs: ugsPart,
      speedup: ugsPart ? ugsPart.seconds / r.trainingSeconds : NaN,
      speedupToBest: ugsPart && r.secondsToBest ? ugsPart.seconds / r.secondsToBest : NaN,
      lowerBound: ugsPart !== null && !ugsPart.reached,
    });
  }
  return out;
}

export interface SpeedVerdict {
  /** speed-ups over the runs of winning FastGLT configurations that have a same-seed UGS run */
  compared: number;
  min: number;
  median: number;
  /** the minimum is a lower bound (UGS did not reach that ticket's sparsity) */
  minIsLowerBound: boolean;
  /** true: every compared run ≥ the factor (a lower bound ≥ the factor counts); false: a measured one is below; null: nothing compared, or only lower bounds are below */
  met: boolean | null;
  factor: number;
}

export function speedVerdict(s: readonly SpeedUp[], factor: number): SpeedVerdict {
  const c = s.filter((x) => x.winningConfig && x.ugs !== null && Number.isFinite(x.speedup));
  if (c.length === 0) return { compared: 0, min: NaN, median: NaN, minIsLowerBound: false, met: null, factor };
  const sorted = [...c].sort((a, b) => a.speedup - b.speedup);
  const m = sorted.length;
  const median = m % 2 ? sorted[(m - 1) / 2].speedup : (sorted[m / 2 - 1].speedup + sorted[m / 2].speedup) / 2;
  const below = sorted.filter((x) => x.speedup < factor);
  const met = below.length === 0 ? true : below.some((x) => !x.lowerBound) ? false : null;
  return { compared: m, min: sorted[0].speedup, median, minIsLowerBound: sorted[0].lowerBound, met, factor };
}
