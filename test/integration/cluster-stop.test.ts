// A stop (the run loop's interrupt) on a cluster executor with a healthy broker, on a real Redis
// and real `dehb worker` processes:
// - a running trial finishes and is recorded; the trials no worker has taken resolve as cancelled
//   at once instead of holding the stop (a run whose workers are all busy, gone or done);
// - a run (cancelOnClose) removes their waiting jobs, so no worker evaluates them after the stop;
// - a study term (cancelOnClose false) leaves them queued: a worker evaluates them later and the
//   next executor of the run (the next lease holder) re-attaches their results, each trial run once.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import type { EvalOutcome } from '../../src/protocol/executor.js';
import { SHARED_REDIS } from '../fixtures/cluster/redis.js';
import { executorBed, readLog, task, waitForLog } from '../fixtures/cluster/harness.js';

const quiet = (): void => undefined;

async function waitingJobs(prefix: string): Promise<string[]> {
  const q = new Queue('evals', { connection: { host: SHARED_REDIS.host, port: SHARED_REDIS.port }, prefix });
  try {
    return (await q.getJobs(['wait', 'prioritized', 'delayed'])).map((j) => j.id as string).sort();
  } finally {
    await q.close();
  }
}

describe('a stopped cluster run (cancelOnClose): running trials finish, waiting ones are removed', { timeout: 120_000 }, () => {
  const bed = executorBed('stop-run', { runId: 'sr', capacity: 4, log: quiet, reconcileIntervalMs: 500 });

  it('the running trial is recorded, the 3 queued ones resolve cancelled and never run', async () => {
    const log = join(bed.dir, 'run.log');
    const w = await bed.worker();
    const outs = [0, 1, 2, 3].map((i) => bed.exec.submit(task('sr', i, { x: i, sleepMs: i === 0 ? 1_500 : 50, log })));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.trial === 0));
    bed.exec.interrupt();
    const rest = await Promise.all(outs.slice(1));
    for (const o of rest) {
      assert.equal(o.status, 'cancelled', JSON.stringify(o));
      assert.match((o as Extract<EvalOutcome, { status: 'cancelled' }>).reason ?? '', /stopped before a worker took it/);
    }
    const first = await outs[0];
    assert.equal(first.status, 'ok', 'the running trial finished after the stop');
    assert.equal(first.worker?.pid, w.pid);
    assert.deepEqual(await waitingJobs(bed.prefix), [], 'no job of the stopped run is left waiting');
    await new Promise((r) => setTimeout(r, 500)); // a worker that took one anyway would have started it
    assert.deepEqual([...new Set(readLog(log).map((l) => l.trial))], [0], 'only the running trial ran');
  });
});

describe('a stopped study term (cancelOnClose false): waiting jobs stay queued for the next lease holder', { timeout: 120_000 }, () => {
  const bed = executorBed('stop-study', { runId: 'study.s', capacity: 4, log: quiet, reconcileIntervalMs: 500, cancelOnClose: false });

  it('with no worker, every trial resolves cancelled at once; a later executor of the run gets their results, each run once', async () => {
    const log = join(bed.dir, 'study.log');
    const tasks = [0, 1, 2].map((i) => task('study.s', i, { x: i, sleepMs: 20, log }));
    const outs = tasks.map((t) => bed.exec.submit(t));
    await new Promise((r) => setTimeout(r, 300)); // added to the queue: nobody takes them
    bed.exec.interrupt();
    for (const o of await Promise.all(outs)) {
      assert.equal(o.status, 'cancelled', JSON.stringify(o));
      assert.match((o as Extract<EvalOutcome, { status: 'cancelled' }>).reason ?? '', /left queued for the next lease holder/);
    }
    await bed.exec.close({ force: true });
    assert.deepEqual(await waitingJobs(bed.prefix), ['study.s-0', 'study.s-1', 'study.s-2'], 'the jobs stay queued');

    await bed.worker();
    await waitForLog(log, (l) => l.filter((x) => x.kind === 'E').length === 3);
    const next = await createClusterExecutor({ schedulerFile: bed.file, runId: 'study.s', capacity: 4, log: quiet, reconcileIntervalMs: 500, cancelOnClose: false });
    try {
      const again = await Promise.all(tasks.map((t) => next.submit(t)));
      assert.deepEqual(again.map((o) => o.status), ['ok', 'ok', 'ok']);
      assert.deepEqual(again.map((o) => (o.status === 'ok' ? o.fitness : null)), [0, 1, 2]);
      assert.deepEqual(readLog(log).filter((l) => l.kind === 'S').map((l) => l.trial).sort(), [0, 1, 2], 'each trial ran once');
    } finally {
      await next.close({ force: true });
    }
  });
});
