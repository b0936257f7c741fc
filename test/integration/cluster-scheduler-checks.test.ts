// Scheduler-file and `scheduler check` messages tell the truth:
// - `dehb run --cluster` with a malformed scheduler file says so at once (exit 2), no 2-minute wait;
// - `scheduler check` on a node that says cluster mode but cannot tell its slots fails (non-zero);
// - a plain redis:// URL to a server that resets the connection (a TLS port) hints at rediss://;
// - a scheduler file others can read (it holds the password) is used with a warning.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { FIXTURE_DIR, startWorkerProc, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';
import { cleanupPrefix, SHARED_REDIS, uniquePrefix } from '../fixtures/cluster/redis.js';
import { startFakeResp, type FakeResp } from '../fixtures/cluster/resp-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-sched-checks-'));
const procs: CliProc[] = [];
const fakes: FakeResp[] = [];
after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  for (const f of fakes) await f.close();
  rmSync(dir, { recursive: true, force: true });
});

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** A broken Redis Cluster node: INFO says cluster mode, every other command (CLUSTER INFO too) says MOVED. */
async function clusterNode(): Promise<FakeResp> {
  const info = ['# Server', 'redis_version:7.2.0', 'redis_mode:cluster', '# Memory', 'maxmemory_policy:noeviction', 'used_memory:1000', '# Persistence', 'aof_enabled:1', ''].join('\r\n');
  const f = await startFakeResp((argv) => {
    const cmd = (argv[0] ?? '').toUpperCase();
    if (cmd === 'INFO') return bulk(info);
    if (['AUTH', 'CLIENT', 'SELECT', 'PING'].includes(cmd)) return '+OK\r\n';
    return '-MOVED 12182 127.0.0.1:7001\r\n';
  });
  fakes.push(f);
  return f;
}

async function run(args: string[]): Promise<{ code: number | null; err: string }> {
  const p = spawnCli(args);
  procs.push(p);
  const { code } = await p.exited;
  return { code, err: p.err() };
}

describe('scheduler file and check messages', { timeout: 120_000 }, () => {
  it('run --cluster with a malformed scheduler file fails at once (exit 2), naming the file', async () => {
    const file = join(dir, 'malformed.json');
    writeFileSync(file, '{"version": 1, "redisUrl": "redis://127.0.0.1:1/0",');
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: 0, high: 1 } }));
    const r = await run(['run', '--cluster', '--scheduler-file', file, '--wait', '10m', '--space', space,
      '--objective', join(FIXTURE_DIR, 'objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '3', '--fevals', '1', '--output', join(dir, 'r')]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`scheduler file ${file} is not valid JSON`));
  });

  it('check: a cluster node that cannot tell its slots fails the check; the prefix is used as a hash tag', async () => {
    // (a real 3+3 cluster: test/integration/redis-cluster.test.ts)
    const node = await clusterNode();
    const file = join(dir, 'cluster.json');
    await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: `redis://:pw@127.0.0.1:${node.port}/0`, prefix: '{dehb}' }));
    const r = await run(['scheduler', 'check', '--scheduler-file', file]);
    assert.notEqual(r.code, 0, r.err);
    assert.match(r.err, /ok {4}mode: Redis Cluster; prefix \{dehb\} is a hash tag/);
    assert.match(r.err, /ERROR cluster slots: the node says it is in cluster mode but CLUSTER INFO failed \(MOVED 12182 127\.0\.0\.1:7001\)/);

    const plain = join(dir, 'cluster-plain.json');
    await writeSchedulerFile(plain, makeSchedulerFile({ redisUrl: `redis://:pw@127.0.0.1:${node.port}/0`, prefix: 'dehb' }));
    const p = await run(['scheduler', 'check', '--scheduler-file', plain]);
    assert.notEqual(p.code, 0, p.err);
    assert.match(p.err, /ok {4}mode: Redis Cluster; prefix dehb is used as \{dehb\} \(a hash tag\)/);
  });

  it('a plain redis:// URL to a server that resets the connection hints at rediss://', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('data', () => s.resetAndDestroy()); // what a TLS port does with plain text, as ECONNRESET
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const file = join(dir, 'tls.json');
      await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: `redis://:pw@127.0.0.1:${port}/0` }));
      const r = await run(['scheduler', 'check', '--scheduler-file', file, '--timeout', '3000']);
      assert.notEqual(r.code, 0);
      assert.match(r.err, /ECONNRESET.*if it expects TLS, use a rediss:\/\/ URL/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a scheduler file other users can read is used with a warning (worker and run)', async () => {
    const prefix = uniquePrefix('loose');
    const file = join(dir, 'loose.json');
    await writeFileFor(file, prefix, SHARED_REDIS.port);
    chmodSync(file, 0o644);
    const w = await startWorkerProc(file);
    procs.push(w);
    try {
      assert.match(w.err(), /warning: scheduler file .*loose\.json has mode 644: other users can read the Redis password in it; chmod 600/);
      const space = join(dir, 'space.json');
      const r = await run(['run', '--cluster', '--scheduler-file', file, '--space', space, '--objective', join(FIXTURE_DIR, 'objective.mjs'),
        '--min-fidelity', '1', '--max-fidelity', '3', '--fevals', '1', '--quiet', '--output', join(dir, 'loose-run')]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /has mode 644: other users can read the Redis password/);
    } finally {
      w.kill('SIGTERM');
      await w.exited;
      await cleanupPrefix(prefix, SHARED_REDIS.port);
    }
  });
});
