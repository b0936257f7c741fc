/**
 * The local study queue as an Executor backend (src/study/study-queue-executor.ts) on a real
 * directory storage: a worker's outcome left in the queue resolves submit (validated with the one
 * outcome schema; a garbled or forged queue.json entry is refused, as a retryable failure, and a
 * re-submit queues the trial again), pushes appended by `dehb push` enter the session, `recorded`
 * removes the task, and an outcome left for a lease holder that died is picked up by the next.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createStudy } from '../../src/api/study-open.js';
import type { Job } from '../../src/dehb/types.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import { LeaderJournal } from '../../src/study/leader-journal.js';
import { RunSession } from '../../src/study/run-session.js';
import type { StudyStorage } from '../../src/study/storage.js';
import { openStorage } from '../../src/study/storage-open.js';
import { StudyQueueExecutor } from '../../src/study/study-queue-executor.js';

let dir = '';
let storage: StudyStorage;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-queue-exec-'));
  storage = await openStorage(join(dir, 'studies'));
});
after(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const task = (job: Job): EvalTask => ({ v: 1, runId: 'q', trialId: job.trialId, config: job.config, fidelity: job.fidelity, objective: { kind: 'function' }, timeoutMs: null, gpus: 0 });
/** Claims once the submit has queued the trial (submit queues it after making `asked` durable). */
async function claim(name: string, workerId: string): Promise<number | undefined> {
  for (let i = 0; i < 500; i++) {
    const c = await storage.queue!.claim(name, workerId, 10_000);
    if (c !== null) return c.trialId;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}
const jobOf = (r: ReturnType<RunSession['ask']>): Job => ('job' in r ? r.job : assert.fail('no job'));

async function lead(name: string, holder: string) {
  assert.equal(await storage.acquireLease(name, holder, 10_000), true);
  const reader = await storage.journal(name);
  const fenced = new LeaderJournal(storage, name, holder, reader, (e) => e.type !== 'told');
  const session = await RunSession.resume(fenced, 'test');
  const logs: string[] = [];
  const queue = new StudyQueueExecutor({ session, storage, study: name, journal: reader, fromSeq: fenced.lastReadSeq, queueAhead: 0, workerId: holder, busySlots: () => 0, idleSlots: () => 0, pollMs: 20, log: (m) => logs.push(m) });
  const close = async (): Promise<void> => {
    await queue.close();
    await reader.close();
    await storage.releaseLease(name, holder);
  };
  return { session, queue, reader, logs, close };
}

test('a worker outcome resolves submit; pushes enter the session; recorded removes the task; the holder journals told', { timeout: 30_000 }, async () => {
  const study = await createStudy({ name: 'q', storage, space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, seed: 2 });
  await study.close();
  const l = await lead('q', 'L');
  const remote = await storage.journal('q');
  try {
    const j0 = jobOf(l.session.ask());
    const p0 = l.queue.submit(task(j0));
    assert.equal(await claim('q', 'w'), j0.trialId, 'the asked trial was queued');
    await remote.append([{ type: 'pushed', config: { x: 0.1 }, fidelity: 9 }]);
    const worker = { id: 'w', host: 'h', pid: 1 };
    assert.equal(await storage.queue!.complete('q', j0.trialId, 'w', { status: 'ok', fitness: 0.25, cost: 3, worker }), true);
    l.queue.kick();
    assert.deepEqual(await p0, { status: 'ok', fitness: 0.25, cost: 3, worker });
    assert.equal(l.session.state.manualQueue.length, 1, 'the push entered the session');
    // the run loop tells it, then says it is durable
    l.session.tell(j0.trialId, { status: 'ok', fitness: 0.25, cost: 3 }, { worker });
    await l.session.flush();
    l.queue.recorded(task(j0));
    await l.queue.close();
    assert.deepEqual((await storage.queue!.results('q')).done, [], 'the recorded task left the queue');
    const entries = await l.reader.read(1);
    assert.deepEqual(entries.filter((e) => e.type === 'told').map((e) => e.trialId), [j0.trialId], 'the holder journaled the result');
    assert.equal(entries.filter((e) => e.type === 'pushed').length, 1, 'the push is not journaled twice');
  } finally {
    await remote.close();
    await l.close();
  }
});

test('a garbled or forged outcome in queue.json is refused: a retryable failure naming the field; submitted again, the trial runs again', { timeout: 30_000 }, async () => {
  const study = await createStudy({ name: 'forged', storage, space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, seed: 3 });
  await study.close();
  const l = await lead('forged', 'L');
  try {
    const j = jobOf(l.session.ask());
    const p = l.queue.submit(task(j));
    assert.equal(await claim('forged', 'w'), j.trialId);
    // another process writes queue.json by hand: a done task whose fitness is a string
    const file = join(dir, 'studies', 'forged', 'queue.json');
    const q = JSON.parse(await readFile(file, 'utf8')) as { tasks: Record<string, Record<string, unknown>> };
    q.tasks[String(j.trialId)] = { ...q.tasks[String(j.trialId)], state: 'done', outcome: { status: 'ok', fitness: '-1e9' } };
    // whole, as dehb's own writers do (a new file renamed over it): the lead polls the file meanwhile
    // and would read a half-written one as unreadable
    await writeFile(`${file}.forged`, JSON.stringify(q));
    await rename(`${file}.forged`, file);
    l.queue.kick();
    const refused = await p;
    assert.equal(refused.status, 'failed');
    assert.ok(refused.status === 'failed' && refused.retryable, 'the run loop retry policy decides');
    assert.match(refused.status === 'failed' ? refused.error.message : '', /unusable result for job study\.forged-\d+: invalid outcome: fitness/);
    assert.ok(l.logs.some((m) => /worker w left an unusable outcome/.test(m)));
    // an unknown status is refused the same way
    const p2 = l.queue.submit(task(j));
    assert.equal(await claim('forged', 'w2'), j.trialId, 'submitted again, the trial is queued again');
    assert.equal(await storage.queue!.complete('forged', j.trialId, 'w2', { status: 'done', fitness: -5 }), true);
    l.queue.kick();
    const refused2 = await p2;
    assert.match(refused2.status === 'failed' ? refused2.error.message : '', /invalid outcome: status/);
    // a real outcome goes through
    const p3 = l.queue.submit(task(j));
    assert.equal(await claim('forged', 'w3'), j.trialId);
    await storage.queue!.complete('forged', j.trialId, 'w3', { status: 'ok', fitness: 0.5 });
    assert.deepEqual(await p3, { status: 'ok', fitness: 0.5 });
  } finally {
    await l.close();
  }
});

test('an outcome left for a lease holder that died is picked up by the next one', { timeout: 30_000 }, async () => {
  const study = await createStudy({ name: 'heir', storage, space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, seed: 4 });
  await study.close();
  const first = await lead('heir', 'A');
  const j = jobOf(first.session.ask());
  void first.queue.submit(task(j));
  assert.equal(await claim('heir', 'w'), j.trialId);
  await first.close(); // A is gone before the worker finished; nothing was journaled for the trial
  await storage.queue!.complete('heir', j.trialId, 'w', { status: 'ok', fitness: 0.125 });
  const next = await lead('heir', 'B');
  try {
    assert.deepEqual(next.session.resumedPending.map((x) => x.trialId), [j.trialId]);
    assert.deepEqual(await next.queue.submit(task(j)), { status: 'ok', fitness: 0.125 });
  } finally {
    await next.close();
  }
});
