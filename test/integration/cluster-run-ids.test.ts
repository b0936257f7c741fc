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
      assert.ok(second.err().includes(`give that run up for good with \`dehb scheduler forget exp --scheduler-file ${file}\``), second.err());
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

  it('dehb scheduler forget gives up a crashed run for good: asks for --yes, refuses a live run, leaves running jobs and exp-2 alone, frees the id', async () => {
    const prefix = uniquePrefix('runids-forget');
    prefixes.push(prefix);
    const file = join(dir, 'forget.json');
    const space = join(dir, 'space.json');
    const log = join(dir, 'forget.log');
    writeFileSync(log, '');
    await writeFileFor(file, prefix, SHARED_REDIS.port);
    const keys = clusterKeys(sharedConnection(prefix));
    const run = (id: string, out: string, fevals = 3): CliProc => {
      const p = spawnCli(['run', '--cluster', '--scheduler-file', file, '--quiet', '--run-id', id, '--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'),
        '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', String(fevals), '-n', '3', '--seed', '1', '--output', join(dir, out)]);
      procs.push(p);
      return p;
    };
    const forget = async (...args: string[]): Promise<{ code: number | null; err: string; out: string }> => {
      const p = spawnCli(['scheduler', 'forget', ...args, '--scheduler-file', file]);
      procs.push(p);
      const r = await p.exited;
      return { code: r.code, err: p.err(), out: p.out() };
    };
    const queue = new Queue('evals', { connection, prefix });
    const redis = new Redis(connection);
    const jobIds = async (): Promise<string[]> => (await queue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed'])).map((j) => j.id as string).sort();
    const waitQueued = async (n: number, p: CliProc): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while ((await queue.getJobCountByTypes('waiting', 'prioritized')) < n) {
        assert.ok(Date.now() < deadline, `jobs were not queued; stderr ${p.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      // two crashed runs, `gone` and `gone-2`, each with 3 jobs queued (no worker yet)
      for (const [id, n] of [['gone', 3], ['gone-2', 6]] as const) {
        const p = run(id, `f-${id}`);
        await waitQueued(n, p);
        p.kill('SIGKILL');
        await p.exited;
      }
      const before = await jobIds();
      assert.equal(before.length, 6);

      // not a terminal and no --yes: says what is there, removes nothing
      const asked = await forget('gone');
      assert.equal(asked.code, 2, asked.err);
      assert.match(asked.err, new RegExp(`run "gone": claimed by an earlier run \\(run directory ${join(dir, 'f-gone')}\\); 3 job\\(s\\) queued or finished, 0 running`));
      assert.match(asked.err, /refusing to forget run "gone" without --yes/);
      assert.deepEqual(await jobIds(), before);

      // a run whose coordinator is connected is refused
      const live = run('live', 'f-live');
      await waitQueued(9, live);
      // dehb scheduler runs lists the three, with their jobs, run directories and the live coordinator
      const list = spawnCli(['scheduler', 'runs', '--scheduler-file', file, '--json']);
      procs.push(list);
      assert.equal((await list.exited).code, 0, list.err());
      const runs = JSON.parse(list.out()) as Array<{ runId: string; queued: number; running: number; finished: number; output: string | null; coordinator: string | null }>;
      assert.deepEqual(runs.map((r) => [r.runId, r.queued, r.running, r.finished, r.output, r.coordinator === null]), [
        ['gone', 3, 0, 0, join(dir, 'f-gone'), true],
        ['gone-2', 3, 0, 0, join(dir, 'f-gone-2'), true],
        ['live', 3, 0, 0, join(dir, 'f-live'), false],
      ]);
      const table = spawnCli(['scheduler', 'runs', '--scheduler-file', file]);
      procs.push(table);
      assert.equal((await table.exited).code, 0, table.err());
      assert.match(table.out(), /^run\s+queued\s+running\s+finished\s+coordinator\s+run directory\n/);
      assert.match(table.out(), /\nlive\s+3\s+0\s+0\s+connected \([\d.:]+\)\s+\S+f-live\n/);
      assert.match(table.err(), /dehb scheduler forget RUN_ID --scheduler-file/);
      const refused = await forget('live', '--yes');
      assert.equal(refused.code, 2, refused.err);
      assert.match(refused.err, /run "live" is running: its coordinator is connected to Redis \(from [\d.:]+\)/);
      live.kill('SIGKILL');
      await live.exited;

      // forgotten: its 3 jobs and its claim, nothing of gone-2's or live's
      const done = await forget('gone', '--yes', '--json');
      assert.equal(done.code, 0, done.err);
      assert.match(done.err, /forgot run "gone": removed 3 job\(s\) and its claim; the id is free/);
      assert.deepEqual(JSON.parse(done.out), { runId: 'gone', removed: 3, running: [], claimReleased: true });
      const after1 = await jobIds();
      assert.deepEqual(after1.filter((id) => /^gone-\d+$/.test(id)), [], "gone's jobs are removed");
      assert.deepEqual(after1.filter((id) => id.startsWith('gone-2-')), before.filter((id) => id.startsWith('gone-2-')), "gone-2's jobs stay");
      assert.equal(after1.filter((id) => id.startsWith('live-')).length, 3, "live's jobs stay");
      assert.equal(await redis.exists(`${keys.base}:dehb:run:gone`), 0);
      assert.equal(await redis.exists(`${keys.base}:dehb:run:gone-2`), 1, "gone-2's claim stays");
      // a claim Redis holds in another form (hostile or damaged) is shown as such and removed too
      await redis.set(`${keys.base}:dehb:run:odd`, 'not json');
      const odd = await forget('odd', '--yes');
      assert.equal(odd.code, 0, odd.err);
      assert.match(odd.err, /run "odd": claimed \(the claim is not in the form dehb writes\); 0 job\(s\)[\s\S]*forgot run "odd": removed 0 job\(s\) and its claim/);
      assert.equal(await redis.exists(`${keys.base}:dehb:run:odd`), 0);
      // a run id that is not one (a glob) is refused before anything is looked at
      const glob = await forget('gone*', '--yes');
      assert.equal(glob.code, 2, glob.err);
      assert.match(glob.err, /<run-id>/);
      const again = await forget('gone', '--yes');
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, /run "gone" left nothing on this queue: the id is free/);

      // a job a worker is running is left (and the claim with it) until it ends
      await forget('gone-2', '--yes');
      const worker = spawnCli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '3'], { env: { DEHB_TEST_SLEEP_MS: '20000', DEHB_TEST_LOG: log } }); // running longer than a forget takes to start under load
      procs.push(worker);
      await worker.waitFor(/serving queue/);
      const deadline = Date.now() + 30_000;
      while ((await queue.getJobCountByTypes('active')) < 3) {
        assert.ok(Date.now() < deadline, `live's jobs did not start; worker ${worker.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const busy = await forget('live', '--yes', '--json');
      assert.equal(busy.code, 1, busy.err);
      assert.match(busy.err, /removed 0 job\(s\) of run "live"; 3 still run on workers \(live-0, live-1, live-2\), so its claim stays: forget it again once they end/);
      assert.equal(await redis.exists(`${keys.base}:dehb:run:live`), 1);
      while ((await queue.getJobCountByTypes('active')) > 0) await new Promise((r) => setTimeout(r, 100));
      const finished = spawnCli(['scheduler', 'runs', '--scheduler-file', file, '--json']);
      procs.push(finished);
      assert.equal((await finished.exited).code, 0, finished.err());
      assert.deepEqual((JSON.parse(finished.out()) as Array<{ runId: string; queued: number; running: number; finished: number }>).map((r) => [r.runId, r.queued, r.running, r.finished]), [['live', 0, 0, 3]], 'finished jobs wait for a coordinator that is gone');
      const ended = await forget('live', '--yes');
      assert.equal(ended.code, 0, ended.err);
      assert.match(ended.err, /forgot run "live": removed 3 job\(s\) and its claim/);

      // the ids are free: fresh runs under them finish (on a worker with short trials)
      worker.kill('SIGTERM');
      await worker.exited;
      const quick = spawnCli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '3'], { env: { DEHB_TEST_SLEEP_MS: '30' } });
      procs.push(quick);
      await quick.waitFor(/serving queue/);
      const fresh = run('gone', 'f-gone-new', 2);
      assert.equal((await fresh.exited).code, 0, fresh.err());
      assert.deepEqual(await jobIds(), [], 'nothing of any of these runs is left');
    } finally {
      await queue.close();
      redis.disconnect();
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
