// A cluster worker runs module objectives in threads: a synchronous objective that spins longer
// than the lock duration does not block lock renewal, so the trial is not taken for stalled and
// run a second time; with --no-threads it would be (the event loop is blocked). A worker runs as
// many evaluations at once as its --concurrency asks, even above the node's cores, and reports how
// long each trial waited in the queue apart from its run time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BullmqExecutor } from '../../src/cluster/bullmq/executor.js';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { cleanupPrefix, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, readLog, startWorkerProc, task, writeFileFor, type WorkerProc } from '../fixtures/cluster/harness.js';

describe('cluster worker threads', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-threads-'));
  const prefix = uniquePrefix('threads');
  const file = join(dir, 'sched.json');
  const procs: WorkerProc[] = [];
  let exec: BullmqExecutor;

  before(async () => {
    await writeFileFor(file, prefix);
    exec = await createClusterExecutor({ schedulerFile: file, runId: 't', capacity: 2, log: () => undefined, reconcileIntervalMs: 500 });
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await exec.close({ force: true });
    await cleanupPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a synchronous objective spinning past the lock duration runs once, in a thread', async () => {
    const log = join(dir, 'busy.log');
    procs.push(await startWorkerProc(file, ['--concurrency', '1']));
    procs.push(await startWorkerProc(file, ['--concurrency', '1']));
    const busy = { kind: 'module' as const, path: join(FIXTURE_DIR, 'busy-objective.mjs') };
    const o = await exec.submit(task('t', 1, { x: 3, busyMs: 5_000, log }, busy));
    assert.equal(o.status, 'ok', JSON.stringify(o));
    if (o.status === 'ok') assert.ok(Number(o.info?.threadId) > 0, 'evaluated in a worker thread');
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 1, 'not re-run as stalled (lock 2 s, spin 5 s)');
  });

  it('--concurrency above the cores runs that many at once; queue wait recorded apart', async () => {
    const log = join(dir, 'overlap.log');
    const n = Math.max(4, availableParallelism() + 2);
    const w = await startWorkerProc(file, ['--concurrency', String(n)]);
    procs.push(w);
    await w.waitFor(/warning: --concurrency \d+ is above this node's \d+ cores/);
    const wide = await createClusterExecutor({ schedulerFile: file, runId: 'wide', capacity: n, log: () => undefined, reconcileIntervalMs: 500 });
    try {
      const outs = await Promise.all(Array.from({ length: n }, (_, i) => wide.submit(task('wide', i, { x: i, sleepMs: 4_000, log }))));
      for (const o of outs) {
        assert.equal(o.status, 'ok', JSON.stringify(o));
        assert.equal(typeof o.queueWaitMs, 'number', 'queue wait recorded');
        assert.ok((o.queueWaitMs as number) >= 0);
        assert.ok((o.durationMs as number) >= 4_000, `run time without the wait: ${o.durationMs}`);
      }
      // the objective's own start/end log: every trial started before any ended (a pool capped at
      // the cores would run them in waves: S S E E S S ...)
      const kinds = readLog(log).map((l) => l.kind);
      assert.deepEqual(kinds.slice(0, n), Array<string>(n).fill('S'), kinds.join(' '));
    } finally {
      await wide.close({ force: true });
    }
  });
});
