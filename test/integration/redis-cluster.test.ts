// dehb-test: serial
// dehb on a real Redis Cluster: 3 masters + 3 replicas (six redis-server processes, started and
// torn down here). A plain redis:// URL to a master that does not own the queue's slot works
// (cluster mode is detected, the prefix becomes a hash tag); `scheduler check` reports the mode,
// nodes and slots; a `CLUSTER FAILOVER` of the queue's master in the middle of a run with two
// `dehb worker` processes loses and doubles nothing (checked in the journal); a study stored on
// the cluster runs; the queue's master frozen mid-run (SIGSTOP: an unplanned failover) loses and
// doubles nothing either; nodes that announce unreachable addresses work with the file's natMap.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { startRedisCluster, type LocalRedisCluster } from '../fixtures/cluster/redis-cluster.js';
import { FIXTURE_DIR, readLog } from '../fixtures/cluster/harness.js';
import { assertToldOnce, clusterRunArgs, runServedByTwo, withWorkers } from '../fixtures/cluster/cli-run.js';
import { spawnCli } from '../fixtures/cluster/procs.js';
import { runThroughFreeze } from '../fixtures/cluster/redis-failover.js';
import { journalOf, toldIds } from './study-helpers.js';

let cluster: LocalRedisCluster;
const dir = mkdtempSync(join(tmpdir(), 'dehb-rcluster-test-'));

before(async () => {
  cluster = await startRedisCluster();
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function schedulerFile(name: string, redisUrl: string, prefix: string, nodes?: string[]): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeSchedulerFile(file, makeSchedulerFile({ redisUrl, prefix, queue: 'evals', ...(nodes === undefined ? {} : { nodes }) }));
  return file;
}

describe('Redis Cluster (3 masters, 3 replicas)', { timeout: 280_000 }, () => {
  it('a plain redis:// URL to a master without the queue\'s slot: check reports the cluster, a run with 2 workers completes', async () => {
    const prefix = 'plain';
    const queueKey = `{${prefix}}:evals`;
    const other = await cluster.nonOwnerOf(queueKey);
    assert.notEqual(other, await cluster.ownerOf(queueKey));
    const file = await schedulerFile('plain', `redis://127.0.0.1:${other}/0`, prefix);

    await runServedByTwo(file, dir, join(dir, 'plain-run'), 24, {
      log: join(dir, 'plain.log'),
      refuse: /MOVED|CROSSSLOT/,
      // the check reads the queue and the workers' host facts through the cluster too
      whileServed: async () => {
        const check = spawnCli(['scheduler', 'check', '--scheduler-file', file]);
        assert.equal((await check.exited).code, 0, check.err());
        const said = check.err();
        assert.match(said, /ok {4}mode: Redis Cluster, 3 master\(s\) and 3 replica\(s\) of 6 known node\(s\)/);
        for (const p of cluster.ports) assert.ok(said.includes(`127.0.0.1:${p}`), `node ${p} listed: ${said}`);
        assert.match(said, /prefix plain is used as \{plain\} \(a hash tag\)/);
        assert.match(said, /ok {4}cluster slots: cluster_state ok, all 16384 slots served/);
        assert.match(said, /ok {4}queue: 0 waiting, 0 active, 0 delayed, 0 failed; [1-9]\d* worker connection\(s\); 0 unrecorded result\(s\)/);
        assert.equal(said.match(/ok {4}worker \S+: /g)?.length, 2, `both workers' host facts: ${said}`);
        assert.doesNotMatch(said, /MOVED/);
      },
    });
  });

  it('CLUSTER FAILOVER of the queue\'s master mid-run: the run completes, every trial told exactly once', async () => {
    const prefix = 'failover';
    // said by the file: a seed node and more seeds in "nodes"
    const [first, ...rest] = cluster.ports;
    const file = await schedulerFile('failover', `redis://127.0.0.1:${first as number}/0`, prefix, rest.map((p) => `127.0.0.1:${p}`));
    const out = join(dir, 'failover-run');
    const log = join(dir, 'failover.log');
    const fevals = 36;
    let moved: { from: number; to: number } | undefined;
    let endsBefore = 0;
    await withWorkers(file, { DEHB_TEST_LOG: log, DEHB_TEST_SLEEP_MS: '150' }, async () => {
      const run = spawnCli(clusterRunArgs(file, out, fevals, dir));
      // mid-run: some trials finished, most not
      const deadline = Date.now() + 60_000;
      while (readLogSafe(log).filter((l) => l.kind === 'E').length < 6) {
        assert.ok(Date.now() < deadline && run.proc.exitCode === null, `the run did not get going: ${run.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      endsBefore = readLogSafe(log).filter((l) => l.kind === 'E').length;
      moved = await cluster.failover(`{${prefix}}:evals`);
      const { code } = await run.exited;
      assert.equal(code, 0, run.err());
    });
    assert.ok(moved !== undefined && moved.from !== moved.to);
    assert.equal(await cluster.ownerOf(`{${prefix}}:evals`), moved.to, 'the replica is the master of the queue now');
    assert.ok(endsBefore < fevals - 6, `the failover came mid-run (${endsBefore} of ${fevals} done)`);
    assertToldOnce(out, fevals);
  });

  it('a study stored on the cluster: create and optimize complete, trials told once each', async () => {
    const url = `${cluster.clusterUrl}?prefix=dehbstudy:`;
    const space = join(dir, 'study-space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    const create = spawnCli([
      'study', 'create', 'onc', '--storage', url, '--space', space, '--min-fidelity', '1', '--max-fidelity', '9',
      '--objective', join(FIXTURE_DIR, 'objective.mjs'), '--seed', '7',
    ]);
    assert.equal((await create.exited).code, 0, create.err());
    const opt = spawnCli(['optimize', 'onc', '--storage', url, '--fevals', '10', '-n', '2', '--json']);
    assert.equal((await opt.exited).code, 0, opt.err());
    assert.equal((JSON.parse(opt.out()) as { toldTotal: number }).toldTotal, 10);
    const told = toldIds(await journalOf(url, 'onc'));
    assert.deepEqual([...told].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i), 'trials 0..9 told once each');
    // a plain URL to any master opens the same storage (cluster detected, same hash-tagged keys)
    const plain = `redis://127.0.0.1:${cluster.ports[2] as number}/0?prefix=dehbstudy:`;
    assert.equal(toldIds(await journalOf(plain, 'onc')).length, 10);
  });


  it('the queue\'s master dies mid-run (SIGSTOP: a dead machine, no reset): its replica takes over, the run completes, every trial told once', async () => {
    await runThroughFreeze(cluster, dir, 'dead');
  });

  it('nodes behind NAT (announcing addresses nobody listens on): without natMap the queue cannot be read, with the scheduler file\'s natMap a run completes', async () => {
    const natMap = await cluster.announceOtherPorts();
    const seed = `redis://127.0.0.1:${cluster.ports[0] as number}/0`;
    const lost = await schedulerFile('nat-none', seed, 'nat');
    const check = spawnCli(['scheduler', 'check', '--scheduler-file', lost]);
    await check.exited;
    assert.match(check.err(), /cannot read the queue/, 'the announced addresses are not reachable');
    const file = join(dir, 'nat.json');
    await writeSchedulerFile(file, { ...makeSchedulerFile({ redisUrl: seed, prefix: 'nat', queue: 'evals' }), natMap });
    await runServedByTwo(file, dir, join(dir, 'nat-run'), 12, {
      whileServed: async () => {
        const ok = spawnCli(['scheduler', 'check', '--scheduler-file', file]);
        assert.equal((await ok.exited).code, 0, ok.err());
        assert.match(ok.err(), /ok {4}queue: 0 waiting/);
      },
    });
  });
});

function readLogSafe(path: string): ReturnType<typeof readLog> {
  try {
    return readLog(path);
  } catch {
    return [];
  }
}
