/**
 * Redis-stored studies hand out their trials as BullMQ jobs on the same Redis (run id
 * `study.<name>`), so `dehb worker` processes serve them next to cluster runs:
 * - one worker process serves a `dehb run --cluster` run and a Redis study at once (both
 *   complete with their full trial counts; every trial ran on that worker);
 * - `dehb worker --study NAME` takes only that study's jobs, and a worker whose allow-list does not
 *   cover a study's objective never runs its trials (both leave them for other workers);
 * - the study storage under that prefix keeps no work queue of its own (only journal, lease, files);
 * - the lease holder killed with SIGKILL while a `dehb worker` process evaluates: the next holder
 *   takes the results stored meanwhile (not re-run), re-runs only what the dead process ran, and
 *   every trial is told exactly once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { SHARED_REDIS_URL } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';
import { runCli, startCli } from '../helpers/cli.js';
import { journalOf, makeStorage, redisStudyBed, toldIds, until } from './study-helpers.js';

const objective = join(FIXTURE_DIR, 'resume-objective.mjs');
const env = { DEHB_TEST_SLEEP_MS: '30' };
const bed = redisStudyBed('study-bullmq', env);
const { prefix, storage } = bed; // the storage's prefix is the queue's
const start = (args: string[]): CliProc => bed.start(args);

async function createStudy(name: string, seed: number): Promise<void> {
  const c = start(['study', 'create', name, '--space', bed.space, '--min-fidelity', '1', '--max-fidelity', '9', '--objective', objective, '--seed', String(seed), '--storage', storage]);
  assert.equal((await c.exited).code, 0, c.err());
}

async function toldBy(name: string): Promise<Array<{ trialId: number; pid: number | undefined; status: string }>> {
  return (await journalOf(storage, name)).flatMap((e) => (e.type === 'told' ? [{ trialId: e.trialId, pid: e.worker?.pid, status: e.result.status }] : []));
}

test('one dehb worker serves a cluster run and a Redis study at once', { timeout: 120_000 }, async () => {
  const worker = start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '3']);
  await worker.waitFor(/serving queue/);
  await createStudy('both', 3);
  const run = start(['run', '--cluster', '--scheduler-file', bed.file, '--space', bed.space, '--objective', objective, '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '8', '-n', '2', '--seed', '1', '--run-id', 'plain', '--output', join(bed.dir, 'plain'), '--quiet']);
  // --cluster: the optimize process only coordinates, so every trial must come from the worker
  const study = start(['optimize', 'both', '--fevals', '8', '-n', '2', '--cluster', '--scheduler-file', bed.file, '--storage', storage, '--json']);
  for (const p of [run, study]) assert.equal((await p.exited).code, 0, p.err());
  const summary = JSON.parse(study.out()) as { reason: string; toldTotal: number };
  assert.deepEqual([summary.reason, summary.toldTotal], ['budget', 8]);
  const told = await toldBy('both');
  assert.equal(told.length, 8);
  assert.equal(new Set(told.map((t) => t.trialId)).size, 8, 'each study trial told once');
  assert.ok(told.every((t) => t.status === 'ok' && t.pid === worker.proc.pid), 'every study trial ran on the dehb worker');
  const show = spawnCli(['show', join(bed.dir, 'plain'), '--format', 'json']);
  assert.equal((await show.exited).code, 0, show.err());
  const trials = (JSON.parse(show.out()) as { trials: Array<{ status: string; worker: { pid?: number } | null }> }).trials;
  assert.equal(trials.length, 8);
  assert.ok(trials.every((t) => t.status === 'ok' && t.worker?.pid === worker.proc.pid), 'every run trial ran on the same worker');
  // the storage keeps journal, lease and metadata under its prefix: no study queue keys
  const admin = new Redis(SHARED_REDIS_URL);
  try {
    const keys = await admin.keys(`${prefix}:study:*`);
    assert.ok(keys.length > 0 && keys.every((k) => /:(journal|lease|files)$/.test(k)), keys.join(', '));
  } finally {
    await admin.quit();
  }
  worker.kill('SIGTERM');
  assert.equal((await worker.exited).code, 0, worker.err());
});

test('--study NAME only takes that study; a worker whose allow-list refuses the objective runs none', { timeout: 240_000 }, async () => {
  await createStudy('wanted', 5);
  await createStudy('other', 6);
  const filtered = start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--study', 'other', '--id', 'filtered']);
  mkdirSync(join(bed.dir, 'elsewhere'), { recursive: true }); // allowed, but holds no objective of these studies
  const refusing = start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', join(bed.dir, 'elsewhere'), '--id', 'refusing']);
  await Promise.all([filtered.waitFor(/serving queue/), refusing.waitFor(/serving queue/)]);
  const study = start(['optimize', 'wanted', '--fevals', '4', '-n', '2', '--cluster', '--scheduler-file', bed.file, '--storage', storage, '--json']);
  // both workers see the study's jobs and leave them for others
  await filtered.waitFor(/leaves job study\.wanted-\d+ for other workers: this worker only takes jobs of run\(s\) study\.other/, 60_000);
  await refusing.waitFor(/leaves job study\.wanted-\d+ for other workers: this worker refuses objective module/, 60_000);
  assert.deepEqual(await toldBy('wanted'), [], 'nothing ran while only the filtered and the refusing worker served');
  const open = start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--id', 'open']);
  assert.equal((await study.exited).code, 0, study.err());
  const told = await toldBy('wanted');
  assert.equal(told.length, 4);
  assert.ok(told.every((t) => t.status === 'ok' && t.pid === open.proc.pid), 'only the unfiltered, allowing worker ran the study');
  // the filtered worker does take its own study's trials
  const own = start(['optimize', 'other', '--fevals', '2', '-n', '1', '--cluster', '--scheduler-file', bed.file, '--storage', storage, '--json']);
  open.kill('SIGTERM');
  await open.exited;
  assert.equal((await own.exited).code, 0, own.err());
  const otherTold = await toldBy('other');
  assert.equal(otherTold.length, 2);
  assert.ok(otherTold.every((t) => t.pid === filtered.proc.pid), 'the --study worker ran its study');
  for (const w of [filtered, refusing]) w.kill('SIGTERM');
  await Promise.all([filtered.exited, refusing.exited]);
});

test('the lease holder is killed -9 while dehb worker processes evaluate: the next holder gets the stored results, every trial told once', { timeout: 180_000 }, async () => {
  const ts = await makeStorage('redis');
  try {
    const queuePrefix = (new URL(ts.url).searchParams.get('prefix') as string).replace(/:$/, '');
    const sched = join(ts.dir, 'sched.json');
    await writeFileFor(sched, queuePrefix);
    const N = 16;
    const log = join(ts.dir, 'evals.log');
    const gate = join(ts.dir, 'gate');
    const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log, EVAL_SLEEP_MS: '60', EVAL_GATE: gate };
    const c = await runCli(['study', 'create', 'race', '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs'), '--seed', '9'], { env });
    assert.equal(c.code, 0, c.stderr);
    const worker = spawnCli(['worker', '--scheduler-file', sched, '--gpus', 'none', '--allow', ts.dir, '--concurrency', '2', '--lock-duration', '15000', '--stalled-interval', '5000'], { env });
    bed.track(worker);
    await worker.waitFor(/serving queue/);
    const args = ['optimize', 'race', '--fevals', String(N), '-n', '1', '--lease-ttl', '1s', '--claim-ttl', '2s', '--json'];
    const a = startCli(args, { env });
    await until(async () => toldIds(await journalOf(ts.url, 'race')).length >= 3);
    await writeFile(gate, ''); // evaluations now wait: three trials are out (A's slot and the worker's two) when A dies
    const b = startCli(args, { env });
    const lines = async (): Promise<Array<[number, number]>> => (await readFile(log, 'utf8')).trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
    const toldBefore = toldIds(await journalOf(ts.url, 'race')).length;
    await until(async () => (await lines()).length >= toldBefore + 3);
    const aPid = a.child.pid as number;
    a.child.kill('SIGKILL');
    assert.equal((await a.done).signal, 'SIGKILL');
    const heldByWorker = (await lines()).slice(toldBefore).filter(([pid]) => pid === worker.proc.pid).map(([, id]) => id);
    await rm(gate); // the worker's trials finish with no lease holder running; their results wait in Redis
    const rb = await b.done;
    assert.equal(rb.code, 0, rb.stderr);
    const summary = JSON.parse(rb.stdout) as { reason: string; toldTotal: number; led: boolean };
    assert.deepEqual([summary.reason, summary.toldTotal, summary.led], ['budget', N, true]);
    const entries = await journalOf(ts.url, 'race');
    const told = toldIds(entries);
    assert.equal(told.length, N, 'exactly N results');
    assert.equal(new Set(told).size, N, 'no trial told twice');
    const asked = entries.flatMap((e) => (e.type === 'asked' ? [e.trialId] : []));
    assert.equal(new Set(asked).size, asked.length, 'no trial asked twice');
    const runs = new Map<number, number>();
    for (const [, id] of await lines()) runs.set(id, (runs.get(id) ?? 0) + 1);
    for (const id of heldByWorker) {
      assert.equal(runs.get(id), 1, `trial ${id} finished on the worker while no holder ran: its stored result was taken, not re-run`);
      assert.ok(told.includes(id));
    }
    for (const [id, n] of runs) {
      if (n > 1) assert.ok((await lines()).some(([pid, t]) => pid === aPid && t === id) && n === 2, `trial ${id} ran ${n} times but A was not running it`);
    }
    const byWorker = entries.filter((e) => e.type === 'told' && e.worker?.pid === worker.proc.pid).length;
    assert.ok(byWorker >= heldByWorker.length && byWorker > 0, 'the dehb worker process evaluated study trials');
  } finally {
    await ts.cleanup();
  }
});

test('a trial that needs shipped input files is left by plain workers and run by a worker of the study', { timeout: 180_000 }, async () => {
  const shipDir = join(bed.dir, 'ship');
  mkdirSync(shipDir);
  writeFileSync(join(shipDir, 'shipped.mjs'), 'export async function objective(config) { return config.x ** 2; }\n');
  const c = spawnCli(['study', 'create', 'ship', '--space', bed.space, '--kind', 'random', '--max-fidelity', '1', '--objective', 'shipped.mjs', '--input-file', 'shipped.mjs', '--storage', storage], { cwd: shipDir });
  assert.equal((await c.exited).code, 0, c.err());
  const plain = start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', bed.dir, '--allow', FIXTURE_DIR, '--id', 'plain']);
  await plain.waitFor(/serving queue/);
  const study = start(['optimize', 'ship', '--fevals', '2', '-n', '1', '--cluster', '--scheduler-file', bed.file, '--storage', storage, '--json']);
  await plain.waitFor(/leaves job study\.ship-\d+ for other workers: the trial needs its study's shipped input files/, 60_000);
  assert.deepEqual(await toldBy('ship'), []);
  const own = spawnCli(['worker', '--study', 'ship', '--storage', storage, '--accept-study-files', '--max-trials', '2', '--trials-dir', join(bed.dir, 'ship-trials')], { cwd: shipDir });
  bed.track(own);
  assert.equal((await study.exited).code, 0, study.err());
  const told = await toldBy('ship');
  assert.equal(told.length, 2);
  assert.ok(told.every((t) => t.status === 'ok' && t.pid === own.proc.pid), 'the study worker ran them, with the shipped module');
});
