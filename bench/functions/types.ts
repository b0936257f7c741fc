/**
 * The shape every benchmark function in bench/functions exposes, plus the fidelity helpers they
 * share (ladder value -> integer fidelity, log-scaled fidelity position).
 */
import { DehbError } from '../../src/errors.js';
import type { Config, SpaceSpec } from '../../src/dehb/types.js';
import type { Prng } from '../lib/prng.js';

/** What a benchmark objective returns (minimised fitness, reported cost). */
export interface BenchEval {
  fitness: number;
  cost: number;
  info?: Record<string, unknown>;
}

/** A benchmark: search space, fidelity range, objective and known optimum. */
export interface BenchFunction {
  name: string;
  /** One line: what it is and what the fidelity means. */
  description: string;
  space: SpaceSpec;
  minFidelity: number;
  maxFidelity: number;
  eta: number;
  /**
   * Evaluate `config` at `fidelity` (a ladder value, a float). `rng` is the run's benchmark
   * generator: stochastic objectives draw from it; `rng.seed` (the run seed) keys deterministic
   * noise streams.
   */
  objective(config: Config, fidelity: number, rng: Prng): BenchEval;
  /** Known global minimum at max fidelity (noise-free), and where it is (if unique/known). */
  optimum: { fitness: number; config?: Config };
  /**
   * Noise- and bias-free value of a configuration (the "test" value: max fidelity, no noise).
   * Used to judge incumbents picked at low fidelity.
   */
  trueValue(config: Config): number;
  /** Reported means are divided by this (counting ones: D, as the reference does). Default 1. */
  meanDivisor: number;
}

/** Small epsilon so that ladder values such as 0.9999999999999999 or 2.9999999999 truncate up. */
export const FIDELITY_EPS = 1e-9;

/** Integer fidelity as the reference benchmarks use it (`int(fidelity)`), guarded by an epsilon. */
export function truncFidelity(fidelity: number): number {
  return Math.floor(fidelity + FIDELITY_EPS);
}

/** Position of `value` in [lo, hi] on a log scale: 0 at lo, 1 at hi (clamped). */
export function logScaled(value: number, lo: number, hi: number): number {
  const s = (Math.log(value) - Math.log(lo)) / (Math.log(hi) - Math.log(lo));
  return Math.min(1, Math.max(0, s));
}

/** Read a numeric parameter from a decoded configuration; throws naming the parameter. */
export function num(config: Config, name: string): number {
  const v = config[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new DehbError('E_CONFIG', `benchmark parameter ${name} must be a finite number (got ${String(v)})`);
  }
  return v;
}
