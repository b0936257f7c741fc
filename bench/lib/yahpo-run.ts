/**
 * Owns the YAHPO lcbench comparison: per OpenML task, the best of N uniform random configurations
 * at epoch 52 (the regret reference), then every (mode, seed) run driven in lock step so each round
 * feeds the surrogate one batch: a run keeps `workers` evaluations in flight on a simulated clock
 * (an evaluation lasts the surrogate's predicted training time), the earliest finisher is told
 * first and one new job is asked, until the run has asked `budget` full-fidelity evaluations'
 * worth of epochs. Regret: reference accuracy minus the accuracy of the final incumbent's
 * configuration trained for 52 epochs (percentage points; noise-free, the surrogate is
 * deterministic).
 */
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import { createRng } from '../../src/dehb/rng.js';
import { sampleConfig } from '../../src/dehb/space/index.js';
import type { Config, DehbState, Job, OptimizerOptions, SpaceSpec } from '../../src/dehb/types.js';
import type { LcbenchSurrogate } from './yahpo-lcbench.js';

export const MODES = ['dehb', 'dehb-max', 'random', 'async'] as const;
export type Mode = (typeof MODES)[number];
export const MAX_EPOCH = 52;

export interface YahpoOptions {
  space: SpaceSpec;
  seeds: number;
  /** Budget per run in epochs, as a number of epoch-52 evaluations (random search makes exactly this many). */
  budget: number;
  workers: number;
  modes: readonly Mode[];
  masterSeed: number;
  references: number;
}

export interface RunOutcome {
  mode: Mode;
  seed: number;
  regret: number;
  evaluations: number;
  /** Simulated wall time until the last result (seconds of predicted training). */
  simTime: number;
  incumbentFidelity: number;
}

export interface TaskOutcome {
  task: string;
  referenceAccuracy: number;
  runs: RunOutcome[];
}

/** Optimizer options of one mode (async needs an optimizer with the `schedule` option). */
export function modeOptions(mode: Mode, space: SpaceSpec, seed: number): OptimizerOptions {
  const base: OptimizerOptions = { space, minFidelity: 1, maxFidelity: MAX_EPOCH, eta: 3, fidelityType: 'int', seed };
  if (mode === 'random') return { ...base, kind: 'random' };
  if (mode === 'dehb-max') return { ...base, incumbent: 'max-fidelity' };
  if (mode === 'async') return { ...base, schedule: 'async' } as OptimizerOptions;
  return base;
}

/** Whether this build's optimizer knows `schedule: 'async'` (issue 12 §1). */
export function asyncSupported(space: SpaceSpec): boolean {
  try {
    const st = createState(modeOptions('async', space, 1));
    return (st.options as unknown as Record<string, unknown>).schedule === 'async';
  } catch {
    return false;
  }
}

/** Best validation accuracy of `n` uniform random configurations at epoch 52 (batched). */
export async function referenceAccuracy(model: LcbenchSurrogate, space: SpaceSpec, task: string, n: number, seed: number): Promise<number> {
  const rng = createRng(seed);
  let best = -Infinity;
  for (let done = 0; done < n; done += 5000) {
    const qs = Array.from({ length: Math.min(5000, n - done) }, () => ({ task, config: sampleConfig(space, rng).config, epoch: MAX_EPOCH }));
    for (const o of await model.predict(qs)) if (o.val_accuracy > best) best = o.val_accuracy;
  }
  return best;
}

interface InFlight {
  job: Job;
  finish: number;
  fitness: number;
}

interface Run {
  mode: Mode;
  seed: number;
  state: DehbState;
  inflight: InFlight[];
  clock: number;
  spent: number;
  evaluations: number;
}

/** Runs every mode x seed on one task; returns per-run regrets. */
export async function runTask(model: LcbenchSurrogate, task: string, o: YahpoOptions): Promise<TaskOutcome> {
  const refAcc = await referenceAccuracy(model, o.space, task, o.references, 1_000_003 * (o.masterSeed + 1) + Number(task));
  const budgetEpochs = o.budget * MAX_EPOCH;
  const runs: Run[] = [];
  for (const mode of o.modes) {
    for (let s = 0; s < o.seeds; s++) {
      const seed = o.masterSeed * 10_000 + s;
      runs.push({ mode, seed, state: createState(modeOptions(mode, o.space, seed)), inflight: [], clock: 0, spent: 0, evaluations: 0 });
    }
  }
  for (;;) {
    // fill every run's free slots, then evaluate all new jobs in one batch
    const asked: Array<{ run: Run; job: Job }> = [];
    for (const run of runs) {
      for (let free = o.workers - run.inflight.length; free > 0 && run.spent < budgetEpochs; free--) {
        const r = ask(run.state);
        if ('wait' in r) break;
        run.spent += r.job.fidelity;
        asked.push({ run, job: r.job });
      }
    }
    const out = await model.predict(asked.map(({ job }) => ({ task, config: job.config, epoch: job.fidelity })));
    asked.forEach(({ run, job }, i) => {
      run.inflight.push({ job, finish: run.clock + out[i].time, fitness: 1 - out[i].val_accuracy / 100 });
    });
    let busy = false;
    for (const run of runs) {
      if (run.inflight.length === 0) continue;
      busy = true;
      let k = 0;
      for (let i = 1; i < run.inflight.length; i++) if (run.inflight[i].finish < run.inflight[k].finish) k = i;
      const [done] = run.inflight.splice(k, 1);
      run.clock = done.finish;
      run.evaluations++;
      tell(run.state, done.job.trialId, { status: 'ok', fitness: done.fitness, cost: done.job.fidelity });
    }
    if (!busy) break;
  }
  const finals = runs.map((r) => r.state.incumbent);
  const fullFidelity = await model.predict(finals.map((inc) => ({ task, config: inc?.config ?? ({} as Config), epoch: MAX_EPOCH })));
  return {
    task,
    referenceAccuracy: refAcc,
    runs: runs.map((r, i) => ({
      mode: r.mode,
      seed: r.seed,
      regret: refAcc - fullFidelity[i].val_accuracy,
      evaluations: r.evaluations,
      simTime: r.clock,
      incumbentFidelity: finals[i]?.fidelity ?? NaN,
    })),
  };
}
