// Coordinator killed (SIGKILL) in the middle of a cluster run; `dehb run --resume` replays the
// journal and re-attaches to the trials still queued or running on the workers (their results
// are taken from Redis), so no finished trial runs again and the history has one record per trial.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupPrefix, countKeys, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, readLog, waitForLog, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';

describe('cluster faults: coordinator killed, then resumed', { timeout: 240_000 }, () => {
  // with --trials-per-job 2 the trials in flight are in batch jobs: the resumed coordinator finds
  // them through the run's batch map and re-attaches to those jobs
  for (const perJob of [undefined, '2']) it(`resume re-attaches to queued and running trials without re-running finished ones${perJob === undefined ? '' : ` (--trials-per-job ${perJob})`}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-resume-'));
    const prefix = uniquePrefix('resume');
    const file = join(dir, 'sched.json');
    const log = join(dir, 'trials.log');
    const out = join(dir, 'run');
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    await writeFileFor(file, prefix);
    const env = { DEHB_TEST_LOG: log, DEHB_TEST_SLEEP_MS: '400' };
    const workerArgs = ['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '2'];
    const workers: CliProc[] = [spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env })];
    const fevals = 24;
    const runArgs = [
      'run', '--cluster', '--scheduler-file', file, '--output', out, '--quiet', ...(perJob === undefined ? [] : ['--trials-per-job', perJob]),
    ];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/serving queue/)));
      const first = spawnCli([
        ...runArgs, '--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'), '--min-fidelity', '1',
        '--max-fidelity', '9', '--eta', '3', '--fevals', String(fevals), '-n', '4', '--run-id', 'resume-run', '--seed', '7',
      ]);
      // kill the coordinator while some trials are done and others run on the workers (the log as
      // it was at the kill: read after the exit, a loaded machine shows trials finished since)
      const atKill = await waitForLog(log, (l) => l.filter((x) => x.kind === 'E').length >= 6 && l.filter((x) => x.kind === 'S').length > l.filter((x) => x.kind === 'E').length);
      first.kill('SIGKILL');
      await first.exited;
      const finishedAtKill = new Set(atKill.filter((x) => x.kind === 'E').map((x) => x.trial));
      const runningAtKill = atKill.filter((x) => x.kind === 'S' && !finishedAtKill.has(x.trial)).map((x) => x.trial);
      assert.ok(runningAtKill.length > 0, 'some trials were running when the coordinator died');
      if (perJob !== undefined) {
        const keys = await countKeys(prefix);
        assert.ok(keys.some((k) => /:resume-run-\d+\.b[0-9a-z]+$/.test(k)), `batch jobs were queued: ${keys.join(' ')}`);
        assert.ok(keys.some((k) => k.endsWith(':dehb:batches:resume-run')), 'with the batch map');
      }

      const second = spawnCli([...runArgs, '--resume']);
      const { code } = await second.exited;
      assert.equal(code, 0, second.err());

      const lines = readLog(log);
      const starts = new Map<number, number>();
      for (const l of lines) if (l.kind === 'S') starts.set(l.trial, (starts.get(l.trial) ?? 0) + 1);
      for (const [trial, n] of starts) assert.equal(n, 1, `trial ${trial} ran ${n} times; killed with ${JSON.stringify(atKill)}; log ${JSON.stringify(lines)}; resume stderr ${second.err()}`);
      for (const t of runningAtKill) assert.equal(starts.get(t), 1, `trial ${t}, running at the kill, was re-attached, not re-run`);

      const show = spawnCli(['show', out, '--format', 'json']);
      assert.equal((await show.exited).code, 0, show.err());
      const shown = JSON.parse(show.out()) as { trials?: Array<{ trialId: number; status: string }> } | Array<{ trialId: number; status: string }>;
      const trials = Array.isArray(shown) ? shown : (shown.trials ?? []);
      const ids = trials.map((t) => t.trialId);
      assert.equal(new Set(ids).size, ids.length, 'one record per trial');
      assert.equal(trials.filter((t) => t.status === 'ok').length, fevals);
      assert.equal(starts.size, fevals, 'every recorded trial ran exactly once');
      const left = (await countKeys(prefix)).filter((k) => !/:(events|meta|id|stalled-check|marker|dehb:fair-v)$|:worker-host:/.test(k));
      assert.deepEqual(left, [], 'nothing left in Redis');
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await cleanupPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
