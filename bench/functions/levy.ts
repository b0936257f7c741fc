/**
 * Multi-fidelity Levy on a mixed space (4-D): x0, x1 floats in [-10, 10], x2 an integer in
 * [-10, 10], x3 an ordinal over [-10, -5, -2, 0, 1, 2, 5, 10] — exercises int and ordinal decoding.
 *   Levy(x) = sin²(πw1) + Σ_{i<d} (wi - 1)²(1 + 10 sin²(πwi + 1)) + (wd - 1)²(1 + sin²(2πwd)),
 *   wi = 1 + (xi - 1)/4;  global minimum 0 at x = (1, 1, 1, 1) (reachable: 1 is an int and an
 *   ordinal value).
 * Fidelity 1..27 (eta 3: 1, 3, 9, 27), s = ln f / ln 27. Lower fidelities see a shifted, noisy
 * Levy: value = Levy(x + 0.5·(1 - s)) + N(0,1)·0.5·(1 - s), the normal drawn from a generator
 * seeded by (run seed, integer fidelity, hash of the config vector) — deterministic per config.
 * s = 1 (fidelity 27) is exact Levy. Cost = fidelity.
 */
import type { Config } from '../../src/dehb/types.js';
import { Prng, hashVector } from '../lib/prng.js';
import { logScaled, num, truncFidelity, type BenchFunction } from './types.js';

const NAMES = ['x0', 'x1', 'x2', 'x3'];
const SHIFT = 0.5;
const NOISE = 0.5;

/** The d-dimensional Levy function. */
export function levyValue(xs: readonly number[]): number {
  const w = xs.map((x) => 1 + (x - 1) / 4);
  const d = w.length;
  let f = Math.sin(Math.PI * w[0]) ** 2;
  for (let i = 0; i < d - 1; i++) {
    f += (w[i] - 1) ** 2 * (1 + 10 * Math.sin(Math.PI * w[i] + 1) ** 2);
  }
  f += (w[d - 1] - 1) ** 2 * (1 + Math.sin(2 * Math.PI * w[d - 1]) ** 2);
  return f;
}

/** MF value of `xs` at ladder value `fidelity` (range 1..27) for run seed `seed`. */
export function mfLevyValue(xs: readonly number[], fidelity: number, seed: number): number {
  const s = logScaled(fidelity, 1, 27);
  if (s >= 1) return levyValue(xs);
  const base = levyValue(xs.map((x) => x + SHIFT * (1 - s)));
  const [w1, w2] = hashVector(xs);
  const rng = new Prng(seed, truncFidelity(fidelity), w1, w2);
  return base + rng.normal() * NOISE * (1 - s);
}

export function mfLevyMixed(): BenchFunction {
  const xsOf = (config: Config) => NAMES.map((n) => num(config, n));
  return {
    name: 'levy',
    description: 'multi-fidelity Levy 4-D on float/float/int/ordinal; fidelity 1..27 shrinks a shift and noise to 0',
    space: {
      x0: { type: 'float', low: -10, high: 10 },
      x1: { type: 'float', low: -10, high: 10 },
      x2: { type: 'int', low: -10, high: 10 },
      x3: { type: 'ordinal', values: [-10, -5, -2, 0, 1, 2, 5, 10] },
    },
    minFidelity: 1,
    maxFidelity: 27,
    eta: 3,
    objective(config, fidelity, rng) {
      return { fitness: mfLevyValue(xsOf(config), fidelity, rng.seed), cost: fidelity };
    },
    optimum: { fitness: 0, config: { x0: 1, x1: 1, x2: 1, x3: 1 } },
    trueValue: (config) => levyValue(xsOf(config)),
    meanDivisor: 1,
  };
}
