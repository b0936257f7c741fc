import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bracketPlan,
  completeJob,
  computeLadder,
  isDone,
  isPending,
  isWaiting,
  ladderSize,
  nextRung,
  openBracket,
  previousRungWaits,
  registerJob,
  subpopSizes,
  waitingIn,
} from '../../src/dehb/brackets.js';

const noClip = { minClip: null, maxClip: null };

function close(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-3 * expected[i], `${actual} vs ${expected}`));
}

test('ladders of the reference table (with the epsilon rule)', () => {
  assert.deepEqual(computeLadder(1, 27, 3), [1, 3, 9, 27]);
  assert.deepEqual(computeLadder(3, 27, 3), [3, 9, 27]);
  assert.deepEqual(computeLadder(1, 81, 3), [1, 3, 9, 27, 81]);
  close(computeLadder(1, 100, 3), [1.2346, 3.7037, 11.111, 33.333, 100]);
  close(computeLadder(0.1, 3, 3), [0.1111, 0.3333, 1, 3]);
  close(computeLadder(2, 50, 3), [5.556, 16.667, 50]);
  assert.deepEqual(computeLadder(1, 2, 3), [2]);
  // exact powers keep every rung and land exactly on the integers
  assert.deepEqual(computeLadder(1, 729, 3), [1, 3, 9, 27, 81, 243, 729]);
  assert.deepEqual(computeLadder(1, 243, 3), [1, 3, 9, 27, 81, 243]);
  assert.equal(ladderSize(1, 59049, 3), 11);
  assert.equal(ladderSize(1, 1024, 2), 11);
  assert.equal(ladderSize(0.1, 1, 2), 4);
  // the top fidelity is exactly maxFidelity
  for (const [lo, hi, eta] of [[1, 100, 3], [0.1, 3, 3], [2, 50, 3], [1, 1000, 2.5]]) {
    const l = computeLadder(lo, hi, eta);
    assert.equal(l[l.length - 1], hi);
    assert.ok(l[0] >= lo * (1 - 1e-9));
  }
});

test('bracket plans for 1..27, eta 3 (65 evaluations per Hyperband iteration)', () => {
  const L = 4;
  const plans = [0, 1, 2, 3, 4, 7].map((k) => bracketPlan(k, L, 3, noClip));
  assert.deepEqual(plans[0], { s: 3, firstRung: 0, sizes: [27, 9, 3, 1] });
  assert.deepEqual(plans[1], { s: 2, firstRung: 1, sizes: [9, 3, 1] });
  assert.deepEqual(plans[2], { s: 1, firstRung: 2, sizes: [6, 2] });
  assert.deepEqual(plans[3], { s: 0, firstRung: 3, sizes: [4] });
  assert.deepEqual(plans[4], plans[0]);
  assert.deepEqual(plans[5], plans[3]);
  const total = plans.slice(0, 4).reduce((acc, p) => acc + p.sizes.reduce((a, b) => a + b, 0), 0);
  assert.equal(total, 40 + 13 + 8 + 4);
});

test('bracket plans for 0.1..1, eta 2', () => {
  const L = ladderSize(0.1, 1, 2);
  assert.deepEqual([0, 1, 2, 3].map((k) => bracketPlan(k, L, 2, noClip).sizes), [[8, 4, 2, 1], [4, 2, 1], [4, 2], [4]]);
});

test('sub-population sizes', () => {
  assert.deepEqual(subpopSizes(4, 3, noClip), [27, 9, 6, 4]);
  assert.deepEqual(subpopSizes(ladderSize(1, 81, 3), 3, noClip), [81, 27, 9, 6, 5]);
  assert.deepEqual(subpopSizes(ladderSize(0.1, 1, 2), 2, noClip), [8, 4, 4, 4]);
  // 1..1024 eta 2: checked by hand against the formula (s=4: 2*16=32 at rung 6; s=2: 3*4=12 at
  // rung 8; s=1: 5*2=10 at rung 9; s=0: 11 at rung 10)
  assert.deepEqual(subpopSizes(ladderSize(1, 1024, 2), 2, noClip), [1024, 512, 256, 128, 64, 32, 32, 16, 12, 10, 11]);
  assert.deepEqual(subpopSizes(1, 3, noClip), [1]);
});

test('clip rules: both clips, min only, max only', () => {
  assert.deepEqual(bracketPlan(0, 4, 3, { minClip: 3, maxClip: 5 }).sizes, [5, 5, 3, 3]);
  assert.deepEqual(bracketPlan(0, 4, 3, { minClip: 2, maxClip: null }).sizes, [27, 9, 3, 2]);
  assert.deepEqual(bracketPlan(0, 4, 3, { minClip: null, maxClip: 5 }).sizes, [27, 9, 3, 1]);
  // min only with min above every size: numpy clip(a, lo, hi) with lo > hi gives hi
  assert.deepEqual(bracketPlan(3, 4, 3, { minClip: 10, maxClip: null }).sizes, [4]);
  assert.deepEqual(subpopSizes(4, 3, { minClip: 3, maxClip: 5 }), [5, 5, 5, 4]);
});

test('bracket bookkeeping: pending, waiting, done, current rung, previous-rung-waits', () => {
  const b = openBracket(0, 4, 3, noClip);
  assert.deepEqual({ sizes: b.sizes, pending: b.pending, done: b.done, currentRung: b.currentRung }, {
    sizes: [27, 9, 3, 1],
    pending: [27, 9, 3, 1],
    done: [0, 0, 0, 0],
    currentRung: 0,
  });
  assert.equal(nextRung(b), 0);
  for (let i = 0; i < 26; i++) registerJob(b, 0);
  assert.equal(b.currentRung, 0);
  assert.equal(waitingIn(b, 0), 26);
  registerJob(b, 0);
  assert.equal(b.currentRung, 1);
  assert.equal(previousRungWaits(b), true);
  assert.equal(nextRung(b), 1, 'the next rung has pending jobs');
  for (let i = 0; i < 26; i++) completeJob(b, 0);
  assert.equal(previousRungWaits(b), true);
  completeJob(b, 0);
  assert.equal(previousRungWaits(b), false);
  for (let i = 0; i < 9; i++) registerJob(b, 1);
  assert.equal(b.currentRung, 2);
  for (let i = 0; i < 9; i++) completeJob(b, 1);
  for (let i = 0; i < 3; i++) registerJob(b, 2);
  for (let i = 0; i < 3; i++) completeJob(b, 2);
  registerJob(b, 3);
  assert.equal(b.currentRung, 0, 'wraps around after the last rung');
  assert.equal(isPending(b), false);
  assert.equal(isWaiting(b), true);
  assert.equal(isDone(b), false);
  assert.equal(nextRung(b), -1);
  completeJob(b, 3);
  assert.equal(isDone(b), true);
  assert.throws(() => registerJob(b, 3));
  assert.throws(() => completeJob(b, 3));
});
