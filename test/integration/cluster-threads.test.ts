// A cluster worker runs module objectives in threads: a synchronous objective that spins longer
// than the lock duration does not block lock renewal, so the trial is not taken for stalled and
// run a second time; with --no-threads it would be (the event loop is blocked).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClusterExecutor, type BullmqExecutor } from '../../src/cluster/bullmq/executor.js';
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
});
