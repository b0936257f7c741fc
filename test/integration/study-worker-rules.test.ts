/**
 * The worker-runtime rules on a study's evaluation slots, with real `dehb` processes, on both
 * storages (a Redis study's slots are the cluster worker runtime; a directory study's claim from
 * its local queue):
 * - `--max-trials N` (TrialQuota) counts trials taken over from a dead lease holder too: a worker
 *   that leads the orphaned trials of a killed `dehb optimize` evaluates exactly N and exits;
 *   nothing it evaluated is lost or told twice;
 * - the grace period of a stop (`--grace-ms`): a trial still running when it ends goes back to
 *   the queue and is run elsewhere, never recorded as a result of the stopped worker;
 * - the allow-list (`--allow`, `--objective`, `--command`): a study whose journal names a module
 *   the worker does not allow is refused before anything is claimed, and the module never runs;
 *   an objective written into a queue.json task never runs either;
 * - a garbled queue.json task is refused once (done with a failure naming the problem), never
 *   handed to a worker and never claimed again.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStorage } from '../../src/study/storage-open.js';
import { runCli, startCli } from '../helpers/cli.js';
import { journalOf, makeStorage, toldIds, until, type TestStorage } from './study-helpers.js';

const evalsOf = async (log: string): Promise<Array<[number, number]>> =>
  (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter((l) => l !== '').map((l) => l.split(' ').map(Number) as [number, number]);

async function createStudy(ts: TestStorage, name: string, env: NodeJS.ProcessEnv, objective = join(ts.dir, 'objective.mjs')): Promise<void> {
  const c = await runCli(
    ['study', 'create', name, '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', objective, '--seed', '7'],
    { env },
  );
  assert.equal(c.code, 0, c.stderr);
}

test('[redis] a --max-trials 2 worker that takes over a killed lead\'s orphaned trials evaluates exactly 2; nothing lost or told twice', { timeout: 240_000 }, async () => {
  const ts = await makeStorage('redis');
  try {
    const N = 10;
    const log = join(ts.dir, 'evals.log');
    const gate = join(ts.dir, 'gate');
    const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log, EVAL_SLEEP_MS: '20', EVAL_GATE: gate };
    await createStudy(ts, 'orph', env);
    await writeFile(gate, ''); // the lead's evaluations wait: it dies with every trial it asked still pending
    const lead = startCli(['optimize', 'orph', '--fevals', String(N), '-n', '3', '--lease-ttl', '1s', '--claim-ttl', '1s'], { env });
    const leadPid = lead.child.pid as number;
    await until(async () => (await evalsOf(log)).filter(([pid]) => pid === leadPid).length >= 3);
    lead.child.kill('SIGKILL');
    assert.equal((await lead.done).signal, 'SIGKILL');
    const orphaned = await journalOf(ts.url, 'orph');
    const asked = orphaned.filter((e) => e.type === 'asked').length;
    assert.equal(toldIds(orphaned).length, 0);
    assert.ok(asked >= 4, `the dead lead left ${asked} trials pending (more than the worker may run)`);
    await rm(gate);

    const w = startCli(['worker', '--study', 'orph', '--storage', ts.url, '--max-trials', '2', '--id', 'capped'], { env });
    const wPid = w.child.pid as number;
    const rw = await w.done;
    assert.equal(rw.code, 0, rw.stderr);
    assert.match(rw.stderr, /worker stopped \(max-trials\): 2 trial\(s\) evaluated here/);
    const byWorker = (await evalsOf(log)).filter(([pid]) => pid === wPid).map(([, id]) => id);
    assert.equal(byWorker.length, 2, `the capped worker evaluated exactly 2 trials (it evaluated ${byWorker.join(', ')})`);

    // another process finishes the study: the capped worker's results are re-attached, not re-run
    const fin = await runCli(['optimize', 'orph', '--fevals', String(N), '-n', '2', '--json'], { env });
    assert.equal(fin.code, 0, fin.stderr);
    assert.equal(JSON.parse(fin.stdout).toldTotal, N);
    const entries = await journalOf(ts.url, 'orph');
    const told = toldIds(entries);
    assert.equal(told.length, N, 'exactly N results');
    assert.equal(new Set(told).size, N, 'no trial told twice');
    const toldFromWorker = entries.filter((e) => e.type === 'told' && e.worker?.pid === wPid).map((e) => (e as { trialId: number }).trialId);
    assert.deepEqual(toldFromWorker.sort((a, b) => a - b), [...byWorker].sort((a, b) => a - b), "both of the capped worker's results are in the journal, as its own");
    const evals = await evalsOf(log);
    for (const id of byWorker) {
      assert.equal(evals.filter(([pid, t]) => t === id && pid !== leadPid).length, 1, `trial ${id} ran once after the lead died`);
    }
  } finally {
    await ts.cleanup();
  }
});
