/**
 * The regret benchmark's logic (bench/regret.ts is only its CLI): run DEHB sequentially through
 * createState/ask/tell (ask -> evaluate -> tell, the reference's n_workers=1 loop) for several
 * seeds, record the incumbent fitness after every told result, and summarise mean ± population
 * std across seeds at 20/40/60/80/100 % of the budget, as the reference's generate_summary.py.
 */
import { DehbError } from '../../src/errors.js';
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import type { Config, OptimizerOptions, Strategy } from '../../src/dehb/types.js';
import type { BenchFunction } from '../functions/types.js';
import { Prng, deriveSeeds } from './prng.js';
import { CHECKPOINTS, checkpointIndex, mean, popStd } from './stats.js';

export interface RegretOptions {
  fevals: number;
  seeds: number;
  /** Run seeds are derived from it (default 0). */
  masterSeed?: number;
  strategy?: Strategy;
  /** Overrides the benchmark's eta. */
  eta?: number;
  mutationFactor?: number;
  crossoverProb?: number;
  boundaryFix?: 'random' | 'clip';
}

/** One seed's run. */
export interface RunTrace {
  seed: number;
  /** Incumbent fitness after each told result (length fevals). */
  trajectory: number[];
  incumbentConfig: Config | null;
  /** Noise/bias-free value of the final incumbent. */
  finalTrueValue: number;
  /** Evaluations per ladder fidelity, "fidelity:count". */
  evalsPerFidelity: Record<string, number>;
  brackets: number;
  /** Tells after which the optimizer's incumbent differed from the running minimum (should be 0). */
  incumbentMismatches: number;
}

export interface Checkpoint {
  mean: number;
  std: number;
}

/** The JSON object the script prints last (keys in the documented order first). */
export interface RegretReport {
  benchmark: string;
  fevals: number;
  seeds: number;
  at: Record<string, Checkpoint>;
  final_mean: number;
  final_std: number;
  /** Mean divisor applied to the means (counting ones: D); std stays on the raw scale. */
  mean_divisor: number;
  /** Mean ± std (raw scale / divisor) of the final incumbents' noise-free values. */
  final_true_mean: number;
  final_true_std: number;
  strategy: string;
  eta: number;
  master_seed: number;
  run_seeds: number[];
  incumbent_mismatches: number;
}

/** Run DEHB once on `bench` with `seed` for `opts.fevals` evaluations. */
export function runOnce(bench: BenchFunction, seed: number, opts: RegretOptions): RunTrace {
  const options: OptimizerOptions = {
    space: bench.space,
    minFidelity: bench.minFidelity,
    maxFidelity: bench.maxFidelity,
    eta: opts.eta ?? bench.eta,
    seed,
  };
  if (opts.strategy !== undefined) options.strategy = opts.strategy;
  if (opts.mutationFactor !== undefined) options.mutationFactor = opts.mutationFactor;
  if (opts.crossoverProb !== undefined) options.crossoverProb = opts.crossoverProb;
  if (opts.boundaryFix !== undefined) options.boundaryFix = opts.boundaryFix;
  const state = createState(options);
  const rng = new Prng(seed);
  const trajectory: number[] = [];
  const evalsPerFidelity: Record<string, number> = {};
  let best = Infinity;
  let mismatches = 0;
  for (let i = 0; i < opts.fevals; i++) {
    const asked = ask(state);
    if (!('job' in asked)) {
      throw new DehbError('E_STATE', `ask() returned wait (${asked.reason}) in a sequential loop after ${i} evaluations`);
    }
    const { job } = asked;
    const res = bench.objective(job.config, job.fidelity, rng);
    tell(state, job.trialId, { status: 'ok', fitness: res.fitness, cost: res.cost, info: res.info ?? {} });
    const key = String(+job.fidelity.toPrecision(6));
    evalsPerFidelity[key] = (evalsPerFidelity[key] ?? 0) + 1;
    if (res.fitness < best) best = res.fitness;
    const inc = state.incumbent ? state.incumbent.fitness : Infinity;
    if (inc !== best) mismatches++;
    trajectory.push(inc);
  }
  const incumbentConfig = state.incumbent ? state.incumbent.config : null;
  return {
    seed,
    trajectory,
    incumbentConfig,
    finalTrueValue: incumbentConfig ? bench.trueValue(incumbentConfig) : NaN,
    evalsPerFidelity,
    brackets: state.iterationCounter + 1,
    incumbentMismatches: mismatches,
  };
}

/** Summarise traces the way the reference does (means divided by bench.meanDivisor, std raw). */
export function summarize(bench: BenchFunction, traces: readonly RunTrace[], opts: RegretOptions): RegretReport {
  const n = opts.fevals;
  const div = bench.meanDivisor;
  const at: Record<string, Checkpoint> = {};
  for (const pct of CHECKPOINTS) {
    const idx = checkpointIndex(pct, n);
    const vals = traces.map((t) => t.trajectory[idx]);
    at[String(pct)] = { mean: mean(vals) / div, std: popStd(vals) };
  }
  const finals = traces.map((t) => t.trajectory[n - 1]);
  const trues = traces.map((t) => t.finalTrueValue);
  return {
    benchmark: bench.name,
    fevals: n,
    seeds: traces.length,
    at,
    final_mean: mean(finals) / div,
    final_std: popStd(finals),
    mean_divisor: div,
    final_true_mean: mean(trues) / div,
    final_true_std: popStd(trues) / div,
    strategy: opts.strategy ?? 'rand1_bin',
    eta: opts.eta ?? bench.eta,
    master_seed: opts.masterSeed ?? 0,
    run_seeds: traces.map((t) => t.seed),
    incumbent_mismatches: traces.reduce((s, t) => s + t.incumbentMismatches, 0),
  };
}

/** Run all seeds and summarise. `onRun` is called after each seed (progress output). */
export function runRegret(
  bench: BenchFunction,
  opts: RegretOptions,
  onRun?: (trace: RunTrace, index: number) => void,
): { report: RegretReport; traces: RunTrace[] } {
  if (!Number.isInteger(opts.fevals) || opts.fevals < 1) throw new DehbError('E_CONFIG', `fevals must be an integer >= 1 (got ${opts.fevals})`);
  if (!Number.isInteger(opts.seeds) || opts.seeds < 1) throw new DehbError('E_CONFIG', `seeds must be an integer >= 1 (got ${opts.seeds})`);
  const seeds = deriveSeeds(opts.masterSeed ?? 0, opts.seeds);
  const traces: RunTrace[] = [];
  seeds.forEach((seed, i) => {
    const trace = runOnce(bench, seed, opts);
    traces.push(trace);
    onRun?.(trace, i);
  });
  return { report: summarize(bench, traces, opts), traces };
}
