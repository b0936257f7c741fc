/**
 * The parallel benchmark's simulated cluster (bench/parallel.ts is only its CLI): W evaluations in
 * flight on a virtual clock, each lasting fidelity/maxFidelity × U(0.9, 1.1); the earliest finisher
 * (lowest trial id on equal times) is evaluated and told first, then one new job is asked. No
 * sleeping, no wall clock: a run is a pure function of (benchmark, options, seed). A diagnostic
 * option makes the jobs of chosen ladder rungs take no time (their results come back before the
 * next ask), to measure what the delay of one rung's information costs.
 */
import { DehbError } from '../../src/errors.js';
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import type { Job, OptimizerOptions } from '../../src/dehb/types.js';
import type { BenchFunction } from '../functions/types.js';
import { Prng } from './prng.js';

export interface SimOptions {
  workers: number;
  evaluations: number;
  seed: number;
  /** Extra optimizer options (e.g. the schedule). */
  optimizer?: Partial<OptimizerOptions>;
  /** Diagnostic: jobs at these ladder indexes (0 = lowest fidelity) last no time. */
  instantRungs?: readonly number[];
}

/** One simulated run. */
export interface SimTrace {
  seed: number;
  workers: number;
  /** Simulated time at which the i-th result was told. */
  tellTimes: Float64Array;
  /** Noise-free regret of the incumbent after the i-th tell (Infinity before the first one). */
  regret: Float64Array;
  /** Jobs per source (de, promotion, ...). */
  sources: Record<string, number>;
}

interface Running {
  job: Job;
  end: number;
}

/** Simulate one run of `opts.evaluations` evaluations with `opts.workers` in flight. */
export function simulate(bench: BenchFunction, opts: SimOptions): SimTrace {
  const { workers, evaluations, seed } = opts;
  if (!Number.isInteger(workers) || workers < 1) throw new DehbError('E_CONFIG', `workers must be an integer >= 1 (got ${workers})`);
  if (!Number.isInteger(evaluations) || evaluations < 1) {
    throw new DehbError('E_CONFIG', `evaluations must be an integer >= 1 (got ${evaluations})`);
  }
  const state = createState({
    space: bench.space,
    minFidelity: bench.minFidelity,
    maxFidelity: bench.maxFidelity,
    eta: bench.eta,
    seed,
    ...opts.optimizer,
  });
  const objectiveRng = new Prng(seed);
  const durationRng = new Prng(seed, 0x5e1f);
  const tellTimes = new Float64Array(evaluations);
  const regret = new Float64Array(evaluations);
  const sources: Record<string, number> = {};
  const running: Running[] = [];
  const instant = new Set(opts.instantRungs ?? []);
  let clock = 0;
  let asked = 0;
  let lastIncumbent = -1;
  let lastRegret = Infinity;

  const submit = (): void => {
    const r = ask(state);
    if (!('job' in r)) throw new DehbError('E_STATE', `ask() returned wait (${r.reason}) after ${asked} jobs`);
    const drawn = (r.job.fidelity / bench.maxFidelity) * (0.9 + 0.2 * durationRng.uniform());
    const duration = instant.has(r.job.rung) ? 0 : drawn;
    running.push({ job: r.job, end: clock + duration });
    sources[r.job.source] = (sources[r.job.source] ?? 0) + 1;
    asked++;
  };

  while (asked < evaluations && running.length < workers) submit();
  for (let told = 0; told < evaluations; told++) {
    let k = 0;
    for (let i = 1; i < running.length; i++) {
      const a = running[i];
      const b = running[k];
      if (a.end < b.end || (a.end === b.end && a.job.trialId < b.job.trialId)) k = i;
    }
    const { job, end } = running[k];
    running.splice(k, 1);
    clock = end;
    const res = bench.objective(job.config, job.fidelity, objectiveRng);
    tell(state, job.trialId, { status: 'ok', fitness: res.fitness, cost: res.cost, info: res.info ?? {} });
    const inc = state.incumbent;
    if (inc !== null && inc.trialId !== lastIncumbent) {
      lastIncumbent = inc.trialId;
      lastRegret = bench.trueValue(inc.config) - bench.optimum.fitness;
    }
    tellTimes[told] = clock;
    regret[told] = lastRegret;
    if (asked < evaluations) submit();
  }
  return { seed, workers, tellTimes, regret, sources };
}

/** Regret of the incumbent at simulated time `t` (the last tell at or before t; Infinity before any). */
export function regretAtTime(trace: SimTrace, t: number): number {
  let lo = 0;
  let hi = trace.tellTimes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (trace.tellTimes[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? Infinity : trace.regret[lo - 1];
}

/** Simulated time at which the run ended (its last tell). */
export function endTime(trace: SimTrace): number {
  return trace.tellTimes[trace.tellTimes.length - 1];
}
