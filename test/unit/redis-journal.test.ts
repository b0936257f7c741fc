/**
 * RedisJournal: exact number round trips through the Lua append, seq = list position, server
 * clock in `at`, corrupted elements named by key and seq, appends to a missing study refused.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { isDehbError } from '../../src/errors.js';
import { appendEntries, RedisJournal } from '../../src/study/redis-journal.js';
import { SHARED_REDIS_URL } from '../fixtures/cluster/redis.js';

const redis = new Redis(SHARED_REDIS_URL);
const prefix = `dehb-test-rj-${randomUUID().slice(0, 8)}:`;
after(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

async function fresh(): Promise<RedisJournal> {
  const key = `${prefix}${randomUUID()}`;
  await appendEntries(redis, key, [{ type: 'finished', reason: 'seed' }], { leaseKey: key, holder: '', mustExist: false });
  return new RedisJournal(redis, key, { label: `test ${key}` });
}

test('numbers survive the Lua append bit for bit; seq and at come from the server', async () => {
  const j = await fresh();
  const vector = [0.1 + 0.2, 1 / 3, 5e-324, 0.9999999999999999, 123456789.12345679];
  const before = Date.now();
  const last = await j.append([
    {
      type: 'asked',
      trialId: 0,
      job: { trialId: 0, configId: 0, bracketId: 0, rung: 0, fidelity: 1 / 3, parentId: -1, vector, config: { lr: 1e-7, act: 'relu', flag: true }, source: 'de' },
    },
    { type: 'told', trialId: 0, result: { status: 'ok', fitness: -3.7410000000000001, cost: 2 ** 53 - 1, info: { note: 'ü "quoted" \n' } } },
  ]);
  assert.equal(last, 3);
  const es = await j.read(2);
  assert.deepEqual(es.map((e) => e.seq), [2, 3]);
  const asked = es[0] as Extract<(typeof es)[number], { type: 'asked' }>;
  assert.deepEqual(asked.job.vector, vector);
  assert.equal(asked.job.fidelity, 1 / 3);
  assert.deepEqual(asked.job.config, { lr: 1e-7, act: 'relu', flag: true });
  const told = es[1] as Extract<(typeof es)[number], { type: 'told' }>;
  assert.equal(told.result.fitness, -3.741);
  assert.equal(told.result.cost, 2 ** 53 - 1);
  assert.deepEqual(told.result.info, { note: 'ü "quoted" \n' });
  assert.ok(Math.abs(told.at - before) < 60_000, 'server clock close to ours');
  const raw = await redis.lindex(j.key, 1);
  assert.ok(raw?.startsWith('{"seq":2,"at":'), raw ?? '');
});

test('a corrupted element is E_JOURNAL naming the journal and seq', async () => {
  const j = await fresh();
  await j.append([{ type: 'finished', reason: 'a' }]);
  await redis.rpush(j.key, '{"seq":3,"at":1,"type":"told"');
  await j.append([{ type: 'finished', reason: 'b' }]);
  await assert.rejects(j.read(), (err: unknown) => {
    assert.ok(isDehbError(err, 'E_JOURNAL'));
    assert.match(err.message, new RegExp(`^test ${prefix}.*: entry 3: corrupted journal entry \\(invalid JSON`));
    return true;
  });
  assert.equal((await j.read(4)).length, 1, 'reading past the bad element works');
});

test('appends to a missing journal are refused (study deleted)', async () => {
  const j = new RedisJournal(redis, `${prefix}missing`);
  await assert.rejects(j.append([{ type: 'finished', reason: 'x' }]), (err: unknown) => isDehbError(err, 'E_STUDY'));
  assert.deepEqual(await j.read(), []);
});

test('a fenced journal appends only while the holder owns the lease', async () => {
  const j0 = await fresh();
  const leaseKey = `${j0.key}:lease`;
  const fenced = new RedisJournal(redis, j0.key, { fence: { leaseKey, holder: 'me' } });
  await assert.rejects(fenced.append([{ type: 'finished', reason: 'x' }]), /lease of me was lost/);
  await redis.set(leaseKey, 'me', 'PX', 10_000);
  assert.equal(await fenced.append([{ type: 'finished', reason: 'x' }]), 2);
});
