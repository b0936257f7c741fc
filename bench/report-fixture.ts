/**
 * Writes a synthetic but real run directory for the report bench and tests: the optimizer itself
 * (ask/tell) proposes N trials on the quickstart's search space; a simulated clock runs them on
 * `lanes` workers (duration grows with fidelity), about 2% fail or time out, and trials report a
 * learning curve. The journal is the one `dehb run` writes (replayable by `dehb show`), so the
 * report sees what it would see after a long run. `extra` lets tests put hostile strings in.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ask, createState, tell } from '../src/dehb/optimizer.js';
import type { SpaceSpec, TrialResult } from '../src/dehb/types.js';
import type { JournalEntry } from '../src/study/journal-types.js';

export const FIXTURE_SPACE: SpaceSpec = {
  lr: { type: 'float', low: 1e-5, high: 0.1, log: true },
  units: { type: 'int', low: 16, high: 512, log: true },
  act: { type: 'categorical', choices: ['relu', 'tanh', 'gelu'] },
  batch: { type: 'ordinal', values: [32, 64, 128] },
  opt: { type: 'categorical', choices: ['sgd', 'adam'] },
  momentum: { type: 'float', low: 0, high: 0.99, condition: { parent: 'opt', in: ['sgd'] } },
};

export interface FixtureOptions {
  trials: number;
  lanes?: number;
  seed?: number;
  /** Report steps per trial (0: none). Default: the trial's fidelity, rounded. */
  reports?: boolean;
  space?: SpaceSpec;
  /** An error message used for failed trials (default a plain one). */
  errorMessage?: string;
  /** Leave the run unfinished (no "finished" entry). */
  unfinished?: boolean;
}

function lossOf(c: Record<string, string | number | boolean>, fidelity: number): number {
  const lr = (Math.log10(Number(c.lr)) - Math.log10(3e-3)) ** 2;
  const units = (Math.log2(Number(c.units)) - 7) ** 2 / 8;
  const act = ({ relu: 0.05, tanh: 0.12, gelu: 0 } as Record<string, number>)[String(c.act)] ?? 0;
  const floor = 0.05 + lr * 0.2 + units * 0.1 + act;
  return floor + (2.5 - floor) * 0.7 ** fidelity;
}

export async function writeFixtureRun(dir: string, opts: FixtureOptions): Promise<string> {
  const lanes = opts.lanes ?? 8;
  const space = opts.space ?? FIXTURE_SPACE;
  const state = createState({ space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: opts.seed ?? 1 });
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
  const free = new Array<number>(lanes).fill(t0);
  const lines: string[] = [];
  let seq = 0;
  const put = (at: number, e: JournalEntry): void => {
    seq++;
    lines.push(JSON.stringify({ seq, at: Math.round(at), ...e }));
  };
  put(t0, { type: 'created', options: state.options, meta: { runId: 'bench-run', nWorkers: lanes, trialTimeoutMs: 60_000 } });
  put(t0, { type: 'budget', budget: { fevals: opts.trials } });
  for (let i = 0; i < opts.trials; i++) {
    const r = ask(state);
    if (!('job' in r)) throw new Error(`the optimizer did not hand out trial ${i}`);
    const job = r.job;
    let lane = 0;
    for (let k = 1; k < lanes; k++) if ((free[k] as number) < (free[lane] as number)) lane = k;
    const askedAt = free[lane] as number;
    const startAt = askedAt + 5 + (i % 7) * 3;
    const dur = 200 * job.fidelity * (0.8 + ((i * 7919) % 100) / 250);
    const end = startAt + dur;
    free[lane] = end + (i % 50 === 0 ? 2000 : 20); // now and then an idle gap
    const worker = { host: 'bench-host', id: `thread-${lane}`, pid: 1000 + lane };
    put(askedAt, { type: 'asked', trialId: job.trialId, job, applied: { told: state.told, pushed: 0 } });
    put(startAt, { type: 'started', trialId: job.trialId, worker });
    const loss = lossOf(job.config, job.fidelity);
    if (opts.reports !== false) {
      for (let s = 1; s <= Math.round(job.fidelity); s++) put(startAt + (dur * s) / job.fidelity, { type: 'report', trialId: job.trialId, step: s, value: lossOf(job.config, s) });
    }
    let result: TrialResult;
    if (i % 53 === 17) result = { status: 'failed', error: { name: 'Error', message: opts.errorMessage ?? `CUDA out of memory in trial ${i}` } };
    else if (i % 97 === 41) result = { status: 'timed-out', error: { message: 'trial timed out after 60s' } };
    else result = { status: 'ok', fitness: loss, cost: job.fidelity, info: {} };
    tell(state, job.trialId, result);
    put(end, { type: 'told', trialId: job.trialId, result, worker, durationMs: Math.round(dur) });
  }
  if (opts.unfinished !== true) put(Math.max(...free), { type: 'finished', reason: 'budget' });
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'journal.jsonl');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}
