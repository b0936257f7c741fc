import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createState, push } from '../../src/dehb/optimizer.js';
import { cloneRng, createRng } from '../../src/dehb/rng.js';
import { decode, defineSpace, isForbiddenVector, param, parseSpace, repairForbidden, sampleConfig, validateConfig } from '../../src/dehb/space/index.js';
import { DehbError } from '../../src/errors.js';
import type { Config, SpaceSpec } from '../../src/dehb/types.js';
import { priorCoordinate, sampleVector } from '../../src/dehb/space/sample.js';
import { compileSpace } from '../../src/dehb/space/compile.js';
import { runFifo, runSequential } from './optimizer-helpers.js';

/** 2/3 of the (opt, x) plane is forbidden, plus one value of n. */
const space: SpaceSpec = parseSpace({
  parameters: {
    opt: { type: 'categorical', choices: ['a', 'b', 'c'] },
    x: { type: 'float', low: -5, high: 5 },
    n: { type: 'int', low: 1, high: 4 },
    y: { type: 'float', low: -5, high: 5, condition: { parent: 'n', gt: 2 } },
  },
  forbidden: [
    { all: [{ param: 'opt', in: ['a', 'b'] }, { param: 'x', gt: -2 }] },
    { param: 'n', eq: 2 },
    { all: [{ param: 'y', lt: 0 }, { param: 'opt', eq: 'c' }] },
  ],
});

function forbidden(c: Config): boolean {
  if ((c.opt === 'a' || c.opt === 'b') && (c.x as number) > -2) return true;
  if (c.n === 2) return true;
  return c.y !== undefined && (c.y as number) < 0 && c.opt === 'c';
}

function e_space(re: RegExp) {
  return (e: unknown) => e instanceof DehbError && e.code === 'E_SPACE' && re.test(e.message);
}

test('a DEHB run never hands out a forbidden configuration, sequentially and with jobs in flight (sync and async schedules)', () => {
  let blind = 0;
  const rng = createRng(11);
  for (let i = 0; i < 2000; i++) if (forbidden(sampleConfig(space, rng).config)) blind++;
  assert.ok(blind > 1000, `most of the space is forbidden (${blind}/2000), so repairs are exercised`);
  const runsToCheck = [
    runSequential(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 5 }), 400),
    runFifo(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 6 }), 8, 400),
    runFifo(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 7, schedule: 'async' }), 8, 400),
  ];
  for (const jobs of runsToCheck) {
    for (const j of jobs) {
      assert.equal(forbidden(j.config), false, `trial ${j.trialId} ${JSON.stringify(j.config)} is forbidden`);
      assert.deepEqual(decode(space, j.vector), j.config, 'the job vector is the repaired one');
    }
    assert.ok(new Set(jobs.map((j) => j.config.opt)).size === 3, 'repair does not collapse onto one choice');
  }
});

test('random search never proposes a forbidden configuration; runs are deterministic per seed', () => {
  const a = runSequential(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 9, kind: 'random' }), 300);
  assert.equal(a.some((j) => forbidden(j.config)), false);
  const b = runSequential(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 9, kind: 'random' }), 300);
  assert.deepEqual(b, a);
  const d1 = runSequential(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 4 }), 200);
  const d2 = runSequential(createState({ space, minFidelity: 1, maxFidelity: 27, seed: 4 }), 200);
  assert.deepEqual(d2, d1);
});

test('repairForbidden returns an allowed vector itself and draws nothing; a forbidden one is repaired', () => {
  const rng = createRng(1);
  const ok = [0.9, 0.9, 0.0, 0.9]; // opt c, x 4, n 1
  const before = cloneRng(rng);
  assert.equal(repairForbidden(space, rng, ok), ok);
  assert.deepEqual(rng, before);
  const bad = [0.1, 0.9, 0.0, 0.9]; // opt a, x 4
  assert.equal(isForbiddenVector(space, bad), true);
  const fixed = repairForbidden(space, rng, bad);
  assert.equal(isForbiddenVector(space, fixed), false);
  assert.equal(fixed[2], bad[2], 'coordinates the violated clause does not read are kept');
  assert.deepEqual(bad, [0.1, 0.9, 0.0, 0.9], 'the input is not modified');
});

test('a space whose clauses forbid everything fails with a clear error instead of looping', () => {
  const all = parseSpace({ parameters: { a: { type: 'categorical', choices: [1, 2] } }, forbidden: [{ param: 'a', in: [1, 2] }] });
  assert.throws(() => runSequential(createState({ space: all, minFidelity: 1, maxFidelity: 9, seed: 1 }), 1), e_space(/forbidden clauses exclude \(almost\) the whole space/));
});

test('pushing or validating a forbidden configuration is refused, naming the clause', () => {
  assert.throws(() => validateConfig(space, { opt: 'a', x: 0, n: 1 }), e_space(/forbidden by the space's clause .*"opt"/));
  assert.throws(() => validateConfig(space, { opt: 'c', x: 0, n: 2 }), e_space(/\{"param":"n","eq":2\}/));
  assert.deepEqual(validateConfig(space, { opt: 'c', x: 0, n: 3, y: 1 }), { opt: 'c', x: 0, n: 3, y: 1 });
  const st = createState({ space, minFidelity: 1, maxFidelity: 27, seed: 1 });
  assert.throws(() => push(st, { opt: 'b', x: 3, n: 1 }), e_space(/forbidden/));
});

test('our JSON: conditions eq, neq, in, lt, gt (numeric and ordinal parents), all, any', () => {
  const s = parseSpace({
    n: { type: 'int', low: 1, high: 5 },
    size: { type: 'ordinal', values: ['s', 'm', 'l'] },
    k: { type: 'categorical', choices: ['u', 'v'] },
    eq: { type: 'float', low: 0, high: 1, condition: { parent: 'k', eq: 'u' } },
    neq: { type: 'float', low: 0, high: 1, condition: { parent: 'k', neq: 'u' } },
    lt: { type: 'float', low: 0, high: 1, condition: { parent: 'n', lt: 3 } },
    gt: { type: 'float', low: 0, high: 1, condition: { parent: 'size', gt: 's' } },
    all: { type: 'float', low: 0, high: 1, condition: { all: [{ parent: 'n', gt: 1 }, { parent: 'k', in: ['v'] }] } },
    any: { type: 'float', low: 0, high: 1, condition: { any: [{ parent: 'n', eq: 5 }, { parent: 'eq', gt: 0.5 }] } },
  });
  const active = (n: number, size: string, k: string, eqv = 0.9) =>
    Object.keys(validateConfig(s, { n, size, k, eq: eqv, neq: 0, lt: 0, gt: 0, all: 0, any: 0 })).filter((x) => !['n', 'size', 'k'].includes(x));
  assert.deepEqual(active(1, 's', 'u'), ['eq', 'lt', 'any']);
  assert.deepEqual(active(4, 'm', 'v'), ['neq', 'gt', 'all']);
  assert.deepEqual(active(5, 'l', 'v'), ['neq', 'gt', 'all', 'any'], 'any: n eq 5 even though eq is inactive');
  assert.deepEqual(active(2, 's', 'u', 0.1), ['eq', 'lt']);
});

test('our JSON: condition and forbidden shape errors name the parameter and the rule', () => {
  const f = { type: 'float', low: 0, high: 1 };
  assert.throws(() => parseSpace({ k: { type: 'categorical', choices: ['u'] }, a: { ...f, condition: { parent: 'k', lt: 'u' } } }), e_space(/parameter 'a': condition 'lt' needs a numeric or ordinal parent; 'k' is categorical/));
  assert.throws(() => parseSpace({ k: f, a: { ...f, condition: { parent: 'k', eq: 0.5, neq: 1 } } }), e_space(/'a': a condition needs exactly one test/));
  assert.throws(() => parseSpace({ k: f, a: { ...f, condition: { parent: 'k', le: 0.5 } } }), e_space(/unknown condition field 'le'/));
  assert.throws(() => parseSpace({ k: f, a: { ...f, condition: { all: [] } } }), e_space(/'all' must be a non-empty array of conditions/));
  assert.throws(() => parseSpace({ parameters: { k: f }, forbidden: [{ param: 'z', eq: 1 }] }), e_space(/forbidden clause param 'z' is not a parameter/));
  assert.throws(() => parseSpace({ parameters: { k: f }, forbidden: [{ param: 'k', neq: 1 }] }), e_space(/unknown forbidden clause field 'neq'/));
  assert.throws(() => parseSpace({ parameters: { k: f }, forbidden: { param: 'k', eq: 1 } }), e_space(/'forbidden' must be an array/));
  assert.throws(
    () => parseSpace({ a: { ...f, condition: { all: [{ parent: 'b', gt: 0 }] } }, b: { ...f, condition: { any: [{ parent: 'a', gt: 0 }] } } }),
    e_space(/conditions form a cycle: a -> b -> a/),
  );
});

test('the builder takes every condition kind and forbidden clauses', () => {
  const s = defineSpace(
    {
      opt: param.categorical(['adam', 'sgd'] as const, { default: 'adam' }),
      mom: param.float(0, 1, { condition: { all: [{ parent: 'opt', eq: 'sgd' }] } }),
      n: param.int(1, 4),
    },
    { forbidden: [{ all: [{ param: 'opt', eq: 'adam' }, { param: 'n', ge: 4 }] }] },
  );
  assert.deepEqual(s.n.forbidden, [{ all: [{ param: 'opt', eq: 'adam' }, { param: 'n', ge: 4 }] }]);
  assert.throws(() => validateConfig(s, { opt: 'adam', n: 4 }), e_space(/forbidden/));
  const plain = defineSpace({ a: param.float(0, 1) });
  assert.deepEqual(plain, { a: { type: 'float', low: 0, high: 1 } });
});

test('initial and random samples follow categorical weights and truncated normal priors', () => {
  const s = parseSpace({
    c: { type: 'categorical', choices: ['x', 'y', 'z'], weights: [6, 3, 1] },
    w: { type: 'float', low: 0, high: 10, prior: { mu: 3, sigma: 1 } },
    l: { type: 'float', low: 1, high: 1000, log: true, prior: { mu: Math.log(10), sigma: 0.5 } },
  });
  const rng = createRng(2);
  const counts: Record<string, number> = { x: 0, y: 0, z: 0 };
  let sum = 0;
  let sq = 0;
  let logSum = 0;
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const { config } = sampleConfig(s, rng);
    counts[config.c as string]++;
    sum += config.w as number;
    sq += (config.w as number) ** 2;
    logSum += Math.log(config.l as number);
  }
  assert.ok(Math.abs(counts.x / N - 0.6) < 0.015 && Math.abs(counts.y / N - 0.3) < 0.015 && Math.abs(counts.z / N - 0.1) < 0.01, JSON.stringify(counts));
  const mean = sum / N;
  assert.ok(Math.abs(mean - 3) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sq / N - mean * mean) - 1) < 0.03);
  assert.ok(Math.abs(logSum / N - Math.log(10)) < 0.02);
  const st = createState({ space: s, minFidelity: 1, maxFidelity: 27, seed: 3 });
  const all = st.subpops.flatMap((sp) => sp.vectors.map((v) => decode(s, v)));
  assert.ok(all.filter((c) => c.c === 'x').length > all.filter((c) => c.c === 'z').length, 'initial populations follow the weights');
  // a space without weights or priors samples exactly a uniform vector
  const u = parseSpace({ a: { type: 'float', low: 0, high: 1 }, b: { type: 'categorical', choices: [1, 2, 3] } });
  const st2 = createState({ space: u, minFidelity: 1, maxFidelity: 3, seed: 8 });
  assert.deepEqual(st2.subpops[0].vectors[0], sampleVector(createRng(8), 2));
});

test('a choice of weight 0 is never sampled, even for a draw at the very top of [0, 1)', () => {
  const s = parseSpace({ c: { type: 'categorical', choices: ['a', 'b', 'z'], weights: [1, 1, 0] } });
  const p = compileSpace(s).params[0];
  for (const u of [0, 0.25, 0.4999999, 0.5, 0.75, 0.9999999999999999]) {
    assert.notEqual(decode(s, [priorCoordinate(p, u)]).c, 'z', `u=${u}`);
  }
  assert.equal(decode(s, [priorCoordinate(p, 0.2)]).c, 'a');
  assert.equal(decode(s, [priorCoordinate(p, 0.7)]).c, 'b');
});
