// Batch jobs (trialsPerJob / --trials-per-job) on a real Redis with `dehb worker` processes (lock
// 2 s, stall check 1 s): trials submitted together go as one job and each gets its own outcome
// and reports; a worker SIGKILLed mid-batch: the job runs again elsewhere, each trial recorded
// once; SIGTERM mid-batch: the finished trial's outcome is kept, the rest handed back and run
// singly; cancelling one trial of a batch leaves the others; a retry of a member goes singly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { sharedConnection } from '../fixtures/cluster/redis.js';
import { readHostFacts } from '../../src/redis/host-facts-store.js';
import { closeRedis, clusterKeys, createRedis } from '../../src/redis/connection.js';
import { executorBed, readLog, task, waitFor, waitForLog } from '../fixtures/cluster/harness.js';

const quiet = (): void => undefined;

describe('cluster: several trials per job', { timeout: 180_000 }, () => {
  const bed = executorBed('batches', { runId: 'b', capacity: 8, trialsPerJob: 3, log: quiet, reconcileIntervalMs: 500 });
  const { dir, prefix, file, procs, completed, worker } = bed;
  const conn = sharedConnection(prefix);
  let trial = 0;

  const stopAll = async (): Promise<void> => {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    procs.length = 0;
  };
  const batchIds = (): string[] => [...completed.keys()].filter((id) => /^b-\d+\.b/.test(id));

  it('trials submitted together go as batch jobs; each trial gets its own outcome and reports', async () => {
    await worker(['--concurrency', '2']);
    const ids = Array.from({ length: 6 }, () => ++trial);
    const reports = new Map<number, Array<[number, number]>>();
    const outs = await Promise.all(
      ids.map((id) => bed.exec.submit(task('b', id, { x: id, report: true }), { onReport: (s, v) => reports.set(id, [...(reports.get(id) ?? []), [s, v]]) })),
    );
    for (const [i, o] of outs.entries()) {
      const id = ids[i] as number;
      assert.equal(o.status, 'ok', JSON.stringify(o));
      assert.equal(o.status === 'ok' ? o.fitness : NaN, id, 'its own outcome');
      assert.deepEqual(reports.get(id), [[1, id / 2]], 'its own report, once');
    }
    assert.equal(bed.exec.stats.batchJobs, 2, JSON.stringify(bed.exec.stats));
    assert.equal(bed.exec.stats.batchedTrials, 6);
    await waitFor(() => batchIds().length === 2);
    for (const id of ids) assert.equal(completed.get(`b-${id}`), undefined, 'no job of its own');
    await stopAll();
  });

  it('a worker killed with SIGKILL mid-batch: the job runs again on another worker, each trial recorded once', async () => {
    const log = join(dir, 'kill.log');
    const a = await worker();
    const [t1, t2] = [++trial, ++trial];
    const before = batchIds().length;
    const outs = Promise.all([
      bed.exec.submit(task('b', t1, { x: 1, sleepMs: 60_000, retrySleepMs: 50, log })),
      bed.exec.submit(task('b', t2, { x: 2, sleepMs: 50, log })),
    ]);
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.pid === a.pid));
    const b = await worker();
    a.kill('SIGKILL');
    const [o1, o2] = await outs;
    assert.equal(o1.status, 'ok', JSON.stringify(o1));
    assert.equal(o2.status, 'ok', JSON.stringify(o2));
    assert.equal(o1.worker?.pid, b.pid);
    assert.deepEqual(readLog(log).map((l) => `${l.kind}${l.trial === t1 ? 1 : 2}${l.pid === a.pid ? 'a' : 'b'}`), ['S1a', 'S1b', 'E1b', 'S2b', 'E2b']);
    await waitFor(() => batchIds().length === before + 1);
    assert.ok(batchIds().every((id) => completed.get(id) === 1), 'each batch job completed once');
    await stopAll();
  });

  it('SIGTERM mid-batch: the finished trial is kept, the rest is handed back and runs singly', async () => {
    const log = join(dir, 'term.log');
    const a = await worker(['--grace-ms', '300']);
    const [t1, t2, t3] = [++trial, ++trial, ++trial];
    const outs = Promise.all([
      bed.exec.submit(task('b', t1, { x: 1, sleepMs: 50, log })),
      bed.exec.submit(task('b', t2, { x: 2, sleepMs: 60_000, retrySleepMs: 50, log })),
      bed.exec.submit(task('b', t3, { x: 3, sleepMs: 50, log })),
    ]);
    await waitForLog(log, (l) => l.some((x) => x.kind === 'E' && x.trial === t1) && l.some((x) => x.kind === 'S' && x.trial === t2));
    a.kill('SIGTERM');
    assert.equal((await a.exited).code, 0, a.err());
    const b = await worker();
    const [o1, o2, o3] = await outs;
    for (const o of [o1, o2, o3]) assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(o1.worker?.pid, a.pid, 'the outcome finished before the stop is kept');
    assert.equal(o2.worker?.pid, b.pid);
    assert.equal(o3.worker?.pid, b.pid);
    const starts = readLog(log).filter((l) => l.kind === 'S');
    assert.deepEqual(starts.map((l) => `${l.trial === t1 ? 1 : l.trial === t2 ? 2 : 3}${l.pid === a.pid ? 'a' : 'b'}`).sort(), ['1a', '2a', '2b', '3b']);
    await waitFor(() => completed.get(`b-${t2}`) === 1 && completed.get(`b-${t3}`) === 1);
    await stopAll();
  });

  it('cancelling one trial of a batch: a running one stops, a waiting one never starts, the others run', async () => {
    const log = join(dir, 'cancel.log');
    await worker();
    const [t1, t2, t3] = [++trial, ++trial, ++trial];
    const stop1 = new AbortController();
    const stop2 = new AbortController();
    const outs = Promise.all([
      bed.exec.submit(task('b', t1, { x: 1, sleepMs: 60_000, log }), { signal: stop1.signal }),
      bed.exec.submit(task('b', t2, { x: 2, sleepMs: 50, log }), { signal: stop2.signal }),
      bed.exec.submit(task('b', t3, { x: 3, sleepMs: 50, log })),
    ]);
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S' && x.trial === t1));
    // cancels go out in order on one channel: the waiting trial's reaches the worker first
    stop2.abort();
    stop1.abort();
    const [o1, o2, o3] = await outs;
    assert.equal(o1.status, 'cancelled');
    assert.equal(o2.status, 'cancelled');
    assert.equal(o3.status, 'ok', JSON.stringify(o3));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'E' && x.trial === t3));
    const lines = readLog(log);
    assert.ok(!lines.some((l) => l.kind === 'E' && l.trial === t1), 'the running trial was stopped');
    assert.ok(!lines.some((l) => l.trial === t2), 'the waiting trial never started');
    await stopAll();
  });

  it('a retryable failure inside a batch is retried singly under its .r2 job id', async () => {
    const log = join(dir, 'retry.log');
    await worker();
    const [t1, t2] = [++trial, ++trial];
    const first = task('b', t1, { x: 1, failFirst: true, log });
    const [o1, o2] = await Promise.all([bed.exec.submit(first), bed.exec.submit(task('b', t2, { x: 2, log }))]);
    assert.equal(o1.status === 'failed' && o1.retryable, true, JSON.stringify(o1));
    assert.equal(o2.status, 'ok');
    const again = await bed.exec.submit(first);
    assert.equal(again.status, 'ok', JSON.stringify(again));
    await waitFor(() => completed.get(`b-${t1}.r2`) === 1);
    await stopAll();
  });

  it('auto: trivial trials get packed once the overhead is measured and the workers\' slots are known', async () => {
    const w = await worker(['--concurrency', '2']);
    // the coordinator counts the slots workers publish with their host facts
    const facts = createRedis(conn.endpoint, 'dehb:test-facts');
    try {
      await waitFor(async () => (await readHostFacts(facts, clusterKeys(conn))).hosts.some((h) => h.pid === w.pid && h.concurrency === 2));
    } finally {
      await closeRedis(facts);
    }
    const auto = await createClusterExecutor({ schedulerFile: file, runId: 'auto', capacity: 16, log: quiet, reconcileIntervalMs: 300 });
    try {
      let t = 0;
      for (let round = 0; round < 60 && auto.stats.batchJobs === 0; round++) {
        const outs = await Promise.all(Array.from({ length: 16 }, () => auto.submit(task('auto', ++t, { x: 1 }))));
        for (const o of outs) assert.equal(o.status, 'ok', JSON.stringify(o));
        await new Promise((r) => setTimeout(r, 100)); // lets the background read of the workers' slots land
      }
      assert.ok(auto.stats.batchJobs > 0, `batch jobs after ${t} trials: ${JSON.stringify(auto.stats)}`);
      // two jobs per slot at least: 16 in flight on 2 slots (or more: a killed worker's facts
      // stay until they expire) is at most 4 per job
      assert.ok(auto.stats.batchedTrials / auto.stats.batchJobs <= 4, JSON.stringify(auto.stats));
    } finally {
      await auto.close();
      await stopAll();
    }
  });
});
