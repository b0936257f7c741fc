/**
 * The parallel benchmark's simulated cluster (bench/lib/parallel-sim.ts) and its tables: runs are
 * deterministic, one worker is the sequential ask -> tell loop, results arrive in finishing order
 * on the virtual clock, more workers finish sooner, and the report prints every cell.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBenchmark } from '../../bench/functions/index.js';
import { asyncTable, equalEvaluationsTable, equalTimeTable, type Cell } from '../../bench/lib/parallel-report.js';
import { endTime, regretAtTime, simulate } from '../../bench/lib/parallel-sim.js';
import { runOnce } from '../../bench/lib/regret-core.js';

const mfh3 = getBenchmark('mfh3');

test('same seed, same run: the simulation is deterministic (no wall clock)', () => {
  const a = simulate(mfh3, { workers: 8, evaluations: 300, seed: 11 });
  const b = simulate(mfh3, { workers: 8, evaluations: 300, seed: 11 });
  assert.deepEqual([...a.tellTimes], [...b.tellTimes]);
  assert.deepEqual([...a.regret], [...b.regret]);
  const c = simulate(mfh3, { workers: 8, evaluations: 300, seed: 12 });
  assert.notDeepEqual([...a.regret], [...c.regret]);
});

test('one worker is the sequential loop of bench:regret (same final incumbent)', () => {
  const sim = simulate(mfh3, { workers: 1, evaluations: 400, seed: 5 });
  const seq = runOnce(mfh3, 5, { fevals: 400, seeds: 1 });
  assert.equal(sim.regret[399], seq.finalTrueValue - mfh3.optimum.fitness);
});

test('results are told in finishing order; jobs last fidelity/max x U(0.9, 1.1)', () => {
  const one = simulate(mfh3, { workers: 1, evaluations: 187, seed: 3 });
  // one worker: the clock is the sum of durations; one Hyperband iteration of 1..100 costs
  // 81/81 + 27·3/81 + ... in units of max: 187 jobs with fidelity sum 81·1.2346+... = 5 full rungs
  const fidSum = (81 + 27 * 3 + 9 * 9 + 3 * 27 + 81) / 81 + (27 + 9 * 3 + 3 * 9 + 27) / 27 + (9 + 3 * 3 + 9) / 9 + (6 + 2 * 3) / 3 + 5;
  assert.ok(endTime(one) > 0.9 * fidSum && endTime(one) < 1.1 * fidSum, `end ${endTime(one)} vs ${fidSum}`);
  for (const w of [4, 16]) {
    const t = simulate(mfh3, { workers: w, evaluations: 400, seed: 3 });
    for (let i = 1; i < t.tellTimes.length; i++) assert.ok(t.tellTimes[i] >= t.tellTimes[i - 1]);
    assert.equal(Object.values(t.sources).reduce((s, n) => s + n, 0), 400, 'exactly `evaluations` jobs asked');
  }
  const t1 = simulate(mfh3, { workers: 1, evaluations: 400, seed: 3 });
  const t16 = simulate(mfh3, { workers: 16, evaluations: 400, seed: 3 });
  assert.ok(endTime(t16) < endTime(t1) / 8, `16 workers: ${endTime(t16)} vs ${endTime(t1)}`);
});

test('instant rungs (diagnostic): those jobs take no simulated time, every other duration and the tell order of one worker stay', () => {
  const normal = simulate(mfh3, { workers: 1, evaluations: 1870, seed: 4 });
  const instantTop = simulate(mfh3, { workers: 1, evaluations: 1870, seed: 4, instantRungs: [4] });
  assert.deepEqual([...instantTop.regret], [...normal.regret]);
  // 10 Hyperband iterations; the top rung is 10 of the 21 max-fidelity units of work per iteration
  const ratio = endTime(instantTop) / endTime(normal);
  assert.ok(ratio > 0.5 && ratio < 0.55, `end time ratio ${ratio}`);
  const all = simulate(mfh3, { workers: 16, evaluations: 300, seed: 4, instantRungs: [0, 1, 2, 3, 4] });
  assert.deepEqual([...new Set(all.tellTimes)], [0]);
  const w16 = simulate(mfh3, { workers: 16, evaluations: 1870, seed: 4 });
  const w16Top = simulate(mfh3, { workers: 16, evaluations: 1870, seed: 4, instantRungs: [4] });
  assert.notDeepEqual([...w16Top.regret], [...w16.regret], 'with 16 in flight, top results arriving at once change the run');
});

test('regretAtTime: Infinity before the first result, then the regret after the last tell at or before t', () => {
  const t = simulate(mfh3, { workers: 4, evaluations: 100, seed: 9 });
  assert.equal(regretAtTime(t, 0), Infinity);
  assert.equal(regretAtTime(t, t.tellTimes[10]), t.regret[10]);
  assert.equal(regretAtTime(t, (t.tellTimes[10] + t.tellTimes[11]) / 2), t.tellTimes[11] > t.tellTimes[10] ? t.regret[10] : t.regret[11]);
  assert.equal(regretAtTime(t, 1e9), t.regret[99]);
});

test('the tables list every problem, schedule and worker count', () => {
  const cells: Cell[] = [];
  for (const schedule of ['sync', 'async'] as const) {
    for (const workers of [1, 4]) {
      const traces = [1, 2, 3].map((seed) => simulate(mfh3, { workers, evaluations: 120, seed, optimizer: { schedule } }));
      cells.push({ problem: 'mfh3', schedule, workers, traces });
    }
  }
  const e = equalEvaluationsTable(cells, ['mfh3'], ['sync', 'async'], [1, 4]);
  assert.match(e, /mfh3\s+sync/);
  assert.match(e, /mfh3\s+async/);
  assert.match(e, /x\d+\.\d\d, p[=<]\d/);
  assert.match(equalTimeTable(cells, ['mfh3'], ['sync'], [1, 4]), /\(T\/4\)/);
  assert.match(asyncTable(cells, ['mfh3'], [1, 4]), /^mfh3\s+4 /m);
});

test('bad simulation options are refused naming the option', () => {
  assert.throws(() => simulate(mfh3, { workers: 0, evaluations: 10, seed: 1 }), /workers must be an integer >= 1/);
  assert.throws(() => simulate(mfh3, { workers: 2, evaluations: 1.5, seed: 1 }), /evaluations must be an integer >= 1/);
  assert.throws(() => simulate(mfh3, { workers: 2, evaluations: 10, seed: 1, optimizer: { schedule: 'fast' as never } }), /schedule must be 'sync'/);
});

test('mixed12: the minimum is MF-Hartmann 6 with the right categorical choices; wrong choices cost', () => {
  const m = getBenchmark('mixed12');
  assert.equal(Object.keys(m.space).length, 12);
  const opt = m.optimum.config!;
  assert.ok(Math.abs(m.trueValue(opt) - -3.32237) < 1e-4);
  assert.ok(Math.abs(m.trueValue({ ...opt, C_0: 'b' }) - m.trueValue(opt) - 0.05) < 1e-12);
  assert.ok(Math.abs(m.trueValue({ ...opt, C_5: 'c' }) - m.trueValue(opt) - 0.1) < 1e-12);
  const sim = simulate(m, { workers: 4, evaluations: 200, seed: 2 });
  assert.ok(sim.regret[199] >= 0 && Number.isFinite(sim.regret[199]));
});
