/**
 * A study whose evaluations can be held: created through `dehb study create` on a TestStorage
 * (study-helpers.ts) with the fixture objective, which waits while the file `gate` exists and logs
 * every evaluation it starts as "<pid> <trialId>" to `log`. For the tests of stops, grace periods,
 * hand-backs and take-overs with real `dehb` processes.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { TestStorage } from './study-helpers.js';

/** `dehb study create NAME` over the fixture space (fidelity 1..9, seed 7) with `objective` (default: the fixture's). */
export async function createStudy(ts: TestStorage, name: string, env: NodeJS.ProcessEnv, objective = join(ts.dir, 'objective.mjs')): Promise<void> {
  const c = await runCli(
    ['study', 'create', name, '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', objective, '--seed', '7'],
    { env },
  );
  assert.equal(c.code, 0, c.stderr);
}

/** A study whose evaluations wait while the file `gate` exists (it does at first); each logs "<pid> <trialId>" to `log`. */
export async function gatedStudy(ts: TestStorage, name: string): Promise<{ log: string; gate: string; env: NodeJS.ProcessEnv }> {
  const log = join(ts.dir, 'evals.log');
  const gate = join(ts.dir, 'gate');
  const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log, EVAL_SLEEP_MS: '20', EVAL_GATE: gate };
  await createStudy(ts, name, env);
  await writeFile(gate, '');
  return { log, gate, env };
}

/** The evaluations started so far, as [pid, trialId]. */
export async function evalsOf(log: string): Promise<Array<[number, number]>> {
  return (await readFile(log, 'utf8').catch(() => ''))
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ').map(Number) as [number, number]);
}
