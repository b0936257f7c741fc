import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLoop } from '../../src/driver/run-loop.js';
import { resolveBudget } from '../../src/driver/budget.js';
import { totalFevals } from '../helpers/budget.js';
import { RunSession } from '../../src/study/run-session.js';
import { MemoryJournal } from '../../src/study/memory-journal.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import type { Job, SpaceSpec } from '../../src/dehb/types.js';
import { FakeExecutor } from '../helpers/fake-executor.js';

const space: SpaceSpec = {
  x: { type: 'float', low: -5, high: 5 },
  y: { type: 'float', low: -5, high: 5 },
};
const opts = { space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 7 };
const sphere = (t: EvalTask): number => (Number(t.config.x) ** 2 + Number(t.config.y) ** 2) / t.fidelity;
const makeTask = (job: Job): EvalTask => ({
  v: 1,
  runId: 'r',
  trialId: job.trialId,
  config: job.config,
  fidelity: job.fidelity,
  objective: { kind: 'function' },
  timeoutMs: null,
  gpus: 0,
});

test('fevals budget: exactly N results, never more than capacity in flight, no wasted asks', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(4, sphere, (t) => (t.trialId % 3) + 1);
  const s = await runLoop({ session, executor: ex, budget: resolveBudget({ fevals: 50 }, { told: 0, bracketsOpened: 0 }, Date.now()), makeTask });
  assert.equal(s.reason, 'budget');
  assert.equal(session.told, 50);
  assert.equal(session.state.asked, 50);
  assert.equal(ex.maxInFlight, 4);
  assert.equal(session.history.records().length, 50);
  assert.equal(session.history.trajectory.length, 50);
});

test('brackets budget: 4 brackets on 1..27/eta 3 sequentially = 65 evaluations, all brackets finished', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(1, sphere);
  const s = await runLoop({ session, executor: ex, budget: resolveBudget({ brackets: 4 }, { told: 0, bracketsOpened: 0 }, Date.now()), makeTask });
  assert.equal(s.reason, 'brackets');
  assert.equal(session.told, 65);
  assert.equal(session.state.iterationCounter, 3);
  assert.equal(session.state.brackets.length, 0);
});

test('brackets budget with 4 workers runs the same 65 evaluations (brackets overlap, none beyond the limit)', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(4, sphere, (t) => 1 + (t.trialId % 2));
  await runLoop({ session, executor: ex, budget: resolveBudget({ brackets: 4 }, { told: 0, bracketsOpened: 0 }, Date.now()), makeTask });
  assert.equal(session.told, 65);
  assert.ok(session.history.records().every((r) => r.bracketId < 4));
});

test('a second loop with a relative brackets budget finishes half-done brackets, then opens new ones', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(1, sphere);
  await runLoop({ session, executor: ex, budget: resolveBudget({ fevals: 50 }, { told: 0, bracketsOpened: 0 }, Date.now()), makeTask });
  assert.equal(session.state.brackets.length, 1, 'bracket 1 is half done after 50 evaluations');
  const b = resolveBudget({ brackets: 1 }, { told: session.told, bracketsOpened: session.state.iterationCounter + 1 }, Date.now());
  await runLoop({ session, executor: ex, budget: b, makeTask });
  // bracket 1 (13 evaluations, 10 left) is finished and bracket 2 (8) runs: 50 + 3 + 8
  assert.equal(session.told, 61);
  assert.equal(session.state.iterationCounter, 2);
  assert.equal(session.state.brackets.length, 0);
});

test('runtime budget arms a timer only when chosen and stops asking at the deadline', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(2, sphere, () => 20);
  const t0 = Date.now();
  const s = await runLoop({ session, executor: ex, budget: resolveBudget({ runtimeMs: 150 }, { told: 0, bracketsOpened: 0 }, t0), makeTask });
  assert.equal(s.reason, 'budget');
  assert.ok(session.told >= 2);
  assert.equal(session.pendingCount, 0, 'running trials finish, none is abandoned');
});

test('failed, NaN and timed-out outcomes are recorded as failed trials and never become the incumbent', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(2, (t) => {
    if (t.trialId % 3 === 0) return { status: 'failed', error: { name: 'Error', message: 'boom' }, retryable: false };
    if (t.trialId % 3 === 1) return { status: 'timed-out', timeoutMs: 5 };
    return -1 - t.trialId;
  });
  await runLoop({ session, executor: ex, budget: totalFevals(30), makeTask });
  const recs = session.history.records();
  assert.equal(recs.filter((r) => r.status === 'failed').length, 10);
  assert.equal(recs.filter((r) => r.status === 'timed-out').length, 10);
  assert.equal(recs.find((r) => r.status === 'failed')?.error?.message, 'boom');
  assert.equal(session.incumbent?.trialId, 29);
  assert.equal(session.incumbent?.fitness, -30);
});

test('a graceful stop asks nothing more and lets running trials finish; a kill leaves them pending', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(3, sphere, () => 30);
  const stop = new AbortController();
  const kill = new AbortController();
  setTimeout(() => stop.abort(), 45);
  setTimeout(() => kill.abort(), 70);
  const s = await runLoop({
    session,
    executor: ex,
    budget: totalFevals(1000),
    makeTask,
    stopSignal: stop.signal,
    killSignal: kill.signal,
  });
  assert.equal(s.reason, 'stopped');
  assert.equal(session.told + session.pendingCount, session.state.asked);
  assert.ok(session.told >= 3 && session.told <= 6, `told ${session.told}`);
});

test('an infrastructure failure stops the run with E_EXECUTOR and leaves the trial pending', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const ex = new FakeExecutor(2, (t) => {
    if (t.trialId === 5) throw new Error('broker unreachable');
    return 1;
  });
  await assert.rejects(
    runLoop({ session, executor: ex, budget: totalFevals(40), makeTask }),
    (err: { code?: string; message: string }) => err.code === 'E_EXECUTOR' && /broker unreachable/.test(err.message),
  );
  assert.ok(session.pendingJob(5) !== undefined);
});

test('resume re-submits pending trials first and the total budget counts them', async () => {
  const journal = new MemoryJournal();
  const first = await RunSession.create(opts, { runId: 'r' }, journal);
  const kill = new AbortController();
  const ex = new FakeExecutor(4, sphere, (t) => (t.trialId >= 20 ? 1000 : 1));
  setTimeout(() => kill.abort(), 100);
  await runLoop({ session: first, executor: ex, budget: totalFevals(40), makeTask, stopSignal: kill.signal, killSignal: kill.signal });
  const pendingBefore = Object.keys(first.state.pending).map(Number).sort((a, b) => a - b);
  assert.ok(pendingBefore.length > 0);

  const resumed = await RunSession.resume(journal);
  assert.deepEqual(resumed.resumedPending.map((j) => j.trialId), pendingBefore);
  const ex2 = new FakeExecutor(4, sphere);
  await runLoop({ session: resumed, executor: ex2, budget: totalFevals(40), makeTask });
  assert.deepEqual(ex2.submitted.slice(0, pendingBefore.length), pendingBefore);
  assert.equal(resumed.told, 40);
  assert.equal(resumed.history.records().filter((r) => r.status === 'ok').length, 40);
});

test('a retryable failure is re-run (up to maxAttempts evaluations) before it is recorded', async () => {
  const session = RunSession.create(opts, { runId: 'r' });
  const seen = new Map<number, number>();
  const ex = new FakeExecutor(2, (t) => {
    const n = (seen.get(t.trialId) ?? 0) + 1;
    seen.set(t.trialId, n);
    if (t.trialId === 2 && n === 1) return { status: 'failed', error: { name: 'ObjectiveError', message: 'CUDA busy' }, retryable: true };
    if (t.trialId === 4) return { status: 'failed', error: { name: 'ObjectiveError', message: 'always busy' }, retryable: true };
    return 1;
  });
  await runLoop({ session, executor: ex, budget: totalFevals(10), makeTask, maxAttempts: 3 });
  assert.equal(seen.get(2), 2);
  assert.equal(session.history.get(2)?.status, 'ok');
  assert.equal(seen.get(4), 3);
  assert.equal(session.history.get(4)?.status, 'failed');
  assert.equal(session.told, 10);
});

test('a slot is freed when its result is queued for the journal; Executor.recorded() waits for the commit', async () => {
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  let gated = false;
  class GatedJournal extends MemoryJournal {
    override async append(entries: Parameters<MemoryJournal['append']>[0]): Promise<number> {
      if (gated) await gate;
      return super.append(entries);
    }
  }
  class AckExecutor extends FakeExecutor {
    recordedIds: number[] = [];
    recorded(task: EvalTask): void {
      this.recordedIds.push(task.trialId);
    }
  }
  const journal = new GatedJournal();
  const session = await RunSession.create(opts, { runId: 'r' }, journal);
  gated = true; // from now on no append completes until the gate opens
  const ex = new AckExecutor(1, sphere);
  const loop = runLoop({ session, executor: ex, budget: totalFevals(6), makeTask });
  for (let i = 0; i < 1000 && ex.submitted.length < 6; i++) await new Promise((r) => setImmediate(r));
  assert.equal(ex.submitted.length, 6, 'all six trials ran, one after the other, while no append was durable');
  assert.deepEqual(ex.recordedIds, [], 'nothing acknowledged before its fsync');
  open();
  await loop;
  assert.deepEqual(ex.recordedIds, [0, 1, 2, 3, 4, 5]);
  assert.equal((await journal.read()).filter((e) => e.type === 'told').length, 6);
});

test('a journaled run of evaluations that finish at once still gives the event loop turns (journal writes complete during the run)', async () => {
  class CountingJournal extends MemoryJournal {
    appends = 0;
    override async append(entries: Parameters<MemoryJournal['append']>[0]): Promise<number> {
      await new Promise((r) => setImmediate(r)); // completes only when the event loop gets a turn, like a write
      this.appends++;
      return super.append(entries);
    }
  }
  const journal = new CountingJournal();
  const session = await RunSession.create(opts, { runId: 'r' }, journal);
  const before = journal.appends;
  let turns = 0;
  const tick = setInterval(() => turns++, 0);
  try {
    const ex = new FakeExecutor(1, sphere); // resolves in microtasks only
    await runLoop({ session, executor: ex, budget: totalFevals(2000), makeTask });
  } finally {
    clearInterval(tick);
  }
  // without turns, all 6,000 entries would wait for the backlog limit (4,000) and go in 2 appends
  assert.ok(journal.appends - before >= 10, `${journal.appends - before} appends for 2000 trials`);
  assert.ok(turns >= 1);
  assert.equal((await journal.read()).filter((e) => e.type === 'told').length, 2000);
});
