// The cluster protocol on a real Redis with `dehb worker` processes: a trial's result arrives with
// its job's completion (the completed event carries the job's returnvalue; no results hash, no
// read before each add, no sweep needed), the finished job holding it stays until the run has
// recorded it and is then removed (nothing left in Redis), and completed events are untrusted: a
// forged one with an unusable result is checked against the job and never recorded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { cleanupPrefix, countKeys, SHARED_REDIS, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { readLog, startWorkerProc, task, waitForLog, writeFileFor, type WorkerProc } from '../fixtures/cluster/harness.js';

const quiet = (): void => undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('cluster protocol: results with job completion', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-protocol-'));
  const prefix = uniquePrefix('proto');
  const file = join(dir, 'sched.json');
  const workers: WorkerProc[] = [];
  const redis = new Redis({ host: SHARED_REDIS.host, port: SHARED_REDIS.port });
  // BullMQ's own keys (queue meta, event stream...) and dehb's per-queue ones stay; nothing per job or per run
  const perJob = (keys: string[]): string[] => keys.filter((k) => !/:(events|meta|id|stalled-check|marker|dehb:fair-v)$|:worker-host:/.test(k));

  before(async () => {
    await writeFileFor(file, prefix);
    workers.push(await startWorkerProc(file, ['--concurrency', '2']));
  });
  after(async () => {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    redis.disconnect();
    await cleanupPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every result comes with its completed event; each finished job goes once recorded, before close', async () => {
    // no sweep within the test: every result must come from the events
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'p1', capacity: 4, log: quiet, reconcileIntervalMs: 600_000 });
    const n = 12;
    try {
      const tasks = Array.from({ length: n }, (_, i) => task('p1', i, { x: i, sleepMs: 20 }));
      const outs = await Promise.all(tasks.map((t) => exec.submit(t)));
      assert.deepEqual(outs.map((o) => (o.status === 'ok' ? o.fitness : o.status)), Array.from({ length: n }, (_, i) => i));
      assert.equal(exec.stats.fromEvents, n, 'all from completed events');
      assert.equal(exec.stats.fromSweep + exec.stats.reattached, 0);
      assert.equal(await redis.exists(sharedConnection(prefix).resultsKey), 0, 'no results hash is written');
      // until recorded, each result is durable in its finished job
      for (let i = 0; i < n; i++) assert.ok((await redis.hget(`${prefix}:evals:p1-${i}`, 'returnvalue')) !== null, `job p1-${i} keeps its result`);
      for (const t of tasks) exec.recorded(t);
      const deadline = Date.now() + 20_000;
      while (perJob(await countKeys(prefix)).length > 0) {
        assert.ok(Date.now() < deadline, `left after recording: ${perJob(await countKeys(prefix)).join(', ')}`);
        await sleep(20);
      }
      assert.equal(await redis.zcard(`${prefix}:evals:completed`), 0);
    } finally {
      await exec.close();
    }
    assert.deepEqual(perJob(await countKeys(prefix)), [], 'nothing per job or run is left after close');
  });

  it('a forged completed event with an unusable result is checked against the job, not recorded; the real result is', async () => {
    const log = join(dir, 'forged.log');
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'p2', capacity: 2, log: quiet, reconcileIntervalMs: 600_000 });
    try {
      const out = exec.submit(task('p2', 1, { x: 7, sleepMs: 1_500, log }));
      await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
      const events = `${prefix}:evals:events`;
      for (const rv of ['{"status":"ok","fitness":"high"}', 'not json', '{"status":"ok","fitness":1,"worker":{"pid":"x"}}']) {
        await redis.xadd(events, '*', 'event', 'completed', 'jobId', 'p2-1', 'returnvalue', rv, 'prev', 'active');
      }
      // a forged event for a job of this run that does not exist creates nothing
      await redis.xadd(events, '*', 'event', 'completed', 'jobId', 'p2-9', 'returnvalue', '{"status":"ok","fitness":0}', 'prev', 'active');
      const o = await out;
      assert.equal(o.status, 'ok', JSON.stringify(o));
      assert.equal(o.status === 'ok' ? o.fitness : NaN, 7, 'the worker\'s result, not a forged one');
      assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 1, 'ran once');
      assert.equal(await redis.exists(`${prefix}:evals:p2-9`), 0);
    } finally {
      await exec.close();
    }
  });

  it('a finished job whose stored result is unusable is recorded as the worker\'s failure, naming the field', async () => {
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'p3', capacity: 2, log: quiet, reconcileIntervalMs: 600_000 });
    const log = join(dir, 'bad.log');
    try {
      const t = task('p3', 1, { x: 3, sleepMs: 1_500, log });
      const out = exec.submit(t);
      await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
      // someone with Redis access rewrites the job's result and announces it
      const job = `${prefix}:evals:p3-1`;
      await redis.hset(job, 'returnvalue', '{"status":"ok","fitness":"high"}', 'finishedOn', String(Date.now()));
      await redis.xadd(`${prefix}:evals:events`, '*', 'event', 'completed', 'jobId', 'p3-1', 'returnvalue', '{"status":"ok","fitness":"high"}', 'prev', 'active');
      const o = await out;
      assert.equal(o.status, 'failed', JSON.stringify(o));
      assert.match(o.status === 'failed' ? o.error.message : '', /unusable result for job p3-1: .*fitness/);
    } finally {
      await exec.close({ force: true });
    }
  });
});

describe('cluster protocol: worker prefetch', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-prefetch-'));
  const prefix = uniquePrefix('prefetch');
  const file = join(dir, 'sched.json');
  const redis = new Redis({ host: SHARED_REDIS.host, port: SHARED_REDIS.port });
  let worker: WorkerProc;

  before(async () => {
    await writeFileFor(file, prefix);
    worker = await startWorkerProc(file, ['--concurrency', '1', '--prefetch', '1']);
  });
  after(async () => {
    worker.kill('SIGTERM');
    await worker.exited;
    redis.disconnect();
    await cleanupPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('--prefetch 1 holds the next job while one runs, and still runs only --concurrency at once', async () => {
    const log = join(dir, 'prefetch.log');
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'f1', capacity: 4, log: quiet });
    try {
      const outs = Array.from({ length: 4 }, (_, i) => exec.submit(task('f1', i, { x: i, sleepMs: 400, log })));
      // two jobs active on a worker with one slot: one running, one taken ahead
      const deadline = Date.now() + 30_000;
      while ((await redis.llen(`${prefix}:evals:active`)) < 2) {
        assert.ok(Date.now() < deadline, 'the worker never held a second job');
        await sleep(10);
      }
      const done = await Promise.all(outs);
      assert.deepEqual(done.map((o) => (o.status === 'ok' ? o.fitness : o.status)), [0, 1, 2, 3]);
      // never two evaluations at once: every start comes after the previous end
      const lines = readLog(log).filter((l) => l.kind === 'S' || l.kind === 'E');
      let running = 0;
      for (const l of lines) {
        running += l.kind === 'S' ? 1 : -1;
        assert.ok(running <= 1, `two evaluations at once: ${JSON.stringify(lines)}`);
      }
      assert.equal(lines.filter((l) => l.kind === 'S').length, 4, 'each ran once');
    } finally {
      await exec.close();
    }
  });
});
