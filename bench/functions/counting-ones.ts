/**
 * Counting ones (HPOlib 1.5, as DEHB's benchmarking/countingones_benchmark.py uses it).
 *
 * Space: n_cat categorical `cat_i` with choices [0, 1] and n_cont floats `float_i` in [0, 1],
 * D = n_cat + n_cont. At fidelity b (number of samples, `floor(b)` of the ladder value) the value is
 *   f(x, b) = -( Σ cat_i + Σ_j mean of floor(b) Bernoulli(float_j) draws )
 * drawn from the run's benchmark generator. Cost = fidelity. Fidelity range 576/D .. 93312/D,
 * eta 3 (D = 100: rungs 11.52, 34.56, 103.68, 311.04, 933.12 -> 11, 34, 103, 311, 933 samples).
 * Optimum -D at all ones (exact at every fidelity: Bernoulli(1) is always 1). Reported means are
 * divided by D, as the reference does.
 */
import { DehbError } from '../../src/errors.js';
import type { Config, SpaceSpec } from '../../src/dehb/types.js';
import type { Prng } from '../lib/prng.js';
import { num, truncFidelity, type BenchFunction } from './types.js';

export interface CountingOnesOptions {
  /** Number of categorical {0,1} parameters. Default 50. */
  nCat?: number;
  /** Number of continuous [0,1] parameters. Default 50. */
  nCont?: number;
}

/** Number of Bernoulli samples used at a ladder value (at least 1). */
export function countingOnesSamples(fidelity: number): number {
  return Math.max(1, truncFidelity(fidelity));
}

/** The space for n_cat categoricals followed by n_cont floats (vector order = key order). */
export function countingOnesSpace(nCat: number, nCont: number): SpaceSpec {
  const space: SpaceSpec = {};
  for (let i = 0; i < nCat; i++) space[`cat_${i}`] = { type: 'categorical', choices: [0, 1] };
  for (let i = 0; i < nCont; i++) space[`float_${i}`] = { type: 'float', low: 0, high: 1 };
  return space;
}

/** Build a counting-ones benchmark. */
export function countingOnes(opts: CountingOnesOptions = {}): BenchFunction {
  const nCat = opts.nCat ?? 50;
  const nCont = opts.nCont ?? 50;
  if (!Number.isInteger(nCat) || !Number.isInteger(nCont) || nCat < 0 || nCont < 0 || nCat + nCont === 0) {
    throw new DehbError('E_CONFIG', `counting ones needs non-negative integer nCat/nCont with nCat + nCont > 0 (got ${nCat}, ${nCont})`);
  }
  const d = nCat + nCont;
  const catNames = Array.from({ length: nCat }, (_, i) => `cat_${i}`);
  const floatNames = Array.from({ length: nCont }, (_, i) => `float_${i}`);

  const objective = (config: Config, fidelity: number, rng: Prng) => {
    const samples = countingOnesSamples(fidelity);
    let y = 0;
    for (const name of catNames) y += num(config, name);
    for (const name of floatNames) {
      const p = num(config, name);
      let hits = 0;
      for (let k = 0; k < samples; k++) if (rng.uniform() < p) hits++;
      y += hits / samples;
    }
    return { fitness: -y, cost: fidelity };
  };

  const trueValue = (config: Config): number => {
    let y = 0;
    for (const name of catNames) y += num(config, name);
    for (const name of floatNames) y += num(config, name);
    return -y;
  };

  const best: Config = {};
  for (const name of [...catNames, ...floatNames]) best[name] = 1;

  return {
    name: nCat === 50 && nCont === 50 ? 'countingones' : `countingones_${nCat}_${nCont}`,
    description: `counting ones, ${nCat} categorical + ${nCont} float (D=${d}); fidelity = number of Bernoulli samples per float`,
    space: countingOnesSpace(nCat, nCont),
    minFidelity: 576 / d,
    maxFidelity: 93312 / d,
    eta: 3,
    objective,
    optimum: { fitness: -d, config: best },
    trueValue,
    meanDivisor: d,
  };
}
