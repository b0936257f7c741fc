/**
 * One conformance suite for every StudyStorage: the directory storage (temp dir), the Redis
 * storage (the test run's shared Redis, unique key prefix, removed afterwards) and the in-memory
 * storage (handles opened on one MemoryStore share its studies, as processes share a directory).
 * The local work queue is a capability (its tests run where `queue` exists: directory, memory); a
 * Redis storage instead names the BullMQ queue on the same Redis that carries its trials.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { isDehbError } from '../../src/errors.js';
import { resolveOptimizerOptions } from '../../src/dehb/optimizer.js';
import type { CreatedEntry, StudyStorage } from '../../src/study/storage.js';
import { openStorage } from '../../src/study/storage-open.js';
import { MemoryStore, MemoryStudyStorage } from '../../src/study/storage-memory.js';
import { SHARED_REDIS_URL } from '../fixtures/cluster/redis.js';

const REDIS = SHARED_REDIS_URL;

function created(): CreatedEntry {
  return {
    type: 'created',
    options: resolveOptimizerOptions({
      space: { x: { type: 'float', low: 0, high: 1 } },
      minFidelity: 1,
      maxFidelity: 9,
      eta: 3,
      seed: 1,
    }),
    meta: { runId: 'unused' },
  };
}

const task = (trialId: number, priority = 1) => ({ trialId, priority, config: { x: trialId / 100 }, fidelity: 9 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isCode = (code: string) => (err: unknown) => isDehbError(err) && err.code === code;

interface Impl {
  label: string;
  /** Whether the storage has a local work queue. */
  localQueue: boolean;
  open(): Promise<StudyStorage>;
  /** Flips a byte of a stored file behind the storage's back. */
  corruptFile(s: StudyStorage, name: string, sha: string): Promise<void>;
  cleanup(): Promise<void>;
}

async function fileImpl(): Promise<Impl> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'dehb-storage-'));
  return {
    label: 'file',
    localQueue: true,
    open: () => openStorage(join(dir, 'studies')),
    async corruptFile(_s, name, sha) {
      const p = join(dir, 'studies', name, 'files', sha);
      const b = await fsp.readFile(p);
      b[0] = (b[0] as number) ^ 0xff;
      await fsp.writeFile(p, b);
    },
    cleanup: () => fsp.rm(dir, { recursive: true, force: true }),
  };
}

async function redisImpl(): Promise<Impl> {
  const prefix = `dehb-test-${randomUUID().slice(0, 8)}:`;
  const admin = new Redis(REDIS);
  return {
    label: 'redis',
    localQueue: false,
    open: () => openStorage(`${REDIS}?prefix=${prefix}`),
    async corruptFile(_s, name, sha) {
      await admin.hset(`${prefix}study:{${name}}:files`, sha, Buffer.from('tampered'));
    },
    async cleanup() {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    },
  };
}

async function memoryImpl(): Promise<Impl> {
  const store = new MemoryStore();
  return {
    label: 'memory',
    localQueue: true,
    open: async () => new MemoryStudyStorage(store),
    async corruptFile(_s, name, sha) {
      const data = store.studies.get(name)?.files.get(sha) as Buffer;
      data[0] = (data[0] as number) ^ 0xff;
    },
    cleanup: async () => store.studies.clear(),
  };
}

for (const make of [fileImpl, redisImpl, memoryImpl]) {
  const impl = await make();
  const stores: StudyStorage[] = [];
  const open = async (): Promise<StudyStorage> => {
    const s = await impl.open();
    stores.push(s);
    return s;
  };
  after(async () => {
    for (const s of stores) await s.close();
    await impl.cleanup();
  });

  describe(`storage conformance: ${impl.label}`, () => {
    const queueTest = impl.localQueue ? test : (_name: string, _fn: () => Promise<void>) => undefined;
    test('how trials go out: a local queue (directory) or the BullMQ queue of the same Redis', async () => {
      const s = await open();
      if (impl.localQueue) {
        assert.notEqual(s.queue, undefined);
        assert.equal(s.cluster, undefined);
      } else {
        assert.equal(s.queue, undefined, 'a Redis storage has no study queue of its own');
        const prefix = new URL(s.url.replace(/^rediss?/, 'http')).searchParams.get('prefix') as string;
        assert.deepEqual([s.cluster?.prefix, s.cluster?.queue], [prefix.replace(/:$/, ''), 'evals']);
        assert.equal(s.cluster?.endpoint.port, Number(new URL(REDIS).port));
      }
    });
    test('create, list, exists, duplicate, skipIfExists, delete', async () => {
      const s = await open();
      assert.deepEqual(await s.listStudies(), []);
      assert.equal(await s.createStudy('b-study', created()), true);
      assert.equal(await s.createStudy('a-study', created()), true);
      assert.deepEqual(await s.listStudies(), ['a-study', 'b-study']);
      assert.equal(await s.studyExists('a-study'), true);
      assert.equal(await s.studyExists('zzz'), false);
      await assert.rejects(s.createStudy('a-study', created()), (err: unknown) => {
        assert.ok(isDehbError(err, 'E_STUDY'));
        assert.match(err.message, /a study named "a-study" already exists/);
        return true;
      });
      assert.equal(await s.createStudy('a-study', created(), { skipIfExists: true }), false);
      const j = await s.journal('a-study');
      const entries = await j.read();
      assert.equal(entries.length, 1);
      assert.equal(entries[0]?.type, 'created');
      assert.equal(entries[0]?.seq, 1);
      await j.close();
      assert.equal(await s.deleteStudy('a-study'), true);
      assert.equal(await s.deleteStudy('a-study'), false);
      assert.deepEqual(await s.listStudies(), ['b-study']);
      await assert.rejects(s.journal('a-study'), (err: unknown) => {
        assert.ok(isDehbError(err, 'E_STUDY'));
        assert.match(err.message, /no study named "a-study"/);
        return true;
      });
      if (s.queue !== undefined) {
        await assert.rejects(s.queue.enqueue('a-study', [task(0)]), isCode('E_STUDY'));
        await assert.rejects(s.queue.claim('a-study', 'w', 1000), isCode('E_STUDY'));
      }
      await assert.rejects(s.createStudy('bad name', created()), isCode('E_USAGE'));
      await assert.rejects(s.createStudy('a:b', created()), isCode('E_USAGE'));
    });

    test('journal: append, read from seq, concurrent appends get unique seqs', async () => {
      const s = await open();
      await s.createStudy('j', created());
      const a = await s.journal('j');
      const b = await s.journal('j');
      assert.equal(await a.append([{ type: 'report', trialId: 0, step: 1, value: 0.5 }]), 2);
      const writes: Array<Promise<number>> = [];
      for (let i = 0; i < 20; i++) {
        const j = i % 2 === 0 ? a : b;
        writes.push(j.append([{ type: 'report', trialId: i, step: 0, value: i }, { type: 'report', trialId: i, step: 1, value: i }]));
      }
      const lasts = await Promise.all(writes);
      assert.equal(new Set(lasts).size, 20);
      const all = await b.read();
      assert.equal(all.length, 42);
      assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => i + 1));
      for (let i = 0; i < 20; i++) {
        const mine = all.filter((e) => e.type === 'report' && e.trialId === i && e.seq > 2).map((e) => e.seq);
        assert.equal(mine.length, 2);
        assert.equal(mine[1], (mine[0] as number) + 1, 'a batch stays contiguous');
      }
      assert.deepEqual((await a.read(41)).map((e) => e.seq), [41, 42]);
      assert.deepEqual(await a.read(43), []);
      assert.ok(all.every((e) => typeof e.at === 'number' && e.at > 1e12));
      await a.close();
      await b.close();
    });

    test('lease: exclusive, renew, release, expiry, fenced appends', async () => {
      const s = await open();
      await s.createStudy('l', created());
      assert.equal(await s.getLease('l'), null);
      assert.equal(await s.acquireLease('l', 'A', 5000), true);
      assert.equal(await s.acquireLease('l', 'B', 5000), false);
      assert.equal(await s.acquireLease('l', 'A', 5000), true, 'the holder re-acquires (renews)');
      const lease = await s.getLease('l');
      assert.equal(lease?.holder, 'A');
      assert.ok((lease?.expiresAt ?? 0) > Date.now());
      assert.equal(await s.renewLease('l', 'A', 5000), true);
      assert.equal(await s.renewLease('l', 'B', 5000), false);
      assert.equal(await s.appendAsLeader('l', 'A', [{ type: 'finished', reason: 'x' }]), 2);
      await assert.rejects(s.appendAsLeader('l', 'B', [{ type: 'finished', reason: 'y' }]), (err: unknown) => {
        assert.ok(isDehbError(err, 'E_STUDY'));
        assert.match(err.message, /lease .*lost/);
        return true;
      });
      await s.releaseLease('l', 'B'); // not the holder: no effect
      assert.equal((await s.getLease('l'))?.holder, 'A');
      await s.releaseLease('l', 'A');
      assert.equal(await s.getLease('l'), null);
      assert.equal(await s.acquireLease('l', 'B', 60), true);
      await sleep(150);
      assert.equal(await s.getLease('l'), null, 'expired');
      assert.equal(await s.renewLease('l', 'B', 1000), false);
      await assert.rejects(s.appendAsLeader('l', 'B', [{ type: 'finished', reason: 'z' }]), isCode('E_STUDY'));
      assert.equal(await s.acquireLease('l', 'C', 1000), true);
      const j = await s.journal('l');
      assert.deepEqual((await j.read()).map((e) => e.type), ['created', 'finished']);
      await assert.rejects(s.acquireLease('nope', 'A', 1000), isCode('E_STUDY'));
    });

    queueTest('queue: idempotent enqueue, priority then trial order, complete by the claim holder, results, drop, unclaim, stats', async () => {
      const s = await open();
      await s.createStudy('q', created());
      assert.equal(await s.queue!.enqueue('q', [task(3), task(1), task(2)]), 3);
      assert.equal(await s.queue!.enqueue('q', [task(1), task(4)]), 1);
      assert.equal(await s.queue!.enqueue('q', [task(7, 0)]), 1);
      assert.deepEqual(await s.queue!.queueStats('q'), { queued: 5, claimed: 0 });
      const c1 = await s.queue!.claim('q', 'w1', 10_000);
      assert.equal(c1?.trialId, 7, 'pushed (priority 0) first');
      assert.equal(c1?.attempts, 1);
      assert.equal(c1?.workerId, 'w1');
      assert.deepEqual(c1?.config, { x: 0.07 });
      assert.equal(c1?.fidelity, 9);
      assert.equal((await s.queue!.claim('q', 'w2', 10_000))?.trialId, 1);
      assert.deepEqual(await s.queue!.queueStats('q'), { queued: 3, claimed: 2 });
      assert.equal(await s.queue!.enqueue('q', [task(1)]), 0, 'a claimed task is not enqueued again');
      assert.equal(await s.queue!.heartbeat('q', 1, 'w2', 10_000), true);
      assert.equal(await s.queue!.heartbeat('q', 1, 'w1', 10_000), false, 'not the claimer');
      await s.queue!.unclaim('q', 1, 'w1'); // not the claimer: no effect
      assert.deepEqual(await s.queue!.queueStats('q'), { queued: 3, claimed: 2 });
      await s.queue!.unclaim('q', 1, 'w2');
      assert.deepEqual(await s.queue!.queueStats('q'), { queued: 4, claimed: 1 });
      const again = await s.queue!.claim('q', 'w3', 10_000);
      assert.equal(again?.trialId, 1);
      assert.equal(again?.attempts, 2);
      assert.equal(await s.queue!.complete('q', 1, 'w2', { status: 'ok', fitness: 1 }), false, 'only the claim holder completes');
      assert.equal(await s.queue!.complete('q', 1, 'w3', { status: 'ok', fitness: 0.5 }), true);
      assert.equal(await s.queue!.complete('q', 7, 'w1', { status: 'failed', error: { name: 'E', message: 'm' }, retryable: true }), true);
      assert.equal(await s.queue!.complete('q', 7, 'w1', { status: 'ok', fitness: 0 }), false, 'a done task keeps its first outcome');
      assert.equal(await s.queue!.heartbeat('q', 1, 'w3', 10_000), false, 'completed');
      assert.deepEqual(await s.queue!.queueStats('q'), { queued: 3, claimed: 0 });
      const results = await s.queue!.results('q');
      assert.deepEqual(results.claimed, []);
      assert.deepEqual(
        results.done.sort((a, b) => a.trialId - b.trialId),
        [
          { trialId: 1, workerId: 'w3', outcome: { status: 'ok', fitness: 0.5 } },
          { trialId: 7, workerId: 'w1', outcome: { status: 'failed', error: { name: 'E', message: 'm' }, retryable: true } },
        ],
      );
      assert.equal(await s.queue!.enqueue('q', [task(1)]), 0, 'a done task is not queued again until removed');
      assert.equal(await s.queue!.enqueue('q', [task(1)], [1, 7]), 1, 'dropped, a trial can be queued again (the journal decides)');
      assert.deepEqual((await s.queue!.results('q')).done, []);
      const order: number[] = [];
      for (let c = await s.queue!.claim('q', 'w', 10_000); c !== null; c = await s.queue!.claim('q', 'w', 10_000)) order.push(c.trialId);
      assert.deepEqual(order, [1, 2, 3, 4]);
    });

    queueTest('queue: expired claims go back to the queue', async () => {
      const s = await open();
      await s.createStudy('e', created());
      await s.queue!.enqueue('e', [task(0), task(1)]);
      // a 1 s claim (60 ms expired before the next call on a loaded machine); waited out exactly
      const dead = await s.queue!.claim('e', 'dead', 1_000);
      const claimedBy = Date.now(); // the claim's expiry is at most 1 s after this
      assert.equal(dead?.trialId, 0);
      const live = await s.queue!.claim('e', 'live', 10_000);
      assert.equal(live?.trialId, 1);
      assert.equal(await s.queue!.claim('e', 'x', 10_000), null);
      await sleep(claimedBy + 1_000 + 20 - Date.now());
      assert.deepEqual(await s.queue!.queueStats('e'), { queued: 1, claimed: 1 });
      const re = await s.queue!.claim('e', 'rescuer', 10_000);
      assert.equal(re?.trialId, 0);
      assert.equal(re?.attempts, 2);
      assert.equal(await s.queue!.heartbeat('e', 0, 'dead', 10_000), false, 'the dead claimer lost it');
      assert.equal(await s.queue!.complete('e', 0, 'dead', { status: 'ok', fitness: 1 }), false, "the dead claimer's late result is dropped");
      const claims = (await s.queue!.results('e')).claimed.sort((a, b) => a.trialId - b.trialId);
      assert.deepEqual(claims, [{ trialId: 0, workerId: 'rescuer' }, { trialId: 1, workerId: 'live' }]);
    });

    queueTest('queue: concurrent claimers get each task exactly once', async () => {
      const s1 = await open();
      const s2 = await open();
      await s1.createStudy('c', created());
      const n = 30;
      await s1.queue!.enqueue('c', Array.from({ length: n }, (_, i) => task(i, i % 3 === 0 ? 0 : 1)));
      const got: number[] = [];
      const claimer = async (s: StudyStorage, id: string): Promise<void> => {
        for (let c = await s.queue!.claim('c', id, 10_000); c !== null; c = await s.queue!.claim('c', id, 10_000)) {
          got.push(c.trialId);
          assert.equal(await s.queue!.complete('c', c.trialId, id, { status: 'ok', fitness: c.trialId }), true);
        }
      };
      await Promise.all([claimer(s1, 'a'), claimer(s2, 'b'), claimer(s1, 'c'), claimer(s2, 'd')]);
      assert.equal(got.length, n);
      assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
      assert.deepEqual(await s1.queue!.queueStats('c'), { queued: 0, claimed: 0 });
      assert.equal((await s1.queue!.results('c')).done.length, n);
    });

    test('files: content-addressed, capped, verified', async () => {
      const s = await open();
      await s.createStudy('f', created());
      const data = Buffer.from('print("hello")\n');
      const put = await s.putFile('f', data);
      assert.equal(put.size, data.length);
      assert.match(put.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(await s.getFile('f', put.sha256), data);
      assert.deepEqual(await s.putFile('f', data), put, 'idempotent');
      await assert.rejects(s.putFile('f', Buffer.alloc(2000), { maxBytes: 1000 }), (err: unknown) => {
        assert.ok(isDehbError(err, 'E_STUDY'));
        assert.match(err.message, /2000 bytes, over the 1000-byte cap/);
        return true;
      });
      await assert.rejects(s.getFile('f', '0'.repeat(64)), /has no stored file/);
      await impl.corruptFile(s, 'f', put.sha256);
      await assert.rejects(s.getFile('f', put.sha256), (err: unknown) => {
        assert.ok(isDehbError(err, 'E_STUDY'));
        assert.match(err.message, /is corrupt \(checksum/);
        return true;
      });
    });

    test('a deleted study: journal, queue and file operations fail with E_STUDY', async () => {
      const s = await open();
      await s.createStudy('d', created());
      const j = await s.journal('d');
      await s.deleteStudy('d');
      await assert.rejects(j.append([{ type: 'finished', reason: 'x' }]), (err: unknown) => isDehbError(err));
      if (s.queue !== undefined) await assert.rejects(s.queue.enqueue('d', [task(0)]), isCode('E_STUDY'));
      await assert.rejects(s.putFile('d', Buffer.from('x')), isCode('E_STUDY'));
      assert.equal(await s.studyExists('d'), false);
    });
  });
}
