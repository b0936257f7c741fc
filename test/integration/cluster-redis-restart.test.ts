// Redis killed (SIGKILL) and restarted on the same port with AOF on, in the middle of a run:
// the coordinator and two worker processes reconnect and every trial completes exactly once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { startPrivateRedis, uniquePrefix } from '../fixtures/cluster/redis.js';
import { readLog, startWorkerProc, task, waitForLog, writeFileFor, type WorkerProc } from '../fixtures/cluster/harness.js';

describe('cluster faults: Redis restart', { timeout: 120_000 }, () => {
  it('coordinator and workers reconnect after a Redis restart (AOF) and the run completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-restart-'));
    const redis = await startPrivateRedis({ aof: true });
    const file = join(dir, 'sched.json');
    const procs: WorkerProc[] = [];
    const notes: string[] = [];
    try {
      await writeFileFor(file, uniquePrefix('restart'), redis.port);
      procs.push(await startWorkerProc(file, ['--concurrency', '2']), await startWorkerProc(file, ['--concurrency', '2']));
      const exec = await createClusterExecutor({ schedulerFile: file, runId: 'rr', capacity: 4, reconcileIntervalMs: 500, log: (m) => notes.push(m) });
      const log = join(dir, 'trials.log');
      const n = 30;
      const outs = Array.from({ length: n }, (_, i) => exec.submit(task('rr', i, { x: i, sleepMs: 150, log })));
      await waitForLog(log, (l) => l.filter((x) => x.kind === 'E').length >= 6);
      await redis.kill();
      await new Promise((r) => setTimeout(r, 1_000));
      await redis.restart();
      const results = await Promise.all(outs);
      assert.deepEqual(results.map((o) => (o.status === 'ok' ? o.fitness : o.status)), Array.from({ length: n }, (_, i) => i));
      const ends = readLog(log).filter((l) => l.kind === 'E');
      for (let i = 0; i < n; i++) assert.ok(ends.some((l) => l.trial === i), `trial ${i} finished`);
      process.stdout.write(`# restart: ${ends.length} evaluations for ${n} trials (re-runs after the crash: ${ends.length - n}); stats ${JSON.stringify(exec.stats)}\n`);
      await exec.close();
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
