/**
 * mixed12: a 12-D mixed continuous/categorical multi-fidelity problem for the parallel benchmark.
 *
 * Six floats X_0..X_5 in [0, 1] feed MF-Hartmann 6 (bias 0.5, noise 0.1, fidelity z = int(f) in
 * 1..100, exactly as `mfh6`); six categoricals C_0..C_5 with choices a/b/c add a penalty that
 * couples each one to a float: the right choice for C_i is `a` when X_i < 0.5 and `b` otherwise
 * (penalty 0), the other of a/b costs 0.05 and `c` costs 0.1. The categorical part is noise-free
 * at every fidelity. The minimum is MF-Hartmann 6's, -3.32237, at its optimum with the choices
 * a, a, a, a, a, b. Cost = 0.05 + 0.95·(z/100)² as mfh*.
 */
import type { Config, SpaceSpec } from '../../src/dehb/types.js';
import { mfHartmannValue, mfhZ } from './mf-hartmann.js';
import { num, type BenchFunction } from './types.js';

const FLOATS = ['X_0', 'X_1', 'X_2', 'X_3', 'X_4', 'X_5'];
const CATS = ['C_0', 'C_1', 'C_2', 'C_3', 'C_4', 'C_5'];
const OPTIMUM_X = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];

/** Penalty of choice `c` for categorical i given float x_i. */
export function mixedPenalty(c: string, x: number): number {
  if (c === 'c') return 0.1;
  const right = x < 0.5 ? 'a' : 'b';
  return c === right ? 0 : 0.05;
}

function parts(config: Config): { xs: number[]; penalty: number } {
  const xs = FLOATS.map((n) => num(config, n));
  let penalty = 0;
  CATS.forEach((n, i) => (penalty += mixedPenalty(String(config[n]), xs[i])));
  return { xs, penalty };
}

export function mixed12(): BenchFunction {
  const space: SpaceSpec = {};
  for (const n of FLOATS) space[n] = { type: 'float', low: 0, high: 1 };
  for (const n of CATS) space[n] = { type: 'categorical', choices: ['a', 'b', 'c'] };
  const optimumConfig: Config = {};
  FLOATS.forEach((n, i) => (optimumConfig[n] = OPTIMUM_X[i]));
  CATS.forEach((n, i) => (optimumConfig[n] = OPTIMUM_X[i] < 0.5 ? 'a' : 'b'));
  return {
    name: 'mixed12',
    description: '12-D mixed: MF-Hartmann 6 on 6 floats + 6 three-way categoricals coupled to the floats; z = int(fidelity) in 1..100',
    space,
    minFidelity: 1,
    maxFidelity: 100,
    eta: 3,
    objective(config, fidelity, rng) {
      const z = mfhZ(fidelity);
      const { xs, penalty } = parts(config);
      return {
        fitness: mfHartmannValue(6, xs, z, 0.5, 0.1, rng.seed) + penalty,
        cost: 0.05 + 0.95 * (z / 100) ** 2,
        info: { z },
      };
    },
    optimum: { fitness: -3.32237, config: optimumConfig },
    trueValue: (config) => {
      const { xs, penalty } = parts(config);
      return mfHartmannValue(6, xs, 100, 0, 0, 0) + penalty;
    },
    meanDivisor: 1,
  };
}
