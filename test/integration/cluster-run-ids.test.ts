// One run's results belong to that run. A fresh `dehb run` (new output directory) started with the
// --run-id of an earlier run that crashed while its jobs were queued is refused with exit 2 and a
// --resume hint (nothing created), instead of taking that run's jobs and results; the crashed run
// resumed re-attaches to its own jobs; a finished run gives its id back. Closing run `exp` never
// deletes the stored results of run `exp-2`.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { clusterKeys } from '../../src/redis/connection.js';
import { ResultsStore } from '../../src/redis/results-store.js';
import { cleanupPrefix, SHARED_REDIS, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';

const connection = { host: SHARED_REDIS.host, port: SHARED_REDIS.port };

describe('cluster run ids', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-runids-'));
  const prefixes: string[] = [];
  const procs: CliProc[] = [];
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const p of prefixes) await cleanupPrefix(p, SHARED_REDIS.port);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a fresh run that reuses the id of a crashed run; the crashed run resumes onto its own jobs', async () => {
    const prefix = uniquePrefix('runids');
    prefixes.push(prefix);
    const file = join(dir, 'sched.json');
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    await writeFileFor(file, prefix, SHARED_REDIS.port);
    const base = ['run', '--cluster', '--scheduler-file', file, '--quiet', '--run-id', 'exp'];
    const fresh = ['--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '6', '-n', '3', '--seed', '1'];
    const a = join(dir, 'a');
    // no worker yet: the first run queues its jobs and is killed
    const first = spawnCli([...base, ...fresh, '--output', a]);
    procs.push(first);
    const queue = new Queue('evals', { connection, prefix });
    try {
      const deadline = Date.now() + 30_000;
      while ((await queue.getJobCountByTypes('waiting', 'prioritized')) < 3) {
        assert.ok(Date.now() < deadline, `jobs were not queued; stderr ${first.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      first.kill('SIGKILL');
      await first.exited;

      const b = join(dir, 'b');
      const second = spawnCli([...base, ...fresh, '--output', b]);
      procs.push(second);
      const r = await second.exited;
      assert.equal(r.code, 2, second.err());
      assert.match(second.err(), new RegExp(`run id "exp" is already used on this cluster by an earlier run \\(run directory ${a}\\).*dehb run --resume --output ${a}`));
      assert.equal(existsSync(b), false, 'the refused run created nothing');
      assert.equal(await queue.getJobCountByTypes('waiting', 'prioritized'), 3, "the crashed run's jobs are untouched");

      const worker = spawnCli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '2']);
      procs.push(worker);
      await worker.waitFor(/serving queue/);
      const resumed = spawnCli([...base.filter((x) => x !== '--run-id' && x !== 'exp'), '--resume', '--output', a]);
      procs.push(resumed);
      assert.equal((await resumed.exited).code, 0, resumed.err());
      const show = spawnCli(['show', a, '--format', 'json']);
      assert.equal((await show.exited).code, 0, show.err());
      const shown = JSON.parse(show.out()) as { trials?: Array<{ status: string }> } | Array<{ status: string }>;
      const trials = Array.isArray(shown) ? shown : (shown.trials ?? []);
      assert.equal(trials.filter((t) => t.status === 'ok').length, 6);

      // finished: the id is free again
      const third = spawnCli([...base, ...fresh, '--fevals', '2', '--output', join(dir, 'c')]);
      procs.push(third);
      assert.equal((await third.exited).code, 0, third.err());
    } finally {
      await queue.close();
    }
  });

  it('refuses an id whose results were left by a run from before claims existed', async () => {
    const prefix = uniquePrefix('runids-old');
    prefixes.push(prefix);
    const file = join(dir, 'old.json');
    const space = join(dir, 'space.json');
    await writeFileFor(file, prefix, SHARED_REDIS.port);
    const redis = new Redis(connection);
    try {
      await redis.hset(clusterKeys(sharedConnection(prefix)).results, 'old-4', JSON.stringify({ status: 'ok', fitness: 1 }));
      const p = spawnCli(['run', '--cluster', '--scheduler-file', file, '--run-id', 'old', '--output', join(dir, 'old'), '--space', space,
        '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '1']);
      procs.push(p);
      assert.equal((await p.exited).code, 2, p.err());
      assert.match(p.err(), /run id "old" is already used on this cluster.*--resume/);
    } finally {
      redis.disconnect();
    }
  });

  it('closing run exp deletes exactly its own finished jobs and stored results, not those of exp-2', async () => {
    const prefix = uniquePrefix('runids-purge');
    prefixes.push(prefix);
    const keys = clusterKeys(sharedConnection(prefix));
    const redis = new Redis(connection);
    try {
      const fields = ['exp-0', 'exp-17', 'exp-2-0', 'exp-2-1', 'expx-3', 'exp-2'];
      for (const f of fields) {
        await redis.hset(keys.results, f, '{}'); // an older version's results hash
        // a finished job kept for its run (job hash, its log, its id in the completed set)
        await redis.hset(`${keys.base}:${f}`, 'returnvalue', '{}', 'finishedOn', '1');
        await redis.rpush(`${keys.base}:${f}:logs`, 'x');
        await redis.zadd(`${keys.base}:completed`, 1, f);
      }
      await new ResultsStore(redis, keys).purgeRun('exp');
      const others = ['exp-2-0', 'exp-2-1', 'expx-3'];
      assert.deepEqual((await redis.hkeys(keys.results)).sort(), others);
      assert.deepEqual((await redis.zrange(`${keys.base}:completed`, 0, -1)).sort(), others);
      for (const f of fields) {
        const kept = others.includes(f) ? 1 : 0;
        assert.equal(await redis.exists(`${keys.base}:${f}`), kept, f);
        assert.equal(await redis.exists(`${keys.base}:${f}:logs`), kept, `${f}:logs`);
      }
    } finally {
      redis.disconnect();
    }
  });
});
