import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloneRng, createRng, nextUint32, normal, randInt, sampleDistinct, shuffle, uniform } from '../../src/dehb/rng.js';

test('same seed gives the same stream, different seeds differ', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const xa = Array.from({ length: 50 }, () => uniform(a));
  const xb = Array.from({ length: 50 }, () => uniform(b));
  const xc = Array.from({ length: 50 }, () => uniform(c));
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test('state is plain JSON and a JSON copy continues identically', () => {
  const a = createRng(7);
  for (let i = 0; i < 13; i++) uniform(a);
  normal(a); // leaves a cached spare
  const copy = JSON.parse(JSON.stringify(a));
  assert.deepEqual(copy, a);
  const xa = [normal(a), uniform(a), randInt(a, 10), normal(a)];
  const xb = [normal(copy), uniform(copy), randInt(copy, 10), normal(copy)];
  assert.deepEqual(xa, xb);
  for (const w of a.s) assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32);
});

test('seeds beyond 32 bits are distinct streams; non-integer seeds are rejected', () => {
  assert.notEqual(nextUint32(createRng(0)), nextUint32(createRng(2 ** 32)));
  assert.notEqual(nextUint32(createRng(1)), nextUint32(createRng(-1)));
  assert.throws(() => createRng(1.5), RangeError);
});

test('uniform stays in [0, 1) with a sensible mean', () => {
  const r = createRng(1);
  let sum = 0;
  for (let i = 0; i < 20000; i++) {
    const u = uniform(r);
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
});

test('randInt covers [0, n) and rejects n < 1', () => {
  const r = createRng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const k = randInt(r, 7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    seen.add(k);
  }
  assert.equal(seen.size, 7);
  assert.throws(() => randInt(r, 0), RangeError);
});

test('normal has mean ~0 and variance ~1', () => {
  const r = createRng(5);
  const n = 20000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const z = normal(r);
    s += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(s2 / n - 1) < 0.05);
});

test('sampleDistinct draws distinct indices (both code paths) and checks k <= n', () => {
  const r = createRng(9);
  for (const [n, k] of [
    [10, 3],
    [5, 5],
    [6, 4],
    [1, 1],
    [4, 0],
  ]) {
    const s = sampleDistinct(r, n, k);
    assert.equal(s.length, k);
    assert.equal(new Set(s).size, k);
    for (const i of s) assert.ok(i >= 0 && i < n);
  }
  assert.throws(() => sampleDistinct(r, 2, 3), RangeError);
});

test('shuffle permutes in place deterministically', () => {
  const a = shuffle(createRng(11), [1, 2, 3, 4, 5, 6, 7, 8]);
  const b = shuffle(createRng(11), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(a, b);
  assert.deepEqual(a.slice().sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('cloneRng gives an independent copy', () => {
  const a = createRng(12);
  const b = cloneRng(a);
  assert.equal(uniform(a), uniform(b));
  uniform(a);
  assert.notDeepEqual(a.s, b.s);
});
