// Fair share between runs on one queue (src/cluster/bullmq/fair-share.ts), against a real Redis:
// the priorities two runs give their jobs interleave by weight whatever their capacities, a run
// that joins late starts at the round being served (no credit for missed rounds), and bad weights
// are refused naming the field.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FairShare, MAX_PRIORITY, checkWeight, fairShareKey } from '../../src/cluster/bullmq/fair-share.js';
import { cleanupPrefix, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { closeRedis, clusterKeys, createRedis } from '../../src/redis/connection.js';

describe('fair share', { timeout: 20_000 }, () => {
  const prefix = uniquePrefix('fair');
  const conn = sharedConnection(prefix);
  const redis = createRedis(conn.endpoint, 'dehb:test-fair');
  const key = fairShareKey(clusterKeys(conn).base);
  after(async () => {
    await closeRedis(redis);
    await cleanupPrefix(prefix);
  });

  /** The order a queue serves jobs in: lowest priority first, FIFO among equals. */
  const served = (jobs: Array<{ run: string; priority: number; seq: number }>): string[] =>
    [...jobs].sort((a, b) => a.priority - b.priority || a.seq - b.seq).map((j) => j.run);

  it('interleaves runs by weight, not by how many jobs each queued', () => {
    const big = new FairShare(redis, key, 1);
    const small = new FairShare(redis, key, 1);
    let seq = 0;
    const jobs = [
      ...Array.from({ length: 32 }, () => ({ run: 'big', priority: big.next(), seq: seq++ })),
      ...Array.from({ length: 4 }, () => ({ run: 'small', priority: small.next(), seq: seq++ })),
    ];
    assert.deepEqual(served(jobs).slice(0, 8), ['big', 'small', 'big', 'small', 'big', 'small', 'big', 'small']);
    const light = new FairShare(redis, key, 1);
    const heavy = new FairShare(redis, key, 2);
    const weighted = [
      ...Array.from({ length: 30 }, () => ({ run: 'light', priority: light.next(), seq: seq++ })),
      ...Array.from({ length: 30 }, () => ({ run: 'heavy', priority: heavy.next(), seq: seq++ })),
    ];
    const first30 = served(weighted).slice(0, 30);
    assert.equal(first30.filter((r) => r === 'heavy').length, 20, first30.join(' '));
  });

  it('a run that joins late starts at the round the queue is serving', async () => {
    const old = new FairShare(redis, key, 1);
    let p = 0;
    for (let i = 0; i < 500; i++) p = old.next();
    old.finished(p - 10); // the queue served the old run up to here
    await old.sync();
    const late = new FairShare(redis, key, 1);
    await late.sync();
    const first = late.next();
    assert.equal(first, p - 10, 'no credit for the rounds it was not there');
    assert.ok(first <= p, 'and not behind the old run either');
  });

  it('caps priorities at BullMQ\'s limit and refuses bad weights', () => {
    const tiny = new FairShare(redis, key, 0.001);
    for (let i = 0; i < 3000; i++) assert.ok(tiny.next() <= MAX_PRIORITY);
    assert.equal(checkWeight(undefined), 1);
    assert.throws(() => checkWeight(0, '--weight'), /--weight must be a number > 0/);
    assert.throws(() => checkWeight(Number('x'), '--weight'), /--weight must be a number > 0/);
  });
});
