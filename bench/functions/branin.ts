/**
 * Multi-fidelity Branin (Kandasamy et al. 2017, "Multi-fidelity Bayesian optimisation with
 * continuous approximations", BOCA), with the three fidelity coordinates tied to one:
 *   f(x, z) = (x2 - b(z)·x1² + c(z)·x1 - 6)² + 10·(1 - t(z))·cos(x1) + 10
 *   b(z) = 5.1/(4π²) - 0.01(1 - z),  c(z) = 5/π - 0.1(1 - z),  t(z) = 1/(8π) + 0.05(1 - z)
 * x1 ∈ [-5, 10], x2 ∈ [0, 15]. Fidelity 1..81 (eta 3: rungs 1, 3, 9, 27, 81), z = ln f / ln 81
 * (0 at the lowest rung, 1 at the top). Deterministic (no noise): low fidelities are a biased
 * approximation whose minimisers are shifted. Cost = fidelity.
 * Optimum at z = 1: 0.397887357729738 at (-π, 12.275), (π, 2.275) and (9.42478, 2.475).
 */
import type { Config } from '../../src/dehb/types.js';
import { logScaled, num, type BenchFunction } from './types.js';

/** MF-Branin value at (x1, x2) and fidelity position z ∈ [0, 1]. */
export function braninValue(x1: number, x2: number, z: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI) - 0.01 * (1 - z);
  const c = 5 / Math.PI - 0.1 * (1 - z);
  const t = 1 / (8 * Math.PI) + 0.05 * (1 - z);
  const q = x2 - b * x1 * x1 + c * x1 - 6;
  return q * q + 10 * (1 - t) * Math.cos(x1) + 10;
}

export const BRANIN_OPTIMUM = 0.397887357729738;

export function mfBranin(): BenchFunction {
  const minFidelity = 1;
  const maxFidelity = 81;
  const value = (config: Config, z: number) => braninValue(num(config, 'x1'), num(config, 'x2'), z);
  return {
    name: 'branin',
    description: 'multi-fidelity Branin (BOCA form), 2-D; fidelity 1..81, z = ln f / ln 81 moves b, c, t to their true values',
    space: {
      x1: { type: 'float', low: -5, high: 10 },
      x2: { type: 'float', low: 0, high: 15 },
    },
    minFidelity,
    maxFidelity,
    eta: 3,
    objective(config, fidelity) {
      return { fitness: value(config, logScaled(fidelity, minFidelity, maxFidelity)), cost: fidelity };
    },
    optimum: { fitness: BRANIN_OPTIMUM, config: { x1: Math.PI, x2: 2.275 } },
    trueValue: (config) => value(config, 1),
    meanDivisor: 1,
  };
}
