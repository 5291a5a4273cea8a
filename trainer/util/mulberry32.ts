import { Rng, RNG_SEED_MIX } from "./rng.js";

/**
 * Rng's generator (mulberry32) started from the seed as given, without Rng's seed mixing: the
 * stream of the runtime tests' random data (tests/runtime/helpers.ts, as TestRng) and of
 * bench/kernels.ts, which each carried a copy of mulberry32 seeded this way. For one seed it
 * differs from Rng's stream; the trainer uses Rng.
 */
export class Mulberry32 extends Rng {
  constructor(seed: number) {
    super((seed >>> 0) ^ RNG_SEED_MIX);
  }

  /** uniform in [-1, 1) */
  sym(): number {
    return this.next() * 2 - 1;
  }
}
