/**
 * Deleting a Redis-stored study also removes what its trials left on the BullMQ queue (jobs
 * queued or finished, stored results), so a study created later under the same name never takes
 * them as its own trials' results. Refused, deleting nothing, while a process holds the study's
 * lease or a worker runs one of its trials.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { SHARED_REDIS } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR } from '../fixtures/cluster/harness.js';
import type { CliProc } from '../fixtures/cluster/procs.js';
import { openStorage } from '../../src/study/storage-open.js';
import { journalOf, redisStudyBed } from './study-helpers.js';

const bed = redisStudyBed('study-delete');
const { prefix, storage, start } = bed;
const objective = join(FIXTURE_DIR, 'resume-objective.mjs');

async function ok(args: string[]): Promise<string> {
  const p = start(args);
  const r = await p.exited;
  assert.equal(r.code, 0, `${args.join(' ')}: ${p.err()}`);
  return p.err();
}

async function refused(args: string[]): Promise<string> {
  const p = start(args);
  assert.equal((await p.exited).code, 2, p.err());
  return p.err();
}

const create = (seed: number): Promise<string> =>
  ok(['study', 'create', 'again', '--space', bed.space, '--min-fidelity', '1', '--max-fidelity', '9', '--objective', objective, '--seed', String(seed), '--storage', storage]);
const worker = (sleepMs: number): CliProc =>
  start(['worker', '--scheduler-file', bed.file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '3'], { DEHB_TEST_SLEEP_MS: String(sleepMs) });
const remove = ['study', 'delete', 'again', '--storage', storage, '--yes'];

/** Who holds the study's lease (the storage's own view), or null. */
async function leaseHolder(): Promise<string | null> {
  const s = await openStorage(storage);
  try {
    return (await s.getLease('again'))?.holder ?? null;
  } finally {
    await s.close();
  }
}

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('study delete removes its queued and finished jobs (a new study of that name evaluates its own trials); refused while leased or while a worker runs a trial', { timeout: 180_000 }, async () => {
  const queue = new Queue('evals', { connection: { host: SHARED_REDIS.host, port: SHARED_REDIS.port }, prefix });
  const jobs = async (): Promise<string[]> => (await queue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed'])).map((j) => j.id as string).sort();
  try {
    await create(3);
    // no worker yet: the optimize queues 3 jobs and is killed, its lease running out at most 8 s
    // later (long enough for a delete started on a loaded machine to find it held)
    const lead = start(['optimize', 'again', '--fevals', '4', '-n', '3', '--cluster', '--scheduler-file', bed.file, '--storage', storage, '--lease-ttl', '8s']);
    await waitFor('3 jobs are queued', async () => (await queue.getJobCountByTypes('waiting', 'prioritized')) === 3);
    lead.kill('SIGKILL');
    await lead.exited;
    assert.match(await refused(remove), /study "again" is being optimized \(its lease is held by .+\); stop that process first/);

    await waitFor('the dead holder\'s lease expires', async () => (await leaseHolder()) === null);
    // a worker takes the 3 jobs: while they run (20 s: longer than a delete takes to start under load), the delete is refused
    const slow = worker(20_000);
    await slow.waitFor(/serving queue/);
    await waitFor('the worker runs the 3 trials', async () => (await queue.getJobCountByTypes('active')) === 3);
    assert.match(await refused(remove), /3 trial\(s\) of study "again" still run on workers \(jobs study\.again-0, study\.again-1, study\.again-2\); delete the study once they end/);
    await waitFor('they end', async () => (await queue.getJobCountByTypes('completed')) === 3, 60_000);
    assert.deepEqual(await jobs(), ['study.again-0', 'study.again-1', 'study.again-2'], 'finished, kept for a lease holder that never comes');
    slow.kill('SIGTERM');
    await slow.exited;

    await ok(remove);
    assert.deepEqual(await jobs(), [], 'the deleted study left nothing on the queue');

    // the same name again, another seed: every trial is evaluated for this study, none taken from the old jobs
    await create(4);
    const fast = worker(20);
    await fast.waitFor(/serving queue/);
    await ok(['optimize', 'again', '--fevals', '4', '-n', '3', '--cluster', '--scheduler-file', bed.file, '--storage', storage]);
    const entries = await journalOf(storage, 'again');
    const told = entries.flatMap((e) => (e.type === 'told' ? [e] : []));
    assert.equal(told.length, 4);
    assert.deepEqual(told.map((t) => t.worker?.pid), told.map(() => fast.proc.pid), 'every result comes from the worker serving the new study');
    fast.kill('SIGTERM');
    await fast.exited;
  } finally {
    await queue.close();
  }
});
