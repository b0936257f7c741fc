// Several coordinators share one pool of workers: two `dehb run --cluster` runs at once on the same
// two `dehb worker` processes; each run's history has exactly one record per trial and as many
// trials as a local run with the same budget.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupPrefix, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';

describe('cluster: coordinators sharing workers', { timeout: 120_000 }, () => {
  it('two runs at once on the same workers, each with the trial count of a local run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-shared-'));
    const prefix = uniquePrefix('shared');
    const file = join(dir, 'sched.json');
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 }, k: { type: 'categorical', choices: ['a', 'b'] } }));
    await writeFileFor(file, prefix);
    const env = { DEHB_TEST_SLEEP_MS: '20' };
    const workerArgs = ['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '3'];
    const workers: CliProc[] = [spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env })];
    const common = ['--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--brackets', '4', '--quiet'];
    const history = async (out: string): Promise<Array<{ trialId: number; status: string; worker: { pid?: number } | null; queueWaitMs?: number }>> => {
      const show = spawnCli(['show', out, '--format', 'json']);
      assert.equal((await show.exited).code, 0, show.err());
      return (JSON.parse(show.out()) as { trials: Array<{ trialId: number; status: string; worker: { pid?: number } | null; queueWaitMs?: number }> }).trials;
    };
    try {
      await Promise.all(workers.map((w) => w.waitFor(/serving queue/)));
      const runs = ['alpha', 'beta'].map((id, i) =>
        spawnCli(['run', '--cluster', '--scheduler-file', file, ...common, '--seed', String(i + 1), '-n', '4', '--run-id', id, '--output', join(dir, id)], { env }),
      );
      const local = spawnCli(['run', ...common, '--seed', '1', '-n', '2', '--output', join(dir, 'local')], { env: { ...env, DEHB_TEST_LOG: '' } });
      for (const p of [...runs, local]) assert.equal((await p.exited).code, 0, p.err());

      const localTrials = await history(join(dir, 'local'));
      // 1..9, eta 3: brackets of 13, 4 and 3 evaluations, then 13 again
      assert.equal(localTrials.length, 33);
      const workerPids = new Set(workers.map((w) => w.proc.pid));
      for (const id of ['alpha', 'beta']) {
        const trials = await history(join(dir, id));
        const ids = trials.map((t) => t.trialId);
        assert.equal(new Set(ids).size, ids.length, `${id}: one record per trial`);
        assert.equal(trials.length, localTrials.length, `${id}: as many trials as the local run`);
        assert.ok(trials.every((t) => t.status === 'ok'));
        assert.ok(trials.every((t) => workerPids.has(t.worker?.pid)), `${id}: evaluated by the shared workers`);
        assert.ok(trials.every((t) => typeof t.queueWaitMs === 'number' && t.queueWaitMs >= 0), `${id}: queue wait recorded apart from the run time`);
      }
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await cleanupPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
