// Infrastructure faults are not trial results, each against a real private redis-server:
// - a result a worker cannot hand in (its completion refused: OOM under noeviction) keeps the trial
//   pending and is delivered once Redis is healthy, never recorded as a failed trial;
// - jobs the coordinator cannot add (READONLY replica) wait and go out once Redis accepts writes;
// - a Redis that answers only errors (NOAUTH after a password change; MOVED from a fake RESP server
//   on loopback) makes the coordinator stop with E_BROKER quoting the server, within its broker
//   timeout (brokerTimeoutMs / --broker-timeout);
// - close(), Ctrl-C and SIGTERM with Redis gone return promptly (exit 130, journal consistent).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { BullmqExecutor } from '../../src/cluster/bullmq/executor.js';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { isDehbError } from '../../src/errors.js';
import { freePort, sharedConnection, startPrivateRedis, uniquePrefix, type PrivateRedis } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, startWorkerProc, task, waitForLog, writeFileFor, type WorkerProc } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';
import { startRespProxy, type RespProxy } from '../fixtures/cluster/resp-proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-broker-faults-'));
const servers: PrivateRedis[] = [];
const procs: Array<WorkerProc | CliProc> = [];
const execs: BullmqExecutor[] = [];
const proxies: RespProxy[] = [];
const clients: Redis[] = [];

after(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(execs.map((e) => e.close({ force: true })));
  for (const c of clients) c.disconnect();
  for (const p of proxies) await p.close();
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function setup(tag: string, port?: number): Promise<{ redis: PrivateRedis; admin: Redis; prefix: string; file: string; said: string[]; exec: (o?: { brokerTimeoutMs?: number; port?: number }) => Promise<BullmqExecutor> }> {
  const redis = await startPrivateRedis();
  servers.push(redis);
  const admin = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  clients.push(admin);
  const prefix = uniquePrefix(tag);
  const file = join(dir, `${tag}.json`);
  await writeFileFor(file, prefix, port ?? redis.port);
  const said: string[] = [];
  const exec = async (o: { brokerTimeoutMs?: number; port?: number } = {}): Promise<BullmqExecutor> => {
    const e = await createClusterExecutor({
      connection: sharedConnection(prefix, { endpoint: { host: '127.0.0.1', port: o.port ?? redis.port, db: 0 } }),
      runId: tag, capacity: 4, reconcileIntervalMs: 200, log: (m) => said.push(m),
      ...(o.brokerTimeoutMs === undefined ? {} : { brokerTimeoutMs: o.brokerTimeoutMs }),
    });
    execs.push(e);
    return e;
  };
  return { redis, admin, prefix, file, said, exec };
}

async function worker(file: string): Promise<WorkerProc> {
  const w = await startWorkerProc(file, ['--concurrency', '1']);
  procs.push(w);
  return w;
}

describe('broker faults: results that cannot be stored stay pending', { timeout: 120_000 }, () => {
  it('OOM under noeviction while completing: the trial is not failed; its result arrives once memory is back', async () => {
    const s = await setup('oom');
    const w = await worker(s.file);
    const e = await s.exec();
    const log = join(dir, 'oom.log');
    const out = e.submit(task('oom', 1, { x: 5, sleepMs: 800, log }));
    await waitForLog(log, (l) => l.some((x) => x.kind === 'S'));
    await s.admin.config('SET', 'maxmemory', '1');
    // the worker cannot store the result (or even renew its lock: then the trial runs again later)
    await w.waitFor(/OOM command not allowed/);
    await new Promise((r) => setTimeout(r, 1_000));
    await s.admin.config('SET', 'maxmemory', '0');
    const o = await out;
    assert.equal(o.status, 'ok', JSON.stringify(o));
  });

  it('READONLY (the server became a replica): jobs wait to be queued and run once it accepts writes', async () => {
    const s = await setup('readonly');
    await worker(s.file);
    const e = await s.exec();
    await s.admin.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    const out = e.submit(task('readonly', 1, { x: 6 }));
    const deadline = Date.now() + 20_000;
    while (!s.said.some((m) => /READONLY/.test(m))) {
      assert.ok(Date.now() < deadline, `no READONLY warning: ${JSON.stringify(s.said)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await s.admin.call('REPLICAOF', 'NO', 'ONE');
    const o = await out;
    assert.equal(o.status, 'ok', JSON.stringify(o));
  });
});

describe('broker faults: a Redis that answers only errors stops the coordinator with E_BROKER', { timeout: 120_000 }, () => {
  it('NOAUTH after the password changed: E_BROKER with the server\'s words within brokerTimeoutMs', async () => {
    const s = await setup('noauth');
    const e = await s.exec({ brokerTimeoutMs: 1_500 });
    const out = e.submit(task('noauth', 1, { x: 1 }));
    await s.admin.config('SET', 'requirepass', 'changed');
    await s.admin.client('KILL', 'TYPE', 'normal');
    await assert.rejects(out, (err: unknown) => isDehbError(err, 'E_BROKER') && /NOAUTH|Authentication required/.test((err as Error).message));
  });

  it('MOVED to every command (fake RESP server): E_BROKER quoting MOVED within brokerTimeoutMs', async () => {
    const s = await setup('moved');
    const proxy = await startRespProxy(s.redis.port);
    proxies.push(proxy);
    const e = await s.exec({ brokerTimeoutMs: 1_500, port: proxy.port });
    const out = e.submit(task('moved', 1, { x: 1 }));
    await new Promise((r) => setTimeout(r, 300));
    proxy.answerMoved();
    await assert.rejects(out, (err: unknown) => isDehbError(err, 'E_BROKER') && /MOVED 3999/.test((err as Error).message));
  });

  it('dehb run --broker-timeout: with MOVED everywhere the run exits 1 saying E_BROKER; SIGTERM exits 130 at once', async () => {
    const s = await setup('moved-cli');
    const proxy = await startRespProxy(s.redis.port);
    proxies.push(proxy);
    const file = join(dir, 'moved-cli-proxy.json');
    await writeFileFor(file, s.prefix, proxy.port);
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    const args = (out: string, extra: string[]) => [
      'run', '--cluster', '--scheduler-file', file, '--output', out, '--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'),
      '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '4', '-n', '2', '--quiet', ...extra,
    ];
    const queued = async (): Promise<void> => {
      const deadline = Date.now() + 30_000;
      // fair share queues jobs with a priority: they wait in the prioritized set, not the wait list
      while ((await s.admin.llen(`${s.prefix}:evals:wait`)) + (await s.admin.zcard(`${s.prefix}:evals:prioritized`)) === 0) {
        assert.ok(Date.now() < deadline, 'no job was queued');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const first = spawnCli(args(join(dir, 'moved-a'), ['--broker-timeout', '2s', '--run-id', 'moved-a']));
    procs.push(first);
    await queued();
    proxy.answerMoved();
    const r = await first.exited;
    assert.equal(r.code, 1, first.err());
    assert.match(first.err(), /answered commands with errors for more than 2 s; its last answer: .*MOVED 3999/);

    // the default broker timeout is 2 minutes: SIGTERM meanwhile stops the run at once, exit 130
    await s.admin.del(`${s.prefix}:evals:wait`, `${s.prefix}:evals:prioritized`);
    const proxy2 = await startRespProxy(s.redis.port);
    proxies.push(proxy2);
    await writeFileFor(file, s.prefix, proxy2.port);
    const out = join(dir, 'moved-b');
    const second = spawnCli(args(out, ['--run-id', 'moved-b']));
    procs.push(second);
    await queued();
    proxy2.answerMoved();
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    second.kill('SIGTERM');
    const r2 = await second.exited;
    process.stdout.write(`# SIGTERM with MOVED everywhere: exit ${r2.code} after ${Date.now() - t0} ms\n`);
    assert.equal(r2.code, 130, second.err());
    const show = spawnCli(['show', out, '--format', 'json']);
    assert.equal((await show.exited).code, 0, show.err());
    assert.doesNotMatch(show.out(), /"status":\s*"failed"/);
  });
});

describe('broker faults: stopping with Redis gone', { timeout: 120_000 }, () => {
  it('close() with Redis gone returns; submissions in flight resolve cancelled (left for a resume)', async () => {
    const s = await setup('close');
    const e = await s.exec();
    const out = e.submit(task('close', 1, { x: 1 }));
    await new Promise((r) => setTimeout(r, 300));
    await s.redis.kill();
    const t0 = Date.now();
    await e.close();
    process.stdout.write(`# close() with Redis gone took ${Date.now() - t0} ms\n`);
    const o = await out;
    assert.equal(o.status, 'cancelled');
  });

  it('Ctrl-C of dehb run with Redis gone exits 130; the journal shows the trials pending, none failed', async () => {
    const s = await setup('sigint');
    await worker(s.file);
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    const out = join(dir, 'sigint-run');
    const log = join(dir, 'sigint.log');
    const run = spawnCli([
      'run', '--cluster', '--scheduler-file', s.file, '--output', out, '--space', space, '--objective', join(FIXTURE_DIR, 'resume-objective.mjs'),
      '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '4', '-n', '1', '--quiet',
    ], { env: { DEHB_TEST_LOG: log, DEHB_TEST_SLEEP_MS: '60000' } });
    procs.push(run);
    // the worker inherits no env from the run: the objective sleeps its default; wait for a job to be taken
    const deadline = Date.now() + 30_000;
    while (
      (await s.admin.llen(`${s.prefix}:evals:wait`).catch(() => 0)) === 0 &&
      (await s.admin.zcard(`${s.prefix}:evals:prioritized`).catch(() => 0)) === 0 &&
      (await s.admin.llen(`${s.prefix}:evals:active`).catch(() => 0)) === 0
    ) {
      assert.ok(Date.now() < deadline, run.err());
      await new Promise((r) => setTimeout(r, 50));
    }
    await s.redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    run.kill('SIGINT');
    const r = await run.exited;
    process.stdout.write(`# Ctrl-C with Redis gone: exit ${r.code} after ${Date.now() - t0} ms\n`);
    assert.equal(r.code, 130, run.err());
    const show = spawnCli(['show', out, '--format', 'json']);
    assert.equal((await show.exited).code, 0, show.err());
    assert.doesNotMatch(show.out(), /"status":\s*"failed"/);
  });
});
