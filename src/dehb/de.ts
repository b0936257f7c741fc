/**
 * Owns the differential-evolution operators as pure functions on number[] with an explicit RNG:
 * donor sampling, the seven mutation strategies, binomial and exponential crossover (both return
 * a new vector; the target is never written), boundary repair, and the parent-pool filler that
 * tops a too-small pool up with mutants drawn from the global population.
 */
import { randInt, sampleDistinct, uniform } from './rng.js';
import type { Crossover, Mutation, RngState } from './types.js';

/** Donors each mutation draws (also the minimum parent-pool size before fillers are added). */
export const MIN_POOL: Readonly<Record<Mutation, number>> = {
  rand1: 3,
  rand2: 5,
  rand2dir: 3,
  best1: 2,
  best2: 4,
  currenttobest1: 2,
  randtobest1: 3,
};

/** Whether two vectors are equal, element by element. */
export function sameVector(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Draws `count` distinct rows of `pool`: the first row equal to `current` is excluded (when the
 * pool has more than one row), and fresh uniform vectors top the pool up if it is too small.
 */
export function sampleDonors(
  rng: RngState,
  pool: readonly (readonly number[])[],
  count: number,
  dim: number,
  current?: readonly number[],
): Array<readonly number[]> {
  let rows: Array<readonly number[]> = pool as Array<readonly number[]>;
  if (current !== undefined && rows.length > 1) {
    for (let i = 0; i < rows.length; i++) {
      if (sameVector(rows[i], current)) {
        rows = rows.slice(0, i).concat(rows.slice(i + 1));
        break;
      }
    }
  }
  if (rows.length < count) {
    rows = rows.slice();
    while (rows.length < count) {
      const v = new Array<number>(dim);
      for (let d = 0; d < dim; d++) v[d] = uniform(rng);
      rows.push(v);
    }
  }
  const picks = sampleDistinct(rng, rows.length, count);
  return picks.map((i) => rows[i]);
}

/** The mutant for already drawn donors (pure formula, spec §2.6). */
export function mutantFromDonors(
  mutation: Mutation,
  F: number,
  donors: ReadonlyArray<readonly number[]>,
  current: readonly number[],
  best: readonly number[],
): number[] {
  const D = current.length;
  const out = new Array<number>(D);
  const [r1, r2, r3, r4, r5] = donors;
  for (let i = 0; i < D; i++) {
    switch (mutation) {
      case 'rand1':
        out[i] = r1[i] + F * (r2[i] - r3[i]);
        break;
      case 'rand2':
        out[i] = r1[i] + F * (r2[i] - r3[i]) + F * (r4[i] - r5[i]);
        break;
      case 'rand2dir':
        out[i] = r1[i] + (F / 2) * (r1[i] - r2[i] - r3[i]);
        break;
      case 'best1':
        out[i] = best[i] + F * (r1[i] - r2[i]);
        break;
      case 'best2':
        out[i] = best[i] + F * (r1[i] - r2[i]) + F * (r3[i] - r4[i]);
        break;
      case 'currenttobest1':
        out[i] = current[i] + F * (best[i] - current[i]) + F * (r1[i] - r2[i]);
        break;
      case 'randtobest1':
        out[i] = r1[i] + F * (best[i] - r1[i]) + F * (r2[i] - r3[i]);
        break;
    }
  }
  return out;
}

/** Draws donors from `pool` and returns the mutant. */
export function mutate(
  rng: RngState,
  mutation: Mutation,
  F: number,
  pool: readonly (readonly number[])[],
  current: readonly number[],
  best: readonly number[],
): number[] {
  const donors = sampleDonors(rng, pool, MIN_POOL[mutation], current.length, current);
  return mutantFromDonors(mutation, F, donors, current, best);
}

/** Binomial crossover: a coordinate comes from the mutant when u < CR; at least one does. */
export function crossoverBin(rng: RngState, target: readonly number[], mutant: readonly number[], cr: number): number[] {
  const D = target.length;
  const out = target.slice();
  let taken = 0;
  for (let i = 0; i < D; i++) {
    if (uniform(rng) < cr) {
      out[i] = mutant[i];
      taken++;
    }
  }
  if (taken === 0) {
    const j = randInt(rng, D);
    out[j] = mutant[j];
  }
  return out;
}

/** Exponential crossover on a copy: from a random start, copy mutant coordinates while u < CR. */
export function crossoverExp(rng: RngState, target: readonly number[], mutant: readonly number[], cr: number): number[] {
  const D = target.length;
  const out = target.slice();
  const start = randInt(rng, D);
  let L = 0;
  while (uniform(rng) < cr && L < D) {
    const idx = (start + L) % D;
    out[idx] = mutant[idx];
    L++;
  }
  return out;
}

export function crossover(
  rng: RngState,
  kind: Crossover,
  target: readonly number[],
  mutant: readonly number[],
  cr: number,
): number[] {
  return kind === 'bin' ? crossoverBin(rng, target, mutant, cr) : crossoverExp(rng, target, mutant, cr);
}

/** Repairs coordinates outside [0, 1]: a fresh uniform draw (`random`) or clipping (`clip`). */
export function fixBoundary(rng: RngState, v: readonly number[], kind: 'random' | 'clip'): number[] {
  const out = v.slice();
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    if (x > 1 || x < 0 || Number.isNaN(x)) {
      out[i] = kind === 'random' ? uniform(rng) : x > 1 ? 1 : 0;
    } else if (x === 0) {
      out[i] = 0; // normalises -0 so JSON round trips are exact
    }
  }
  return out;
}

/**
 * Spec §2.5.4: when `pool` holds fewer vectors than the strategy needs, append
 * `min - size + 1` mutants built from the global population (not boundary-checked).
 */
export function fillParentPool(
  rng: RngState,
  pool: readonly (readonly number[])[],
  mutation: Mutation,
  F: number,
  current: readonly number[],
  best: readonly number[],
  globalPop: () => readonly (readonly number[])[],
): Array<readonly number[]> {
  const min = MIN_POOL[mutation];
  if (pool.length >= min) return pool as Array<readonly number[]>;
  const all = globalPop();
  const out: Array<readonly number[]> = pool.slice();
  const extra = min - pool.length + 1;
  for (let k = 0; k < extra; k++) out.push(mutate(rng, mutation, F, all, current, best));
  return out;
}
