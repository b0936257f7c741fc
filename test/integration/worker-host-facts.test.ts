/**
 * A cluster worker publishes its host facts (systeminformation: CPU model, cores, memory, load)
 * under the queue's prefix when it joins, `scheduler check` lists them, entries that are not valid
 * are reported rather than shown, a stopped worker's entry is removed, and the trial records of a
 * cluster run name the worker and host that ran them. Real Redis, real worker.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DEHB } from '../../src/api/dehb.js';
import { createClusterClient } from '../../src/cluster/bullmq/client.js';
import { startClusterWorker, type ClusterWorker } from '../../src/cluster/bullmq/worker-runtime.js';
import { clusterKeys } from '../../src/redis/connection.js';
import { readHostFacts } from '../../src/redis/host-facts-store.js';
import { checkScheduler } from '../../src/redis/inspect.js';
import { writeFileFor, FIXTURE_DIR } from '../fixtures/cluster/harness.js';
import { cleanupPrefix, sharedConnection, SHARED_REDIS, uniquePrefix } from '../fixtures/cluster/redis.js';

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker host facts', { timeout: 60_000 }, () => {
  const prefix = uniquePrefix('hostfacts');
  const conn = sharedConnection(prefix);
  const keys = clusterKeys(conn);
  const dir = mkdtempSync(join(tmpdir(), 'dehb-hostfacts-'));
  const file = join(dir, 'scheduler.json');
  const redis = new Redis({ ...SHARED_REDIS, maxRetriesPerRequest: 1 });
  let worker: ClusterWorker | null = null;

  before(async () => {
    await writeFileFor(file, prefix, SHARED_REDIS.port);
  });
  after(async () => {
    await worker?.stop({ graceMs: 0 });
    redis.disconnect();
    await cleanupPrefix(prefix, SHARED_REDIS.port);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a joining worker publishes CPU, cores, memory and load; scheduler check shows them; stop removes them', async () => {
    worker = await startClusterWorker({ connection: conn, gpus: 'none', allow: [FIXTURE_DIR], concurrency: 3, threads: false, log: () => undefined });
    const id = worker.id;
    const facts = await until('host facts published', async () => {
      const r = await readHostFacts(redis, keys);
      return r.hosts.find((h) => h.workerId === id) ?? null;
    });
    assert.equal(facts.host, hostname());
    assert.equal(facts.pid, process.pid);
    assert.equal(facts.cores, cpus().length);
    assert.equal(facts.concurrency, 3);
    assert.ok(facts.memTotalBytes > 0 && facts.memAvailableBytes <= facts.memTotalBytes, JSON.stringify(facts));
    assert.ok(facts.load1 >= 0);
    const ttl = await redis.ttl(`${keys.base}:worker-host:${id}`);
    assert.ok(ttl > 0 && ttl <= 30, `the entry expires by itself if the worker dies (ttl ${ttl})`);

    const check = await checkScheduler(file, { timeoutMs: 5_000 });
    assert.ok(check.ok, JSON.stringify(check.findings));
    assert.deepEqual(check.hosts?.map((h) => h.workerId), [id]);
    const line = check.findings.find((f) => f.what === `worker ${id}`);
    assert.ok(line !== undefined, JSON.stringify(check.findings));
    assert.match(line.message, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(pid ${process.pid}\\): .*${cpus().length} cores, .* GiB free, load [0-9.]+, 3 at once$`));

    // a run through this worker: its trial records name the worker and the host
    const client = await createClusterClient(file, { log: () => undefined });
    const dehb = new DEHB({
      space: { x: { type: 'float', low: 0, high: 1 } },
      objective: { module: join(FIXTURE_DIR, 'objective.mjs'), exportName: 'trivial' },
      minFidelity: 1,
      maxFidelity: 3,
      seed: 1,
      client,
      runId: 'hostfacts',
    });
    await dehb.run({ fevals: 2 });
    await client.close();
    const records = dehb.history;
    assert.equal(records.length, 2);
    for (const r of records) assert.deepEqual([r.worker?.id, r.worker?.host], [id, hostname()], JSON.stringify(r));

    await worker.stop({ graceMs: 0 });
    worker = null;
    assert.equal((await readHostFacts(redis, keys)).hosts.length, 0, 'a stopped worker leaves no entry');
  });

  it('an entry that is not valid is counted and reported, never shown', async () => {
    await redis.hset(`${keys.base}:worker-host:forged`, 'facts', JSON.stringify({ v: 1, workerId: 'forged', host: 7 }));
    await redis.expire(`${keys.base}:worker-host:forged`, 30);
    const r = await readHostFacts(redis, keys);
    assert.deepEqual(r, { hosts: [], invalid: 1 });
    const check = await checkScheduler(file, { timeoutMs: 5_000 });
    const warn = check.findings.find((f) => f.what === 'workers' && f.level === 'warn');
    assert.match(warn?.message ?? '', /1 worker host entry is not valid/);
  });
});
