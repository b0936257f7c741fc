/** The bench's Mann-Whitney U test and normal tail against values computed with scipy 1.17. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mannWhitneyU, normalSf } from '../../bench/lib/mwu.js';

function close(actual: number, expected: number, rel = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-300, `${actual} vs ${expected}`);
}

test('normalSf matches scipy.stats.norm.sf', () => {
  const cases: Array<[number, number]> = [
    [0, 0.5],
    [0.3, 0.3820885778110474],
    [1, 0.15865525393145707],
    [1.96, 0.024997895148220435],
    [3, 0.0013498980316300933],
    [5, 2.866515718791933e-7],
    [8, 6.22096057427174e-16],
  ];
  for (const [z, p] of cases) {
    close(normalSf(z), p, 1e-12);
    close(normalSf(-z), 1 - p, 1e-12);
  }
});

test('mannWhitneyU matches scipy mannwhitneyu(two-sided, asymptotic): U and p, with and without ties', () => {
  const cases: Array<[number[], number[], number, number]> = [
    [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 0, 0.012185780355344813],
    [[1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5, 5, 5], 5.5, 0.02773088616647723],
    [[0.1, 0.5, 0.3, 0.3, 0.9, 0.2, 0.7], [0.4, 0.3, 0.8, 1.0, 0.6], 10, 0.2522791205805961],
    [[1, 1, 1], [1, 1, 1], 4.5, 1],
  ];
  for (const [x, y, u, p] of cases) {
    const r = mannWhitneyU(x, y);
    assert.equal(r.u, u);
    close(r.p, p, 1e-10);
    // symmetric in the p-value, complementary in U
    const s = mannWhitneyU(y, x);
    assert.equal(s.u, x.length * y.length - u);
    close(s.p, p, 1e-10);
  }
});

test('mannWhitneyU on 40 + 40 samples rounded to one decimal (many ties)', () => {
  const a = [2.0, -2.6, 0.4, -0.6, -0.5, -0.2, -2.0, -0.2, -0.9, 3.3, 0.2, -0.4, -0.3, -0.7, -1.1, -0.4, 0.5, -0.2, 1.0, -0.2,
    0.0, 1.5, 0.5, -0.5, -0.2, 0.5, 1.9, -0.3, -0.2, 1.0, -0.9, -0.3, 0.9, 0.6, 0.1, 0.7, -2.8, 1.0, -1.0, -1.7];
  const b = [0.8, 1.2, 0.1, -0.6, 0.5, 0.4, 1.9, 1.2, 0.7, 1.6, 0.3, -0.4, 1.1, 1.1, 0.3, -0.3, 0.7, -2.0, 1.2, 1.0,
    -1.1, 0.6, -0.5, 1.3, -1.5, -0.4, 1.2, 1.7, -1.7, 0.0, 0.8, -0.1, 2.1, -0.7, 0.9, -0.5, 1.9, 0.5, 0.1, -1.2];
  const r = mannWhitneyU(a, b);
  assert.equal(r.u, 604.5);
  close(r.p, 0.0604058597924074, 1e-10);
});

test('mannWhitneyU rejects empty samples and NaN', () => {
  assert.throws(() => mannWhitneyU([], [1]), RangeError);
  assert.throws(() => mannWhitneyU([1, NaN], [1]), RangeError);
});
