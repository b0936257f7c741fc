// A coordinator (cluster executor in this process) and `dehb worker` processes on a real Redis:
// N trials complete exactly once across 2 workers, results are matched, nothing is left in Redis,
// re-submitting finished/queued trials re-attaches, and the allow-list refuses with a clear error.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { isDehbError } from '../../src/errors.js';
import { cleanupPrefix, countKeys, SHARED_REDIS, uniquePrefix } from '../fixtures/cluster/redis.js';
import { readLog, startWorkerProc, task, waitForLog, writeFileFor, FIXTURE_DIR, type WorkerProc } from '../fixtures/cluster/harness.js';

const quiet = (): void => undefined;

describe('cluster: coordinator + 2 worker processes', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-cluster-'));
  const prefix = uniquePrefix('two');
  const file = join(dir, 'sched.json');
  const workers: WorkerProc[] = [];

  before(async () => {
    await writeFileFor(file, prefix);
    workers.push(await startWorkerProc(file, ['--concurrency', '3']), await startWorkerProc(file, ['--concurrency', '3']));
  });
  after(async () => {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await cleanupPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('completes N trials exactly once, spread over both workers, leaving nothing in Redis', async () => {
    const log = join(dir, 'two.log');
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'r1', capacity: 6, log: quiet });
    const n = 40;
    const reports: number[] = [];
    try {
      const outs = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          exec.submit(task('r1', i, { x: i, sleepMs: 30, log, report: true }), { onReport: (_s, v) => reports.push(v) }),
        ),
      );
      assert.deepEqual(outs.map((o) => (o.status === 'ok' ? o.fitness : o.status)), Array.from({ length: n }, (_, i) => i));
      const pids = new Set(outs.map((o) => o.worker?.pid));
      assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), 'both workers took trials');
      for (const o of outs) assert.equal((o as { info?: { pid?: number } }).info?.pid, o.worker?.pid);
      assert.equal(reports.length, n, 'progress reports reach the coordinator');
      const lines = readLog(log);
      for (let i = 0; i < n; i++) assert.equal(lines.filter((l) => l.trial === i && l.kind === 'S').length, 1, `trial ${i} ran once`);
    } finally {
      await exec.close(); // also when an assertion failed: its open connections would keep the file alive
    }
    const left = (await countKeys(prefix)).filter((k) => !/:(events|meta|id|stalled-check|marker|dehb:fair-v)$|:worker-host:/.test(k));
    assert.deepEqual(left, [], 'no per-job keys or results are left once recorded');
  });

  it('a trial submitted again after it settled (a retry) is evaluated again, not handed the finished job\'s result', async () => {
    const log = join(dir, 'retry.log');
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'retry', capacity: 2, log: quiet });
    try {
      const t = task('retry', 0, { x: 7, failFirst: true, log });
      const first = await exec.submit(t);
      assert.equal(first.status, 'failed');
      assert.equal(first.status === 'failed' && first.retryable, true);
      const second = await exec.submit(t);
      assert.equal(second.status === 'ok' ? second.fitness : second.status, 7);
      exec.recorded?.(t);
      assert.equal(readLog(log).filter((l) => l.trial === 0 && l.kind === 'S').length, 2, 'the retry ran the objective again');
    } finally {
      await exec.close();
    }
  });

  it('every report reaches the coordinator, also when the sweep reads a result before its progress events', async () => {
    // a sweep every 20 ms settles most trials from the results hash, ahead of the events stream
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'r4', capacity: 6, log: quiet, reconcileIntervalMs: 20 });
    try {
      const n = 30;
      const reports = new Map<number, number[]>();
      const outs = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          exec.submit(task('r4', i, { x: i, sleepMs: 30, report: true }), {
            onReport: (_s, v) => reports.set(i, [...(reports.get(i) ?? []), v]),
          }),
        ),
      );
      assert.deepEqual(outs.map((o) => (o.status === 'ok' ? o.fitness : o.status)), Array.from({ length: n }, (_, i) => i));
      assert.deepEqual(Array.from({ length: n }, (_, i) => reports.get(i)), Array.from({ length: n }, (_, i) => [i / 2]), 'each report once, before the outcome');
      assert.ok(outs.every((o) => !('reports' in o)), 'the outcome itself carries no reports');
    } finally {
      await exec.close();
    }
  });

  it('re-submitting re-attaches: a result that finished with no coordinator listening resolves at once without running, a duplicate submit shares the job', async () => {
    const log = join(dir, 'reattach.log');
    const redis = new Redis({ host: SHARED_REDIS.host, port: SHARED_REDIS.port });
    // a coordinator leaves (killed, or closed without cancelling) while its trial runs
    const gone = await createClusterExecutor({ schedulerFile: file, runId: 'r2', capacity: 4, log: quiet, cancelOnClose: false });
    const t7 = task('r2', 7, { x: 1, sleepMs: 300, log });
    void gone.submit(t7);
    await waitForLog(log, (l) => l.some((x) => x.trial === 7 && x.kind === 'S'));
    await gone.close({ force: true });
    // the trial finishes with no coordinator listening: its result waits in the finished job
    const jobKey = `${prefix}:evals:r2-7`;
    while ((await redis.hget(jobKey, 'finishedOn')) === null) await new Promise((r) => setTimeout(r, 20));
    const exec = await createClusterExecutor({ schedulerFile: file, runId: 'r2', capacity: 4, log: quiet });
    const stored = await exec.submit(t7);
    assert.equal(stored.status, 'ok');
    assert.equal(stored.status === 'ok' ? stored.fitness : NaN, 1);
    assert.equal(exec.stats.reattached, 1);
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 1, 'it did not run again');
    exec.recorded(t7); // as the run loop does once its journal has the result
    while ((await redis.exists(jobKey)) === 1) await new Promise((r) => setTimeout(r, 10)); // removed once recorded
    const a = exec.submit(task('r2', 8, { x: 8, sleepMs: 200, log }));
    const b = exec.submit(task('r2', 8, { x: 8, sleepMs: 200, log }));
    assert.equal(a, b, 'the same promise');
    assert.equal((await a).status, 'ok');
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 2);
    await exec.close();
    redis.disconnect();
  });

  it('a coordinator that leaves without cancelling is replaced by one that re-attaches to the running job', async () => {
    const log = join(dir, 'leave.log');
    const a = await createClusterExecutor({ schedulerFile: file, runId: 'r3', capacity: 2, log: quiet, cancelOnClose: false });
    const p = a.submit(task('r3', 1, { x: 5, sleepMs: 1200, log }));
    await waitForLog(log, (l) => l.some((x) => x.trial === 1 && x.kind === 'S'));
    await a.close({ force: true });
    assert.equal((await p).status, 'cancelled');
    const b = await createClusterExecutor({ schedulerFile: file, runId: 'r3', capacity: 2, log: quiet });
    const out = await b.submit(task('r3', 1, { x: 5, sleepMs: 1200, log }));
    assert.equal(out.status, 'ok');
    assert.equal(b.stats.added, 1, 'the add was a no-op on the existing job');
    assert.equal(readLog(log).filter((l) => l.kind === 'S').length, 1, 'ran once');
    await b.close();
  });
});

describe('cluster: allow-list', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-allow-'));
  const prefix = uniquePrefix('allow');
  const file = join(dir, 'sched.json');
  let worker: WorkerProc;

  before(async () => {
    await writeFileFor(file, prefix);
    worker = await startWorkerProc(file, ['--concurrency', '2']);
  });
  after(async () => {
    worker.kill('SIGTERM');
    await worker.exited;
    await cleanupPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a module outside --allow and a command it was not started with on the queue (nothing runs), and the coordinator says why', async () => {
    const outside = join(dir, 'evil.mjs');
    const marker = join(dir, 'ran');
    writeFileSync(outside, `import { writeFileSync } from 'node:fs';\nexport function objective() { writeFileSync(${JSON.stringify(marker)}, 'x'); return 1; }\n`);
    const said: string[] = [];
    const exec = await createClusterExecutor({
      schedulerFile: file, runId: 'allow', capacity: 3, noWorkerWarnMs: 500, reconcileIntervalMs: 250, log: (m) => said.push(m),
    });
    const mod = exec.submit(task('allow', 1, { x: 1 }, { kind: 'module', path: outside }));
    const cmd = exec.submit(task('allow', 2, { x: 1 }, { kind: 'command', argv: ['/bin/sh', '-c', `touch ${marker}`] }));
    let settled = 0;
    for (const p of [mod, cmd]) void p.then(() => settled++, () => settled++);
    await worker.waitFor(/leaves job allow-1 for other workers: this worker refuses objective module/);
    await worker.waitFor(/leaves job allow-2 for other workers: this worker refuses command .*--command/);
    await waitUntil(() => said.filter((m) => /has waited \d+ s: no connected worker may run it/.test(m)).length === 2);
    assert.match(said.find((m) => /job allow-1/.test(m)) ?? '', new RegExp(`refuses objective module ${outside}.*restart the worker with --allow ${dir}`));
    await assert.rejects(exec.submit(task('allow', 5, { x: 1 }, { kind: 'function', name: 'f' })), (err: unknown) =>
      isDehbError(err, 'E_CONFIG') && /function objectives run in-process only/.test((err as Error).message),
    );
    const ok = await exec.submit(task('allow', 4, { x: 9 }));
    assert.deepEqual([ok.status, ok.status === 'ok' ? ok.fitness : null], ['ok', 9]);
    assert.equal(existsSync(marker), false, 'the refused objectives never ran');
    assert.equal(settled, 0, 'refused trials are not failed: they wait for a worker that may run them');
    await exec.close({ force: true });
  });
});

async function waitUntil(pred: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
