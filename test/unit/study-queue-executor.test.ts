/**
 * The study queue as an Executor backend (src/study/study-queue-executor.ts) on a real directory
 * storage: results journaled by other processes reach the run loop strictly in journal order (a
 * result whose trial the loop has not submitted yet holds back later ones and counts as capacity),
 * pushes appended by `dehb push` enter the session, and the lease holder's journal
 * (src/study/leader-journal.ts) never writes a second copy of either.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
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

test('results in journal order, pushes applied once, nothing written twice', { timeout: 30_000 }, async () => {
  const study = await createStudy({ name: 'q', storage, space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, seed: 2 });
  await study.close();
  assert.equal(await storage.acquireLease('q', 'L', 10_000), true);
  const reader = await storage.journal('q');
  const remote = await storage.journal('q');
  const fenced = new LeaderJournal(storage, 'q', 'L', reader, () => true);
  const session = await RunSession.resume(fenced, 'test');
  const queue = new StudyQueueExecutor({ storage, study: 'q', journal: reader, fromSeq: fenced.lastReadSeq, queueAhead: 0, idleSlots: () => 0, pollMs: 20 });
  queue.attach(session);
  try {
    const [j0, j1] = [session.ask(), session.ask()].map((r) => ('job' in r ? r.job : assert.fail('no job')));
    const order: number[] = [];
    const p1 = queue.submit(task(j1 as Job)).then((o) => (order.push(1), o));
    await new Promise((r) => setTimeout(r, 50));
    // another process tells trial 0 (not submitted to this executor yet), then trial 1
    await remote.append([
      { type: 'told', trialId: (j0 as Job).trialId, result: { status: 'ok', fitness: 0.5 } },
      { type: 'told', trialId: (j1 as Job).trialId, result: { status: 'ok', fitness: 0.25, cost: 3 } },
      { type: 'pushed', config: { x: 0.1 }, fidelity: 9 },
    ]);
    queue.kick();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(order.length, 0, 'trial 1 waits for trial 0, told before it in the journal');
    assert.ok(queue.capacity >= 1, 'the held result counts as capacity, so the loop can submit trial 0');
    assert.equal(session.state.manualQueue.length, 1, 'the push entered the session');
    const p0 = queue.submit(task(j0 as Job)).then((o) => (order.push(0), o));
    const [o0, o1] = await Promise.all([p0, p1]);
    assert.deepEqual(order, [0, 1]);
    assert.deepEqual(o0, { status: 'ok', fitness: 0.5 });
    assert.deepEqual(o1, { status: 'ok', fitness: 0.25, cost: 3 });
    // the loop tells them; the lease holder's journal keeps the workers' copies only
    await session.tell((j0 as Job).trialId, { status: 'ok', fitness: 0.5 });
    await session.tell((j1 as Job).trialId, { status: 'ok', fitness: 0.25, cost: 3 });
    session.push({ x: 0.1 }, 9);
    await session.flush();
    const entries = await reader.read(1);
    assert.equal(entries.filter((e) => e.type === 'told').length, 2);
    assert.equal(entries.filter((e) => e.type === 'pushed').length, 1);
    assert.equal(entries.filter((e) => e.type === 'asked').length, 2);
  } finally {
    await queue.close();
    await remote.close();
    await reader.close();
    await storage.releaseLease('q', 'L');
  }
});
