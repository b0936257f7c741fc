/**
 * TrialQuota, the one `--max-trials` rule of a worker's slots (cluster runtime and directory
 * study): running trials count against the max, a trial without a result gives its place back,
 * and the signal fires once max results are in.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrialQuota } from '../../src/cluster/trial-quota.js';

test('no trial starts past max, counting the running ones; a place comes back only without a result', () => {
  const q = new TrialQuota(2);
  assert.equal(q.take(), true);
  assert.equal(q.take(), true);
  assert.equal(q.take(), false, 'two running fill a quota of two');
  q.settle(false); // handed back: no result
  assert.equal(q.room, 1);
  assert.equal(q.take(), true);
  q.settle(true);
  assert.equal(q.signal.aborted, false);
  assert.equal(q.take(), false, 'one result and one running');
  q.settle(true);
  assert.deepEqual([q.count, q.room, q.signal.aborted], [2, 0, true]);
  assert.equal(q.take(), false);
});

test('without max every trial may start and the signal never fires', () => {
  const q = new TrialQuota();
  for (let i = 0; i < 100; i++) assert.equal(q.take(), true);
  for (let i = 0; i < 100; i++) q.settle(true);
  assert.deepEqual([q.count, q.room, q.signal.aborted], [100, Infinity, false]);
});
