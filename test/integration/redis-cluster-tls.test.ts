// dehb-test: serial
// dehb on a real Redis Cluster over TLS: 3 masters + 3 replicas speaking only TLS (`--port 0
// --tls-port P`, the cluster bus and replication over TLS too; certificates made with openssl at
// test time, test/fixtures/cluster/redis-tls.ts), through the CLI:
// - a scheduler file with a `rediss+cluster://` URL and "tls.caFile": `scheduler check` reports
//   the cluster and its slots, a `dehb run --cluster` with two `dehb worker`s completes, every trial
//   told exactly once;
// - a plain rediss:// URL to a master that does not own the queue's slot: cluster mode detected
//   over TLS, a run completes;
// - the queue's master frozen mid-run (an unplanned failover): the run completes over TLS;
// - the wrong CA: `scheduler check` and `dehb worker` fail at once with one sentence naming
//   "tls.caFile" (no stack trace, no endless wait);
// - nodes behind NAT announcing unreachable TLS ports: the queue cannot be read without the file's
//   natMap, with it a run completes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSchedulerFile, writeSchedulerFile, type SchedulerFile } from '../../src/protocol/scheduler-file.js';
import { startRedisCluster, type LocalRedisCluster } from '../fixtures/cluster/redis-cluster.js';
import { makeTlsFiles, type TlsFiles } from '../fixtures/cluster/redis-tls.js';
import { FIXTURE_DIR } from '../fixtures/cluster/harness.js';
import { runServedByTwo } from '../fixtures/cluster/cli-run.js';
import { spawnCli } from '../fixtures/cluster/procs.js';
import { runThroughFreeze } from '../fixtures/cluster/redis-failover.js';

let cluster: LocalRedisCluster;
let files: TlsFiles;
const dir = mkdtempSync(join(tmpdir(), 'dehb-rcluster-tls-test-'));

before(async () => {
  files = await makeTlsFiles();
  cluster = await startRedisCluster({ tls: files });
});
after(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (files !== undefined) rmSync(files.dir, { recursive: true, force: true });
});

async function schedulerFile(name: string, redisUrl: string, prefix: string, extra: Partial<SchedulerFile> = {}): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeSchedulerFile(file, { ...makeSchedulerFile({ redisUrl, prefix, queue: 'evals', tls: { caFile: files.ca } }), ...extra });
  return file;
}

/** Runs the CLI to its exit (killed after 60 s: a hang fails the test instead of the suite). */
async function cli(args: string[]): Promise<{ code: number | null; err: string }> {
  const p = spawnCli(args);
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  assert.equal(signal, null, `dehb ${args.join(' ')} did not exit by itself within 60 s: ${p.err()}`);
  return { code, err: p.err() };
}

describe('Redis Cluster over TLS (3 masters, 3 replicas)', { timeout: 280_000 }, () => {
  it('a rediss+cluster:// scheduler file: check reports the cluster, a run with 2 workers completes, every trial told once', async () => {
    assert.match(cluster.clusterUrl, /^rediss\+cluster:\/\//);
    const file = await schedulerFile('tls-cluster', cluster.clusterUrl, 'tlsc');
    await runServedByTwo(file, dir, join(dir, 'tls-run'), 24, {
      log: join(dir, 'tls.log'),
      refuse: /MOVED|CROSSSLOT|ECONNRESET/,
      whileServed: async () => {
        const check = await cli(['scheduler', 'check', '--scheduler-file', file]);
        assert.equal(check.code, 0, check.err);
        assert.match(check.err, /ok {4}mode: Redis Cluster, 3 master\(s\) and 3 replica\(s\) of 6 known node\(s\)/);
        for (const p of cluster.ports) assert.ok(check.err.includes(`127.0.0.1:${p}`), `node ${p} listed: ${check.err}`);
        assert.match(check.err, /ok {4}cluster slots: cluster_state ok, all 16384 slots served/);
        assert.match(check.err, /ok {4}queue: 0 waiting, 0 active, 0 delayed, 0 failed; [1-9]\d* worker connection\(s\); 0 unrecorded result\(s\)/);
        assert.equal(check.err.match(/ok {4}worker \S+: /g)?.length, 2, `both workers' host facts: ${check.err}`);
      },
    });
  });

  it('a plain rediss:// URL to a master without the queue\'s slot: cluster mode detected over TLS, a run completes', async () => {
    const prefix = 'tlsplain';
    const other = await cluster.nonOwnerOf(`{${prefix}}:evals`);
    const file = await schedulerFile('tls-plain', `rediss://127.0.0.1:${other}/0`, prefix);
    await runServedByTwo(file, dir, join(dir, 'tls-plain-run'), 12, { refuse: /MOVED|CROSSSLOT/ });
    const check = await cli(['scheduler', 'check', '--scheduler-file', file]);
    assert.equal(check.code, 0, check.err);
    assert.match(check.err, /prefix tlsplain is used as \{tlsplain\} \(a hash tag\)/);
  });

  it('the wrong CA: scheduler check and dehb worker fail at once, naming tls.caFile', async () => {
    const file = join(dir, 'tls-wrong-ca.json');
    await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: cluster.clusterUrl, prefix: 'tlsbad', queue: 'evals', tls: { caFile: files.otherCa } }));
    for (const args of [
      ['scheduler', 'check', '--scheduler-file', file],
      ['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR],
    ]) {
      const r = await cli(args);
      assert.notEqual(r.code, 0, r.err);
      assert.match(r.err, /tls\.caFile/, `${args[0]}: ${r.err}`);
      assert.doesNotMatch(r.err, /\n\s+at \S+ \(|node:internal/, 'no stack trace');
    }
  });

  it('the queue\'s master frozen mid-run (SIGSTOP): its replica takes over, clients reconnect over TLS, every trial told once', async () => {
    await runThroughFreeze(cluster, dir, 'tlsdead', { tls: { caFile: files.ca } });
  });

  it('nodes behind NAT announcing unreachable TLS ports: with the scheduler file\'s natMap a run completes', async () => {
    const natMap = await cluster.announceOtherPorts();
    const seed = `rediss+cluster://127.0.0.1:${cluster.ports[0] as number}`;
    const lost = await cli(['scheduler', 'check', '--scheduler-file', await schedulerFile('tls-nat-none', seed, 'tlsnat')]);
    assert.match(lost.err, /cannot read the queue/, 'the announced addresses are not reachable');
    const file = await schedulerFile('tls-nat', seed, 'tlsnat', { natMap });
    await runServedByTwo(file, dir, join(dir, 'tls-nat-run'), 12, {
      whileServed: async () => {
        const ok = await cli(['scheduler', 'check', '--scheduler-file', file]);
        assert.equal(ok.code, 0, ok.err);
        assert.match(ok.err, /ok {4}queue: 0 waiting/);
      },
    });
  });
});
