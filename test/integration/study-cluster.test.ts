/**
 * `dehb optimize NAME --cluster --scheduler-file F` only coordinates: the lease holder drives the
 * run loop through the cluster executor, and a `dehb worker` process evaluates every trial (the
 * journal records the worker's pid on each result, never the optimize process's).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { FIXTURE_DIR, startWorkerProc, writeFileFor, type WorkerProc } from '../fixtures/cluster/harness.js';
import { cleanupPrefix, uniquePrefix } from '../fixtures/cluster/redis.js';
import { journalOf } from './study-helpers.js';

const prefix = uniquePrefix('study-cluster');
let dir = '';
let worker: WorkerProc | null = null;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-study-cluster-'));
});
after(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await cleanupPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

test('dehb optimize --cluster: the cluster workers evaluate every trial of the study', { timeout: 120_000 }, async () => {
  const file = join(dir, 'sched.json');
  await writeFileFor(file, prefix);
  worker = await startWorkerProc(file, ['--concurrency', '2']);
  const storage = join(dir, 'studies');
  await writeFile(join(dir, 'space.json'), JSON.stringify({ x: { type: 'float', low: 0, high: 1 } }));
  const objective = `${join(FIXTURE_DIR, 'objective.mjs')}#objective`;
  const c = await runCli(['study', 'create', 'c', '--space', join(dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', objective, '--seed', '4', '--storage', storage]);
  assert.equal(c.code, 0, c.stderr);
  const opt = startCli(['optimize', 'c', '--fevals', '6', '-n', '2', '--cluster', '--scheduler-file', file, '--storage', storage, '--json']);
  const r = await opt.done;
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { reason: string; toldTotal: number; led: boolean };
  assert.deepEqual([summary.reason, summary.toldTotal, summary.led], ['budget', 6, true]);
  const told = (await journalOf(storage, 'c')).filter((e) => e.type === 'told');
  assert.equal(told.length, 6);
  for (const e of told) {
    if (e.type !== 'told') continue;
    assert.equal(e.result.status, 'ok', JSON.stringify(e.result));
    assert.equal(e.worker?.pid, worker.pid, `trial ${e.trialId} ran on the dehb worker`);
    assert.notEqual(e.worker?.pid, opt.child.pid);
  }
});
