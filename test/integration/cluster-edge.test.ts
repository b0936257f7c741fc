// Cluster details that need no worker processes: the worker's allow-list rules (symlinks, `..`,
// exact commands), connection errors and the eviction-policy warning at executor creation, a
// worker waiting for a late scheduler file, and per-worker GPU allocation.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isDehbError } from '../../src/errors.js';
import { ObjectivePolicy } from '../../src/cluster/bullmq/allow-list.js';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { startClusterWorker } from '../../src/cluster/bullmq/worker-runtime.js';
import { cleanupPrefix, freePort, SHARED_REDIS, sharedConnection, startPrivateRedis, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, task, writeFileFor } from '../fixtures/cluster/harness.js';
import { eventually } from '../helpers/processes.js';

const quiet = (): void => undefined;
const dir = mkdtempSync(join(tmpdir(), 'dehb-edge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('worker allow-list rules', () => {
  it('allows only the --objective module, exact --command, and files really under --allow', async () => {
    const allowed = join(dir, 'allowed');
    const outside = join(dir, 'outside');
    mkdirSync(allowed);
    mkdirSync(outside);
    writeFileSync(join(allowed, 'ok.mjs'), '');
    writeFileSync(join(allowed, 'run.sh'), '');
    writeFileSync(join(outside, 'evil.mjs'), '');
    symlinkSync(join(outside, 'evil.mjs'), join(allowed, 'link.mjs'));
    const p = await ObjectivePolicy.create({ allow: [allowed], objective: join(outside, 'chosen.mjs'), command: ['python3', 'train.py'] });
    assert.equal(await p.check({ kind: 'module', path: join(allowed, 'ok.mjs') }), null);
    assert.equal(await p.check({ kind: 'module', path: join(outside, 'chosen.mjs') }), null);
    assert.match((await p.check({ kind: 'module', path: join(allowed, '..', 'outside', 'evil.mjs') })) ?? '', /refuses objective module .*evil\.mjs/);
    assert.match((await p.check({ kind: 'module', path: join(allowed, 'link.mjs') })) ?? '', /refuses/, 'a symlink out of the allowed tree is refused');
    assert.equal(await p.check({ kind: 'command', argv: ['python3', 'train.py'] }), null);
    assert.match((await p.check({ kind: 'command', argv: ['python3', 'train.py', '--x'] })) ?? '', /refuses command/);
    assert.equal(await p.check({ kind: 'command', argv: [join(allowed, 'run.sh'), '--fast'] }), null);
    // a relative executable resolves against the worker's own directory, never a cwd the job names
    assert.match((await p.check({ kind: 'command', argv: ['./run.sh'], cwd: allowed })) ?? '', /refuses command/);
    const inAllowed = await ObjectivePolicy.create({ allow: [allowed], cwd: allowed });
    assert.equal(await inAllowed.check({ kind: 'command', argv: ['./run.sh'] }), null);
    assert.match((await p.check({ kind: 'command', argv: [join(allowed, 'run.sh')], shell: true })) ?? '', /a job cannot ask for a shell/);
    assert.match((await p.check({ kind: 'command', argv: ['python3', 'train.py'], shell: true })) ?? '', /a job cannot ask for a shell/, 'not even the exact --command');
    assert.match((await p.check({ kind: 'function', name: 'f' })) ?? '', /in-process only/);
    // an --allow that is not a directory (a typo, a program name, a file) is refused at start, naming the flag
    for (const entry of [join(dir, 'no-such-dir'), 'python3', join(allowed, 'ok.mjs')]) {
      await assert.rejects(ObjectivePolicy.create({ allow: [allowed, entry] }), (err: unknown) =>
        isDehbError(err, 'E_CONFIG') && (err as Error).message.startsWith(`--allow ${entry}: `) && /is not a directory; --allow takes directories/.test((err as Error).message));
    }
    // a symlink to a directory is one (its target is what is allowed)
    symlinkSync(allowed, join(dir, 'allowed-link'));
    assert.equal(await (await ObjectivePolicy.create({ allow: [join(dir, 'allowed-link')] })).check({ kind: 'module', path: join(allowed, 'ok.mjs') }), null);
    const none = await ObjectivePolicy.create({});
    assert.equal(none.allowsNothing, true);
    assert.match((await none.check({ kind: 'module', path: join(allowed, 'ok.mjs') })) ?? '', /allowed: nothing \(start the worker with --allow DIR/);
  });
});

describe('cluster connections', { timeout: 60_000 }, () => {
  it('fails fast with E_BROKER on a wrong password or a closed port, and on a bad run id with E_CONFIG', async () => {
    const redis = await startPrivateRedis({ password: 'right' });
    try {
      const conn = { ...sharedConnection('x'), endpoint: { host: '127.0.0.1', port: redis.port, db: 0, password: 'wrong' } };
      await assert.rejects(createClusterExecutor({ connection: conn, runId: 'r', log: quiet }), (err: unknown) =>
        isDehbError(err, 'E_BROKER') && /rejected the credentials/.test((err as Error).message),
      );
    } finally {
      await redis.stop();
    }
    const port = await freePort();
    const closed = { ...sharedConnection('x'), endpoint: { host: '127.0.0.1', port, db: 0 } };
    await assert.rejects(createClusterExecutor({ connection: closed, runId: 'r', log: quiet }), (err: unknown) =>
      isDehbError(err, 'E_BROKER') && /connection refused/.test((err as Error).message),
    );
    await assert.rejects(createClusterExecutor({ connection: sharedConnection('x'), runId: 'a:b', log: quiet }), (err: unknown) =>
      isDehbError(err, 'E_CONFIG') && /runId/.test((err as Error).message),
    );
  });

  it('warns once when Redis may evict keys (maxmemory-policy is not noeviction)', async () => {
    const redis = await startPrivateRedis();
    try {
      const admin = new Redis({ host: '127.0.0.1', port: redis.port });
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const warnings: string[] = [];
      const conn = { ...sharedConnection('evict'), endpoint: { host: '127.0.0.1', port: redis.port, db: 0 } };
      const exec = await createClusterExecutor({ connection: conn, runId: 'r', log: (m) => warnings.push(m) });
      await exec.close();
      assert.equal(warnings.filter((w) => /maxmemory-policy is allkeys-lru.*noeviction/.test(w)).length, 1, warnings.join('\n'));
    } finally {
      await redis.stop();
    }
  });

  it('a worker waits for a scheduler file that appears later, then serves trials', async () => {
    const prefix = uniquePrefix('late');
    const file = join(dir, 'late.json');
    const logs: string[] = [];
    const starting = startClusterWorker({ schedulerFile: file, waitMs: 20_000, gpus: 'none', allow: [FIXTURE_DIR], log: (m) => logs.push(m) });
    assert.ok(await eventually(() => logs.some((l) => /waiting for scheduler file/.test(l))), 'the worker says it waits');
    await writeFileFor(file, prefix);
    const worker = await starting;
    try {
      const exec = await createClusterExecutor({ schedulerFile: file, runId: 'late', log: quiet });
      assert.deepEqual(await exec.submit(task('late', 1, { x: 3 })).then((o) => o.status), 'ok');
      await exec.close();
    } finally {
      await worker.stop();
      await cleanupPrefix(prefix);
    }
  });
});

describe('cancellation messages', { timeout: 60_000 }, () => {
  it('a cancel meant for an earlier job with the same id never stops a newer one; a waiting coordinator re-queues it', async () => {
    const prefix = uniquePrefix('cancel');
    const connection = sharedConnection(prefix);
    const worker = await startClusterWorker({ connection, concurrency: 1, gpus: 'none', allow: [FIXTURE_DIR], log: quiet });
    after(async () => {
      await worker.stop({ graceMs: 0 });
      await cleanupPrefix(prefix);
    });
    const exec = await createClusterExecutor({ connection, runId: 'c', capacity: 2, log: quiet });
    const log = join(dir, 'cancel.log');
    const blocker = exec.submit(task('c', 1, { x: 1, sleepMs: 500, log }));
    const target = exec.submit(task('c', 2, { x: 2, log }));
    while (exec.stats.added < 2) await new Promise((r) => setTimeout(r, 5));
    // as a previous coordinator would on abort: a cancel for job c-2, sent after c-2 was queued
    const pub = new Redis({ host: SHARED_REDIS.host, port: SHARED_REDIS.port });
    await pub.publish(`${prefix}:evals:dehb:cancel`, JSON.stringify({ jobId: 'c-2', at: Date.now() }));
    pub.disconnect();
    assert.equal((await blocker).status, 'ok');
    const out = await target;
    assert.deepEqual([out.status, out.status === 'ok' ? out.fitness : null], ['ok', 2], 'still evaluated');
    assert.equal(exec.stats.added, 3, 'the cancelled job was queued again');
    assert.equal(worker.stats.cancelled, 1);
    await exec.close();
  });
});

describe('worker GPUs', { timeout: 60_000 }, () => {
  it('pins each evaluation to its own device of this node and refuses GPU trials on a node without GPUs', async () => {
    const prefix = uniquePrefix('gpu');
    const connection = sharedConnection(prefix);
    const gpuWorker = await startClusterWorker({
      connection,
      gpuDevices: [{ token: '0', index: 0, uuid: null }, { token: 'GPU-abc', index: null, uuid: 'GPU-abc' }],
      allow: [FIXTURE_DIR],
      log: quiet,
    });
    after(() => gpuWorker.stop({ graceMs: 0 }));
    assert.equal(gpuWorker.concurrency, 2, 'one evaluation per device by default');
    const exec = await createClusterExecutor({ connection, runId: 'gpu', capacity: 2, log: quiet });
    const outs = await Promise.all([1, 2].map((i) => exec.submit(task('gpu', i, { x: i, sleepMs: 300 }))));
    const devices = outs.map((o) => (o.status === 'ok' ? (o.info as { devices: string[] }).devices : []));
    assert.deepEqual(devices.map((d) => d.length), [1, 1]);
    assert.notDeepEqual(devices[0], devices[1], 'two concurrent evaluations get different devices');
    assert.deepEqual(outs.map((o) => o.worker?.devices?.length), [1, 1]);
    await gpuWorker.stop();

    const cpuWorker = await startClusterWorker({ connection, gpus: 'none', allow: [FIXTURE_DIR], log: quiet });
    after(async () => {
      await cpuWorker.stop({ graceMs: 0 });
      await cleanupPrefix(prefix);
    });
    const needs = await exec.submit({ ...task('gpu', 3, { x: 1 }), gpus: 1 });
    assert.equal(needs.status, 'failed');
    if (needs.status === 'failed') {
      assert.equal(needs.error.code, 'E_NO_GPU');
      assert.match(needs.error.message, /needs 1 GPU\(s\) but this worker has no GPUs/);
    }
    assert.equal((await exec.submit(task('gpu', 4, { x: 4 }))).status, 'ok', 'CPU trials still run');
    await exec.close();
  });
});
