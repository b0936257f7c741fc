// Fair share between runs sharing workers: a run with -n 32 and one with -n 4 on the same two
// `dehb worker` processes (one slot each). While both runs have work, the workers serve them about
// equally (by default each run gets the same share, whatever its capacity), measured from the
// order the objective logged the trials' starts: counts, not times. Before fair share the -n 4 run
// got about its share of queued jobs (4 of 36, ~11%).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupPrefix, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';

/** Starts logged while both runs were being served: from the later run's first start to the earlier end. */
function sharesWhileBoth(lines: Array<{ run: string }>, runs: string[]): Map<string, number> {
  const first = runs.map((r) => lines.findIndex((l) => l.run === r));
  const last = runs.map((r) => lines.length - 1 - [...lines].reverse().findIndex((l) => l.run === r));
  const window = lines.slice(Math.max(...first), Math.min(...last) + 1);
  return new Map(runs.map((r) => [r, window.filter((l) => l.run === r).length]));
}

describe('cluster: fair share between runs', { timeout: 180_000 }, () => {
  it('a -n 4 run is not starved by a -n 32 run on the same workers', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-fair-'));
    const prefix = uniquePrefix('fair');
    const file = join(dir, 'sched.json');
    const space = join(dir, 'space.json');
    const log = join(dir, 'starts.log');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    await writeFileFor(file, prefix);
    const env = { DEHB_TEST_SLEEP_MS: '100', DEHB_TEST_LOG: log };
    const workerArgs = ['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '1'];
    const workers: CliProc[] = [spawnCli(workerArgs, { env }), spawnCli(workerArgs, { env })];
    const common = ['--cluster', '--scheduler-file', file, '--space', space, '--objective', join(FIXTURE_DIR, 'share-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '60', '--quiet'];
    try {
      await Promise.all(workers.map((w) => w.waitFor(/serving queue/)));
      const big = spawnCli(['run', ...common, '-n', '32', '--run-id', 'big', '--output', join(dir, 'big')]);
      const small = spawnCli(['run', ...common, '-n', '4', '--run-id', 'small', '--output', join(dir, 'small')]);
      for (const p of [big, small]) assert.equal((await p.exited).code, 0, p.err());
      const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => ({ run: l.split(' ')[1] as string }));
      const got = sharesWhileBoth(lines, ['big', 'small']);
      const both = (got.get('big') ?? 0) + (got.get('small') ?? 0);
      assert.ok(both >= 20, `the runs overlapped for ${both} trials: ${JSON.stringify([...got])}`);
      const share = (got.get('small') ?? 0) / both;
      t.diagnostic(`starts while both ran: ${JSON.stringify([...got])}, -n 4 run's share ${share.toFixed(2)}`);
      // fair share 0.5; by share of queued jobs it would be ~0.11
      assert.ok(share >= 0.3 && share <= 0.7, `-n 4 run's share while both ran: ${share.toFixed(2)} (${JSON.stringify([...got])})`);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await cleanupPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--weight must be a positive number, said in the flag\'s words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-fair-'));
    const file = join(dir, 'sched.json');
    try {
      await writeFileFor(file, uniquePrefix('fairw'));
      writeFileSync(join(dir, 'space.json'), JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
      const p = spawnCli(['run', '--cluster', '--scheduler-file', file, '--weight', '0', '--space', join(dir, 'space.json'), '--objective', join(FIXTURE_DIR, 'share-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '4', '--output', join(dir, 'out')]);
      const { code } = await p.exited;
      assert.notEqual(code, 0);
      assert.match(p.err(), /--weight must be a number > 0/);
      assert.doesNotMatch(p.err(), /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
