/** Shared helpers of the optimizer tests (not a test file itself). */
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import type { DehbState, Job, OptimizerOptions, TrialResult } from '../../src/dehb/types.js';

export const space2d = {
  x: { type: 'float' as const, low: -5, high: 5 },
  y: { type: 'float' as const, low: -5, high: 5 },
};

export function opts(extra: Partial<OptimizerOptions> = {}): OptimizerOptions {
  return { space: space2d, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1, ...extra };
}

/** Deterministic objective: sphere plus a fidelity-dependent bias. */
export function objective(job: Job): TrialResult {
  let s = 0;
  for (const v of Object.values(job.config)) if (typeof v === 'number') s += (v - 1) * (v - 1);
  return { status: 'ok', fitness: s + 1 / job.fidelity, cost: job.fidelity };
}

export function askJob(state: DehbState, maxBrackets?: number): Job {
  const r = ask(state, maxBrackets === undefined ? {} : { maxBrackets });
  if ('wait' in r) throw new Error(`unexpected wait: ${r.reason}`);
  return r.job;
}

/** Sequential ask -> tell loop; returns the jobs. */
export function runSequential(state: DehbState, n: number): Job[] {
  const jobs: Job[] = [];
  for (let i = 0; i < n; i++) {
    const job = askJob(state);
    jobs.push(job);
    tell(state, job.trialId, objective(job));
  }
  return jobs;
}

/** Keeps `workers` jobs outstanding, telling the oldest first; returns the jobs in ask order. */
export function runFifo(state: DehbState, workers: number, n: number): Job[] {
  const jobs: Job[] = [];
  const queue: Job[] = [];
  while (jobs.length < n) {
    while (queue.length < workers && jobs.length < n) {
      const j = askJob(state);
      jobs.push(j);
      queue.push(j);
    }
    const done = queue.shift();
    if (done !== undefined) tell(state, done.trialId, objective(done));
  }
  return jobs;
}

/** Run-length encoding of (bracket, fidelity) over a job list. */
export function runs(jobs: Job[]): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const j of jobs) {
    const last = out[out.length - 1];
    if (last !== undefined && last[0] === j.bracketId && last[1] === j.fidelity) last[2]++;
    else out.push([j.bracketId, j.fidelity, 1]);
  }
  return out;
}

export function fresh(extra: Partial<OptimizerOptions> = {}): DehbState {
  return createState(opts(extra));
}
