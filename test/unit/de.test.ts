import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIN_POOL,
  crossover,
  crossoverBin,
  crossoverExp,
  fillParentPool,
  fixBoundary,
  mutantFromDonors,
  mutate,
  sampleDonors,
} from '../../src/dehb/de.js';
import { cloneRng, createRng, uniform } from '../../src/dehb/rng.js';
import { MUTATIONS, type Mutation, type RngState } from '../../src/dehb/types.js';

/** The next k uniforms a generator would produce (without advancing it). */
function peek(rng: RngState, k: number): number[] {
  const c = cloneRng(rng);
  return Array.from({ length: k }, () => uniform(c));
}

/** k distinct indices in [0, n) by rejection (what the optimizer does for k*2 <= n). */
function distinctFrom(us: number[], n: number, k: number): number[] {
  const out: number[] = [];
  for (const u of us) {
    const i = Math.floor(u * n);
    if (!out.includes(i)) out.push(i);
    if (out.length === k) return out;
  }
  throw new Error('not enough draws');
}

// Exact binary fractions keep the arithmetic exact.
const r1 = [0.5, 0.25, 0.75];
const r2 = [0.25, 0.5, 0.125];
const r3 = [0.125, 0.125, 0.5];
const r4 = [0.75, 0.875, 0.25];
const r5 = [0.5, 0.5, 0.5];
const cur = [0.375, 0.625, 0.0625];
const best = [1, 0, 0.5];
const F = 0.5;

test('every mutation formula against hand-computed vectors', () => {
  const donors = [r1, r2, r3, r4, r5];
  const expected: Record<Mutation, number[]> = {
    // r1 + F(r2 - r3)
    rand1: [0.5 + 0.5 * 0.125, 0.25 + 0.5 * 0.375, 0.75 + 0.5 * -0.375],
    // r1 + F(r2 - r3) + F(r4 - r5)
    rand2: [0.5625 + 0.5 * 0.25, 0.4375 + 0.5 * 0.375, 0.5625 + 0.5 * -0.25],
    // r1 + F/2 (r1 - r2 - r3)
    rand2dir: [0.5 + 0.25 * (0.5 - 0.25 - 0.125), 0.25 + 0.25 * (0.25 - 0.5 - 0.125), 0.75 + 0.25 * (0.75 - 0.125 - 0.5)],
    // best + F(r1 - r2)
    best1: [1 + 0.5 * 0.25, 0 + 0.5 * -0.25, 0.5 + 0.5 * 0.625],
    // best + F(r1 - r2) + F(r3 - r4)
    best2: [1.125 + 0.5 * -0.625, -0.125 + 0.5 * -0.75, 0.8125 + 0.5 * 0.25],
    // current + F(best - current) + F(r1 - r2)
    currenttobest1: [0.375 + 0.5 * 0.625 + 0.5 * 0.25, 0.625 + 0.5 * -0.625 + 0.5 * -0.25, 0.0625 + 0.5 * 0.4375 + 0.5 * 0.625],
    // r1 + F(best - r1) + F(r2 - r3)
    randtobest1: [0.5 + 0.5 * 0.5 + 0.5 * 0.125, 0.25 + 0.5 * -0.25 + 0.5 * 0.375, 0.75 + 0.5 * -0.25 + 0.5 * -0.375],
  };
  for (const m of MUTATIONS) {
    assert.deepEqual(mutantFromDonors(m, F, donors.slice(0, MIN_POOL[m]), cur, best), expected[m], m);
  }
  assert.deepEqual(expected.rand1, [0.5625, 0.4375, 0.5625]);
  assert.deepEqual(expected.currenttobest1, [0.8125, 0.1875, 0.59375]);
});

test('donor counts per strategy', () => {
  assert.deepEqual(MIN_POOL, { rand1: 3, rand2: 5, rand2dir: 3, best1: 2, best2: 4, currenttobest1: 2, randtobest1: 3 });
});

test('mutate draws distinct donors from the pool with the RNG', () => {
  const pool = [r1, r2, r3, r4, r5, [0, 0, 0], [1, 1, 1], [0.5, 0.25, 0.125], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]];
  for (const m of MUTATIONS) {
    const rng = createRng(100 + m.length);
    const k = MIN_POOL[m];
    const idx = distinctFrom(peek(rng, 40), pool.length, k);
    const expected = mutantFromDonors(m, F, idx.map((i) => pool[i]), cur, best);
    assert.deepEqual(mutate(rng, m, F, pool, cur, best), expected, m);
  }
});

test('donor sampling removes the first row equal to current', () => {
  const pool = [r1, cur, r2, cur.slice(), r3, r4, r5];
  const rng = createRng(5);
  // after removal: [r1, r2, cur-copy, r3, r4, r5] (6 rows, draw 3)
  const rows = [r1, r2, pool[3], r3, r4, r5];
  const idx = distinctFrom(peek(rng, 40), 6, 3);
  assert.deepEqual(sampleDonors(rng, pool, 3, 3, cur), idx.map((i) => rows[i]));
  // a single-row pool keeps its row even if it equals current (then tops up)
  const rng2 = createRng(6);
  const us = peek(rng2, 20);
  const got = sampleDonors(rng2, [cur], 2, 3, cur);
  const fresh = [us[0], us[1], us[2]];
  const rows2 = [cur, fresh];
  const pick = (() => {
    // 2 of 2: partial Fisher-Yates over [0,1] using u[3]
    const j = 0 + Math.floor(us[3] * 2);
    const order = [0, 1];
    [order[0], order[j]] = [order[j], order[0]];
    const j2 = 1 + Math.floor(us[4] * 1);
    [order[1], order[j2]] = [order[j2], order[1]];
    return order;
  })();
  assert.deepEqual(got, pick.map((i) => rows2[i]));
});

test('donor sampling tops a small pool up with fresh uniform vectors', () => {
  const rng = createRng(8);
  const us = peek(rng, 12);
  const got = sampleDonors(rng, [r1, r2], 5, 3, undefined);
  assert.equal(got.length, 5);
  const fresh = [us.slice(0, 3), us.slice(3, 6), us.slice(6, 9)];
  const all = [r1, r2, ...fresh];
  assert.deepEqual(got.slice().sort(), all.slice().sort());
});

test('binomial crossover takes mutant coordinates where u < CR', () => {
  const target = [0.1, 0.2, 0.3, 0.4, 0.5];
  const mutant = [0.9, 0.8, 0.7, 0.6, 0.55];
  const rng = createRng(21);
  const us = peek(rng, 5);
  const cr = 0.5;
  const expected = target.map((t, i) => (us[i] < cr ? mutant[i] : t));
  const got = crossoverBin(rng, target, mutant, cr);
  if (us.some((u) => u < cr)) assert.deepEqual(got, expected);
  assert.deepEqual(target, [0.1, 0.2, 0.3, 0.4, 0.5], 'target untouched');
  // CR = 1: the mutant entirely
  assert.deepEqual(crossoverBin(createRng(1), target, mutant, 1), mutant);
});

test('binomial crossover forces one random coordinate when none is taken', () => {
  const target = [0.1, 0.2, 0.3, 0.4];
  const mutant = [0.9, 0.8, 0.7, 0.6];
  const rng = createRng(22);
  const us = peek(rng, 5);
  const j = Math.floor(us[4] * 4);
  const expected = target.slice();
  expected[j] = mutant[j];
  assert.deepEqual(crossoverBin(rng, target, mutant, 0), expected);
});

test('exponential crossover copies a cyclic run on a copy of the target', () => {
  const target = [0.1, 0.2, 0.3, 0.4, 0.5];
  const mutant = [0.9, 0.8, 0.7, 0.6, 0.55];
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const rng = createRng(seed);
    const us = peek(rng, 10);
    const cr = 0.6;
    const start = Math.floor(us[0] * 5);
    const expected = target.slice();
    let L = 0;
    while (us[1 + L] < cr && L < 5) {
      expected[(start + L) % 5] = mutant[(start + L) % 5];
      L++;
    }
    const frozen = target.slice();
    assert.deepEqual(crossoverExp(rng, target, mutant, cr), expected, `seed ${seed}`);
    assert.deepEqual(target, frozen, 'the parent is never written');
  }
  // CR = 0 copies nothing; CR = 1 copies everything
  assert.deepEqual(crossoverExp(createRng(1), target, mutant, 0), target);
  assert.deepEqual(crossoverExp(createRng(1), target, mutant, 1), mutant);
  assert.deepEqual(crossover(createRng(3), 'exp', target, mutant, 1), mutant);
});

test('boundary fix: clip and random', () => {
  const v = [-0.5, 0.25, 1.5, 1, 0, -0];
  const clipped = fixBoundary(createRng(1), v, 'clip');
  assert.deepEqual(clipped, [0, 0.25, 1, 1, 0, 0]);
  assert.ok(Object.is(clipped[5], 0), '-0 is normalised to +0');
  const rng = createRng(2);
  const us = peek(rng, 2);
  assert.deepEqual(fixBoundary(rng, v, 'random'), [us[0], 0.25, us[1], 1, 0, 0]);
  assert.deepEqual(v, [-0.5, 0.25, 1.5, 1, 0, -0], 'input untouched');
});

test('parent pool filler adds min - size + 1 mutants from the global population', () => {
  const globalPop = [r1, r2, r3, r4, r5, [0, 0, 0]];
  let calls = 0;
  const get = () => {
    calls++;
    return globalPop;
  };
  const enough = [r1, r2, r3];
  assert.equal(fillParentPool(createRng(1), enough, 'rand1', F, cur, best, get), enough);
  assert.equal(calls, 0, 'the global population is not built when not needed');

  const rng = createRng(3);
  const copy = cloneRng(rng);
  const pool = fillParentPool(rng, [r1], 'rand1', F, cur, best, get);
  assert.equal(pool.length, 1 + (3 - 1 + 1));
  assert.equal(pool[0], r1);
  for (let k = 1; k < 4; k++) assert.deepEqual(pool[k], mutate(copy, 'rand1', F, globalPop, cur, best));
  assert.deepEqual(rng, copy);

  const p2 = fillParentPool(createRng(4), [r1, r2, r3], 'rand2', F, cur, best, get);
  assert.equal(p2.length, 3 + (5 - 3 + 1));
});
