/**
 * Benchmark functions (bench/functions) and the regret script's logic: values at known optima,
 * fidelity mapping, deterministic noise, counting-ones expectations, report shape.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/dehb/types.js';
import { BENCHMARK_NAMES, BENCHMARKS, getBenchmark } from '../../bench/functions/index.js';
import { BRANIN_OPTIMUM, braninValue } from '../../bench/functions/branin.js';
import { countingOnes, countingOnesSamples } from '../../bench/functions/counting-ones.js';
import { levyValue, mfLevyValue } from '../../bench/functions/levy.js';
import { mfHartmannValue, mfhZ } from '../../bench/functions/mf-hartmann.js';
import { truncFidelity } from '../../bench/functions/types.js';
import { Prng, deriveSeeds, hashVector } from '../../bench/lib/prng.js';
import { runRegret } from '../../bench/lib/regret-core.js';
import { checkpointIndex, mean, popStd } from '../../bench/lib/stats.js';

/** Reference ladder: max * eta^-(L-1-i), L = floor(log_eta(max/min) + 1e-9) + 1. */
function ladder(min: number, max: number, eta: number): number[] {
  const L = Math.floor(Math.log(max / min) / Math.log(eta) + 1e-9) + 1;
  return Array.from({ length: L }, (_, i) => max * eta ** -(L - 1 - i));
}

function randomConfig(rng: Prng, names: string[]): Config {
  const c: Config = {};
  for (const n of names) c[n] = rng.uniform();
  return c;
}

describe('MF-Hartmann', () => {
  it('equals the known optima at z = 100 (noise- and bias-free)', () => {
    const h3 = getBenchmark('mfh3');
    const h6 = getBenchmark('mfh6');
    const rng = new Prng(7);
    const v3 = h3.objective(h3.optimum.config!, 100, rng).fitness;
    const v6 = h6.objective(h6.optimum.config!, 100, rng).fitness;
    assert.ok(Math.abs(v3 - -3.86278) < 1e-4, `mfh3 at optimum: ${v3}`);
    assert.ok(Math.abs(v6 - -3.32237) < 1e-4, `mfh6 at optimum: ${v6}`);
    assert.equal(h3.trueValue(h3.optimum.config!), v3);
    assert.equal(h3.optimum.fitness, -3.86278);
    assert.equal(h6.optimum.fitness, -3.32237);
    // the variants share the optimum at z = 100
    const t3 = getBenchmark('mfh3_terrible');
    assert.equal(t3.objective(t3.optimum.config!, 100, rng).fitness, v3);
  });

  it('maps ladder values to integer z by truncation with an epsilon guard', () => {
    const h3 = getBenchmark('mfh3');
    assert.equal(h3.minFidelity, 1);
    assert.equal(h3.maxFidelity, 100);
    const zs = ladder(h3.minFidelity, h3.maxFidelity, h3.eta).map(mfhZ);
    assert.deepEqual(zs, [1, 3, 11, 33, 100]);
    assert.deepEqual(ladder(3, 100, 3).map(mfhZ), [3, 11, 33, 100]);
    assert.equal(mfhZ(0.9999999999999999), 1);
    assert.equal(mfhZ(2.9999999999), 3);
    assert.equal(mfhZ(3.0000000000000004), 3);
    assert.equal(truncFidelity(11.52), 11);
    assert.equal(getBenchmark('mfh6', { minFidelity: 3 }).minFidelity, 3);
  });

  it('has noise that is deterministic per (seed, config, fidelity) and non-negative', () => {
    const xs = [0.3, 0.6, 0.1];
    const a = mfHartmannValue(3, xs, 11, 0.5, 0.1, 42);
    assert.equal(mfHartmannValue(3, xs, 11, 0.5, 0.1, 42), a);
    assert.equal(mfHartmannValue(3, [...xs], 11, 0.5, 0.1, 42), a);
    assert.notEqual(mfHartmannValue(3, xs, 11, 0.5, 0.1, 43), a);
    const biased = mfHartmannValue(3, xs, 11, 0.5, 0, 42);
    assert.ok(a > biased, 'noise is |N(0,1)| * noise * (1 - s) >= 0');
    // same through the benchmark objective: the rng state does not matter, only rng.seed
    const h3 = getBenchmark('mfh3');
    const cfg = { X_0: 0.3, X_1: 0.6, X_2: 0.1 };
    const r1 = new Prng(42);
    const r2 = new Prng(42);
    r2.uniform();
    r2.uniform();
    assert.equal(h3.objective(cfg, 11.11, r1).fitness, h3.objective(cfg, 11.11, r2).fitness);
    assert.equal(h3.objective(cfg, 11.11, r1).fitness, a);
    // seed 0 behaves as 1337 (mfpbench's default for a falsy seed)
    assert.equal(mfHartmannValue(3, xs, 11, 0.5, 0.1, 0), mfHartmannValue(3, xs, 11, 0.5, 0.1, 1337));
  });

  it('has |N(0,1)|-distributed noise scaled by noise * (1 - ln z / ln 100)', () => {
    const rng = new Prng(3);
    const z = 3;
    const scale = 0.1 * (1 - Math.log(z) / Math.log(100));
    const draws: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const xs = [rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform()];
      draws.push((mfHartmannValue(6, xs, z, 0.5, 0.1, 5) - mfHartmannValue(6, xs, z, 0.5, 0, 5)) / scale);
    }
    assert.ok(draws.every((d) => d >= 0));
    assert.ok(Math.abs(mean(draws) - Math.sqrt(2 / Math.PI)) < 0.04, `mean |N| = ${mean(draws)}`);
    const rms = Math.sqrt(mean(draws.map((d) => d * d)));
    assert.ok(Math.abs(rms - 1) < 0.05, `rms |N| = ${rms}`);
  });

  it('is flatter (biased upward) at low fidelity at the optimum', () => {
    const opt = [0.114614, 0.555649, 0.852547];
    const v = [1, 3, 11, 33, 100].map((z) => mfHartmannValue(3, opt, z, 0.5, 0, 1));
    for (let i = 1; i < v.length; i++) assert.ok(v[i] < v[i - 1]);
  });
});

describe('counting ones', () => {
  it('has the reference fidelity range and sample counts for D = 100', () => {
    const b = getBenchmark('countingones');
    assert.equal(b.minFidelity, 5.76);
    assert.equal(b.maxFidelity, 933.12);
    assert.equal(b.meanDivisor, 100);
    assert.equal(Object.keys(b.space).length, 100);
    assert.deepEqual(Object.keys(b.space).slice(49, 51), ['cat_49', 'float_0']);
    assert.deepEqual(ladder(b.minFidelity, b.maxFidelity, 3).map(countingOnesSamples), [11, 34, 103, 311, 933]);
    assert.equal(countingOnesSamples(0.9999999999999999), 1);
    assert.equal(countingOnesSamples(0.2), 1);
  });

  it('is exactly -D at all ones and 0 at all zeros, at every fidelity', () => {
    const b = countingOnes({ nCat: 3, nCont: 5 });
    const rng = new Prng(1);
    const zeros: Config = {};
    for (const k of Object.keys(b.space)) zeros[k] = 0;
    for (const f of [1, 11.52, 933.12]) {
      assert.equal(b.objective(b.optimum.config!, f, rng).fitness, -8);
      assert.equal(b.objective(zeros, f, rng).fitness, -0);
      assert.equal(b.objective(zeros, f, rng).cost, f);
    }
    assert.equal(b.optimum.fitness, -8);
    assert.equal(b.trueValue(b.optimum.config!), -8);
  });

  it('has expected value -(Σcat + Σp) and variance shrinking with fidelity', () => {
    const b = countingOnes({ nCat: 2, nCont: 4 });
    const cfg: Config = { cat_0: 1, cat_1: 0, float_0: 0.3, float_1: 0.5, float_2: 0.9, float_3: 0.1 };
    const expected = -(1 + 0.3 + 0.5 + 0.9 + 0.1);
    assert.ok(Math.abs(b.trueValue(cfg) - expected) < 1e-12);
    const rng = new Prng(11);
    const lo = Array.from({ length: 3000 }, () => b.objective(cfg, 11, rng).fitness);
    const hi = Array.from({ length: 3000 }, () => b.objective(cfg, 311, rng).fitness);
    assert.ok(Math.abs(mean(lo) - expected) < 0.02, `mean at 11 samples ${mean(lo)}`);
    assert.ok(Math.abs(mean(hi) - expected) < 0.01, `mean at 311 samples ${mean(hi)}`);
    // Var of a mean of n Bernoulli(p): p(1-p)/n; sum over floats
    const varSum = (n: number) => [0.3, 0.5, 0.9, 0.1].reduce((s, p) => s + (p * (1 - p)) / n, 0);
    assert.ok(Math.abs(popStd(lo) - Math.sqrt(varSum(11))) < 0.02);
    assert.ok(popStd(hi) < popStd(lo) / 4);
    // values at 11 samples are multiples of 1/11 per float
    const v = b.objective(cfg, 11.52, new Prng(5)).fitness;
    assert.ok(Number.isFinite(v) && v <= -1 && v >= -5);
  });

  it('is reproducible for the same run rng seed', () => {
    const b = getBenchmark('countingones');
    const cfg = randomConfig(new Prng(2), Object.keys(b.space));
    for (const k of Object.keys(b.space)) if (k.startsWith('cat_')) cfg[k] = (cfg[k] as number) < 0.5 ? 0 : 1;
    const a = [new Prng(9), new Prng(9)].map((r) => [b.objective(cfg, 34.56, r).fitness, b.objective(cfg, 34.56, r).fitness]);
    assert.deepEqual(a[0], a[1]);
  });
});

describe('classic functions', () => {
  it('MF-Branin reaches 0.397887 at its three minimisers at max fidelity only', () => {
    for (const [x1, x2] of [[-Math.PI, 12.275], [Math.PI, 2.275], [9.42478, 2.475]]) {
      assert.ok(Math.abs(braninValue(x1, x2, 1) - BRANIN_OPTIMUM) < 1e-5);
    }
    const b = getBenchmark('branin');
    const opt = b.optimum.config!;
    assert.ok(Math.abs(b.objective(opt, 81, new Prng(1)).fitness - BRANIN_OPTIMUM) < 1e-5);
    assert.ok(Math.abs(b.objective(opt, 1, new Prng(1)).fitness - BRANIN_OPTIMUM) > 0.1);
    assert.deepEqual(ladder(b.minFidelity, b.maxFidelity, b.eta), [1, 3, 9, 27, 81]);
  });

  it('MF-Levy is 0 at (1,1,1,1) at max fidelity, shifted and noisy below, deterministic', () => {
    assert.ok(levyValue([1, 1, 1, 1]) < 1e-12);
    const b = getBenchmark('levy');
    assert.ok(b.objective(b.optimum.config!, 27, new Prng(3)).fitness < 1e-12);
    const lo = mfLevyValue([1, 1, 1, 1], 1, 3);
    assert.notEqual(lo, 0);
    assert.equal(mfLevyValue([1, 1, 1, 1], 1, 3), lo);
    assert.notEqual(mfLevyValue([1, 1, 1, 1], 1, 4), lo);
    assert.equal(b.objective(b.optimum.config!, 1, new Prng(3)).fitness, lo);
    assert.ok(levyValue([2, -3, 4, 0]) > 0);
  });
});

describe('registry and helpers', () => {
  it('builds every benchmark with a coherent definition', () => {
    assert.ok(BENCHMARK_NAMES.length >= 13);
    for (const name of BENCHMARK_NAMES) {
      const b = BENCHMARKS[name];
      assert.equal(b.name, name);
      assert.ok(b.maxFidelity > b.minFidelity && b.eta > 1);
      const cfg = b.optimum.config!;
      assert.deepEqual(Object.keys(cfg).sort(), Object.keys(b.space).sort());
      const r = b.objective(cfg, b.maxFidelity, new Prng(1));
      assert.ok(Math.abs(r.fitness - b.optimum.fitness) < 1e-4, `${name}: ${r.fitness} vs ${b.optimum.fitness}`);
      assert.ok(Number.isFinite(r.cost));
    }
    assert.throws(() => getBenchmark('nope'), /unknown benchmark "nope"; valid: countingones/);
  });

  it('derives distinct deterministic seeds and stable hashes', () => {
    assert.deepEqual(deriveSeeds(0, 5), deriveSeeds(0, 5));
    assert.notDeepEqual(deriveSeeds(0, 5), deriveSeeds(1, 5));
    assert.equal(new Set(deriveSeeds(0, 50)).size, 50);
    assert.ok(deriveSeeds(0, 50).every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 31));
    assert.deepEqual(hashVector([0.1, 0.2]), hashVector([0.1, 0.2]));
    assert.deepEqual(hashVector([0, 1]), hashVector([-0, 1]));
    assert.notDeepEqual(hashVector([0.1, 0.2]), hashVector([0.2, 0.1]));
    const u = new Prng(1);
    const xs = Array.from({ length: 10000 }, () => u.uniform());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(Math.abs(mean(xs) - 0.5) < 0.02);
  });

  it('uses the reference checkpoints (int(p * n) - 1)', () => {
    assert.deepEqual([20, 40, 60, 80, 100].map((p) => checkpointIndex(p, 300)), [59, 119, 179, 239, 299]);
    assert.deepEqual([20, 40, 60, 80, 100].map((p) => checkpointIndex(p, 30)), [5, 11, 17, 23, 29]);
  });
});

describe('regret script logic', () => {
  it('runs DEHB 2 seeds x 30 fevals and reports the documented JSON shape', () => {
    const bench = getBenchmark('mfh3');
    const { report, traces } = runRegret(bench, { fevals: 30, seeds: 2, masterSeed: 0 });
    const parsed = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    for (const key of ['benchmark', 'fevals', 'seeds', 'at', 'final_mean', 'final_std']) assert.ok(key in parsed, key);
    assert.equal(parsed.benchmark, 'mfh3');
    assert.equal(parsed.fevals, 30);
    assert.equal(parsed.seeds, 2);
    assert.deepEqual(Object.keys(report.at), ['20', '40', '60', '80', '100']);
    for (const cp of Object.values(report.at)) assert.ok(Number.isFinite(cp.mean) && Number.isFinite(cp.std));
    assert.equal(report.at['100'].mean, report.final_mean);
    assert.equal(report.incumbent_mismatches, 0);
    assert.equal(traces.length, 2);
    for (const t of traces) {
      assert.equal(t.trajectory.length, 30);
      for (let i = 1; i < 30; i++) assert.ok(t.trajectory[i] <= t.trajectory[i - 1]);
      // bracket 0 of 1..100/eta 3 starts with 81 evaluations at 1.23457 (z = 1)
      assert.deepEqual(t.evalsPerFidelity, { '1.23457': 30 });
    }
    assert.deepEqual(report.run_seeds, deriveSeeds(0, 2));
    assert.ok(Math.abs(report.final_mean - mean(traces.map((t) => t.trajectory[29]))) < 1e-12);
    // deterministic: same master seed, same numbers
    assert.deepEqual(runRegret(bench, { fevals: 30, seeds: 2, masterSeed: 0 }).report, report);
  });

  it('divides counting-ones means by D and keeps std raw', () => {
    const bench = countingOnes({ nCat: 4, nCont: 4 });
    const { report, traces } = runRegret(bench, { fevals: 20, seeds: 2, masterSeed: 3 });
    const finals = traces.map((t) => t.trajectory[19]);
    assert.ok(Math.abs(report.final_mean - mean(finals) / 8) < 1e-12);
    assert.ok(Math.abs(report.final_std - popStd(finals)) < 1e-12);
    assert.equal(report.mean_divisor, 8);
  });
});
