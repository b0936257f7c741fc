// Worker faults on a real Redis, with short lock/stall settings (lock 2 s, stall check 1 s):
// - a worker SIGKILLed mid-trial: the trial runs again on another worker and is recorded once;
// - a worker cut off (SIGSTOP past its lock) and coming back: its late result is dropped;
// - a worker dying more often than --max-stalled-count allows: the trial fails (retryable);
// - SIGTERM: a running trial finishes within the grace period, or is handed back at once;
// - SIGTERM while Redis is gone: the worker still exits.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { SHARED_REDIS, startPrivateRedis, uniquePrefix } from '../fixtures/cluster/redis.js';
import { executorBed, FIXTURE_DIR, readLog, startWorkerProc, task, waitFor, waitForLog, writeFileFor } from '../fixtures/cluster/harness.js';

const quiet = (): void => undefined;

describe('cluster faults: workers', { timeout: 120_000 }, () => {
  const bed = executorBed('faults', { runId: 'f', capacity: 4, log: quiet, reconcileIntervalMs: 500 });
  const { dir, prefix, procs, completed, worker } = bed;

  it('a worker killed with SIGKILL mid-trial: the trial runs again on another worker and is recorded once', async () => {
    const log = join(dir, 'kill.log');
    const a = await worker();
    const out = bed.exec.submit(task('f', 1, { x: 1, sleepMs: 60_000, retrySleepMs: 50, log }));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === a.pid));
    const b = await worker();
    const killedAt = Date.now();
    a.kill('SIGKILL');
    const o = await out;
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(o.worker?.pid, b.pid);
    const lines = readLog(log);
    assert.deepEqual(lines.map((l) => `${l.kind}${l.pid === a.pid ? 'a' : 'b'}`), ['Sa', 'Sb', 'Eb']);
    await waitFor(() => completed.get('f-1') === 1);
    process.stdout.write(`# SIGKILL: trial re-ran and finished ${Date.now() - killedAt} ms after the kill (lock 2 s, stall check 1 s)\n`);
  });

  it('a worker cut off past its lock and coming back: its late result is ignored, nothing counted twice', async () => {
    const log = join(dir, 'stop.log');
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    const a = await worker();
    const t2 = task('f', 2, { x: 2, sleepMs: 3_000, retrySleepMs: 1_500, log });
    const out = bed.exec.submit(t2);
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === a.pid));
    a.kill('SIGSTOP');
    const b = await worker();
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === b.pid), 30_000);
    a.kill('SIGCONT');
    await a.waitFor(/job f-2: lost its lock/);
    const o = await out;
    assert.equal(o.status, 'ok');
    assert.equal(o.worker?.pid, b.pid, 'the result of the worker that held the lock is recorded');
    bed.exec.recorded(t2); // as the run loop does once its journal has the result
    await waitForLog(log, (l) => l.some((x) => x.kind === 'E' && x.pid === b.pid));
    await waitFor(() => completed.get('f-2') === 1);
    const redis = new Redis({ host: SHARED_REDIS.host, port: SHARED_REDIS.port });
    await waitFor(async () => (await redis.exists(`${prefix}:evals:f-2`)) === 0); // the finished job (its result) goes once recorded
    redis.disconnect();
    await new Promise((r) => setTimeout(r, 300)); // give a (wrong) second completion the chance to show up
    assert.equal(completed.get('f-2'), 1, 'exactly one completion for the trial');
  });

  it('a trial whose workers keep dying fails, retryable, once --max-stalled-count take-overs are used up', async () => {
    const log = join(dir, 'limit.log');
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    const a = await worker(['--max-stalled-count', '0']);
    const out = bed.exec.submit(task('f', 5, { x: 5, sleepMs: 60_000, log }));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === a.pid));
    await worker(['--max-stalled-count', '0']);
    a.kill('SIGKILL');
    const o = await out;
    assert.equal(o.status, 'failed', JSON.stringify(o));
    if (o.status === 'failed') {
      assert.equal(o.retryable, true);
      assert.match(o.error.message, /job f-5 was abandoned by workers too many times .*--max-stalled-count/);
    }
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 1, 'no second run after the limit');
    const queue = new Queue('evals', { connection: { host: SHARED_REDIS.host, port: SHARED_REDIS.port }, prefix });
    await waitFor(async () => (await queue.getJobState('f-5')) === 'unknown');
    await queue.close();
  });

  it('SIGTERM: a running trial finishes within the grace period, then the worker exits', async () => {
    const log = join(dir, 'grace.log');
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    const w = await worker(['--grace-ms', '10000']);
    const out = bed.exec.submit(task('f', 3, { x: 3, sleepMs: 700, log }));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
    w.kill('SIGTERM');
    const o = await out;
    assert.equal(o.status, 'ok');
    assert.equal(o.worker?.pid, w.pid);
    assert.equal((await w.exited).code, 0);
    assert.match(w.err(), /stopped \(1 results stored, 0 handed back\)/);
  });

  it('SIGTERM: a trial still running after the grace period is handed back at once and runs elsewhere', async () => {
    const log = join(dir, 'handback.log');
    const w = await worker(['--grace-ms', '300']);
    const out = bed.exec.submit(task('f', 4, { x: 4, sleepMs: 60_000, retrySleepMs: 50, log }));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === w.pid));
    w.kill('SIGTERM');
    assert.equal((await w.exited).code, 0);
    assert.match(w.err(), /stopped \(0 results stored, 1 handed back\)/);
    const queue = new Queue('evals', { connection: { host: SHARED_REDIS.host, port: SHARED_REDIS.port }, prefix });
    // 'prioritized': the coordinator's fair share gives every job a priority (waiting jobs with one)
    assert.ok(['waiting', 'prioritized'].includes(await queue.getJobState('f-4')), 'back in the queue, not left to the stall check');
    await queue.close();
    const other = await worker();
    const o = await out;
    assert.equal(o.status, 'ok');
    assert.equal(o.worker?.pid, other.pid);
  });

  it('SIGTERM to the whole step (worker and its command objective, as SLURM scancel does): the trial is handed back, not failed', async () => {
    const log = join(dir, 'step.log');
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    const w = await worker(['--grace-ms', '10000']);
    const cmd = { kind: 'command' as const, argv: [join(FIXTURE_DIR, 'command-objective.mjs')] };
    const out = bed.exec.submit(task('f', 6, { x: 6, sleepMs: 60_000, retrySleepMs: 50, log }, cmd));
    const started = await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
    const child = (started[0] as { pid: number }).pid;
    w.kill('SIGTERM');
    process.kill(child, 'SIGTERM');
    assert.equal((await w.exited).code, 0);
    assert.match(w.err(), /stopped \(0 results stored, 1 handed back\)/);
    await worker();
    const o = await out;
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 2, 'ran again after the hand-back');
  });
});

describe('cluster faults: SIGTERM while Redis is gone', { timeout: 60_000 }, () => {
  it('the worker hands back what it can and exits; the coordinator closes without hanging', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-gone-'));
    const redis = await startPrivateRedis();
    const prefix = uniquePrefix('gone');
    const file = join(dir, 'sched.json');
    try {
      await writeFileFor(file, prefix, redis.port);
      const log = join(dir, 'gone.log');
      const w = await startWorkerProc(file, ['--concurrency', '1', '--grace-ms', '300']);
      const exec = await createClusterExecutor({ schedulerFile: file, runId: 'g', capacity: 1, log: quiet, closeTimeoutMs: 500 });
      void exec.submit(task('g', 1, { x: 1, sleepMs: 60_000, log })).catch(() => undefined);
      await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
      await redis.kill();
      w.kill('SIGTERM');
      const { code } = await w.exited;
      assert.equal(code, 0, w.err());
      assert.match(w.err(), /stopped/);
      await exec.close({ force: true });
    } finally {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
