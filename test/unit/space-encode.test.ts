import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, parseSpace, roundHalfEven, sampleConfig } from '../../src/dehb/space/index.js';
import { createRng, uniform } from '../../src/dehb/rng.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

test('float linear: encode/decode are inverse and clamp to the bounds', () => {
  const s: SpaceSpec = parseSpace({ x: { type: 'float', low: -2, high: 6 } });
  assert.deepEqual(encode(s, { x: 2 }), [0.5]);
  assert.deepEqual(decode(s, [0.25]), { x: 0 });
  assert.deepEqual(decode(s, [0]), { x: -2 });
  assert.deepEqual(decode(s, [1]), { x: 6 });
  for (const x of [-2, -1.25, 0.1, 3.3, 6]) assert.ok(Math.abs((decode(s, encode(s, { x })).x as number) - x) < 1e-12);
  assert.deepEqual(encode(s, { x: 100 }), [1]);
});

test('float log scale', () => {
  const s = parseSpace({ lr: { type: 'float', low: 1e-4, high: 1, log: true } });
  assert.ok(Math.abs(encode(s, { lr: 1e-2 })[0] - 0.5) < 1e-12);
  assert.ok(Math.abs((decode(s, [0.75]).lr as number) - 1e-1) < 1e-12);
  assert.equal(decode(s, [0]).lr, 1e-4);
  assert.equal(decode(s, [1]).lr, 1);
  for (const lr of [1e-4, 3e-3, 0.5, 1]) assert.ok(Math.abs((decode(s, encode(s, { lr })).lr as number) / lr - 1) < 1e-12);
});

test('int rounds half to even (numpy) and clamps', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3]);
  const s = parseSpace({ n: { type: 'int', low: 0, high: 4 } });
  // v * 4: 0.125 -> 0.5 -> 0 ; 0.375 -> 1.5 -> 2 ; 0.625 -> 2.5 -> 2 ; 0.875 -> 3.5 -> 4
  assert.deepEqual([0.125, 0.375, 0.625, 0.875, 0, 1].map((v) => decode(s, [v]).n), [0, 2, 2, 4, 0, 4]);
  for (let n = 0; n <= 4; n++) assert.equal(decode(s, encode(s, { n })).n, n);
  const lg = parseSpace({ n: { type: 'int', low: 1, high: 1024, log: true } });
  for (const n of [1, 2, 3, 17, 100, 999, 1024]) assert.equal(decode(lg, encode(lg, { n })).n, n);
  assert.ok(Number.isInteger(decode(lg, [0.3337]).n));
});

test('categorical and ordinal: bin centres, decoding never shifts a choice', () => {
  for (let n = 1; n <= 200; n++) {
    const items = Array.from({ length: n }, (_, k) => `c${k}`);
    const s = parseSpace({ c: { type: 'categorical', choices: items }, o: { type: 'ordinal', values: items } });
    for (let k = 0; k < n; k++) {
      const v = encode(s, { c: items[k], o: items[k] });
      assert.equal(v[0], (k + 0.5) / n);
      assert.deepEqual(decode(s, v), { c: items[k], o: items[k] });
    }
    assert.equal(decode(s, [1, 1]).c, items[n - 1]);
    assert.equal(decode(s, [0, 0]).c, items[0]);
  }
  const s = parseSpace({ b: { type: 'categorical', choices: [true, false, 3] } });
  assert.deepEqual([0.1, 0.34, 0.67, 0.9999].map((v) => decode(s, [v]).b), [true, false, 3, 3]);
});

test('constant encodes 0.5 and always decodes to its value', () => {
  const s = parseSpace({ k: { type: 'constant', value: 'fixed' }, x: { type: 'float', low: 0, high: 1 } });
  assert.deepEqual(encode(s, { k: 'fixed', x: 0.25 }), [0.5, 0.25]);
  for (const v of [0, 0.3, 0.99, 1]) assert.equal(decode(s, [v, 0.5]).k, 'fixed');
});

const condSpace = parseSpace({
  opt: { type: 'categorical', choices: ['adam', 'sgd'] },
  momentum: { type: 'float', low: 0, high: 1, condition: { parent: 'opt', in: ['sgd'] } },
  nesterov: { type: 'categorical', choices: [false, true], condition: { parent: 'momentum', in: [0, 1] }, default: true },
  damp: { type: 'float', low: 0, high: 1, condition: { parent: 'opt', in: ['sgd'] }, default: 0.2 },
  beta: { type: 'float', low: 0.8, high: 1, condition: { parent: 'opt', in: ['adam'] } },
});

test('inactive conditional parameters are absent from decoded configs (transitively)', () => {
  const adam = decode(condSpace, [0.1, 1, 0.9, 0.5, 0.5]);
  assert.deepEqual(adam, { opt: 'adam', beta: 0.9 });
  const sgd = decode(condSpace, [0.9, 0.5, 0.9, 0.5, 0.5]);
  assert.deepEqual(sgd, { opt: 'sgd', momentum: 0.5, damp: 0.5 });
  const sgdEdge = decode(condSpace, [0.9, 1, 0.9, 0.5, 0.5]);
  assert.deepEqual(sgdEdge, { opt: 'sgd', momentum: 1, nesterov: true, damp: 0.5 });
  assert.deepEqual(Object.keys(sgdEdge), ['opt', 'momentum', 'nesterov', 'damp']);
});

test('encoding imputes defaults for absent conditional parameters', () => {
  // momentum: no default -> midpoint 0.5; nesterov: default true -> (1+0.5)/2; damp: default 0.2; beta active
  const e = encode(condSpace, { opt: 'adam', beta: 0.9 });
  assert.deepEqual(e.slice(0, 4), [0.25, 0.5, 0.75, 0.2]);
  assert.ok(Math.abs(e[4] - 0.5) < 1e-12);
  // inactive values present in the config are ignored (imputed) too
  const v = encode(condSpace, { opt: 'adam', beta: 1, momentum: 0.9 });
  assert.equal(v[1], 0.5);
  // categorical without default imputes its first choice
  const s = parseSpace({ a: { type: 'categorical', choices: ['x', 'y'] }, b: { type: 'categorical', choices: ['p', 'q', 'r', 's'], condition: { parent: 'a', in: ['y'] } } });
  assert.deepEqual(encode(s, { a: 'x' }), [0.25, 0.125]);
  // round trip through decode
  for (const cfg of [{ opt: 'adam', beta: 0.85 }, { opt: 'sgd', momentum: 0.3, damp: 0.1 }, { opt: 'sgd', momentum: 0, nesterov: false, damp: 1 }]) {
    const back = decode(condSpace, encode(condSpace, cfg));
    assert.deepEqual(Object.keys(back), Object.keys(cfg));
    for (const [k, val] of Object.entries(cfg)) {
      if (typeof val === 'number') assert.ok(Math.abs((back[k] as number) - val) < 1e-12);
      else assert.equal(back[k], val);
    }
  }
});

test('encode rejects values outside a choice list; decode checks the vector length', () => {
  assert.throws(() => encode(condSpace, { opt: 'rmsprop' }), /parameter 'opt'.*"rmsprop" is not one of/);
  assert.throws(() => encode(condSpace, { opt: 'adam', beta: 'x' }), /parameter 'beta'.*finite number/);
  assert.throws(() => decode(condSpace, [0.5]), RangeError);
});

test('random round trips for a mixed space', () => {
  const s = parseSpace({
    a: { type: 'float', low: -3, high: 3 },
    b: { type: 'int', low: -5, high: 5 },
    c: { type: 'categorical', choices: ['x', 'y', 'z'] },
    d: { type: 'ordinal', values: [1, 2, 4, 8, 16] },
    e: { type: 'float', low: 1e-3, high: 10, log: true, condition: { parent: 'c', in: ['y', 'z'] } },
    f: { type: 'constant', value: true },
  });
  const rng = createRng(4);
  for (let i = 0; i < 500; i++) {
    const { config, vector } = sampleConfig(s, rng);
    assert.equal(vector.length, 6);
    const again = decode(s, encode(s, config));
    assert.deepEqual(Object.keys(again), Object.keys(config));
    for (const k of Object.keys(config)) {
      const x = config[k];
      if (typeof x === 'number' && !Number.isInteger(x)) assert.ok(Math.abs((again[k] as number) - x) <= 1e-9 * Math.max(1, Math.abs(x)));
      else assert.equal(again[k], x);
    }
    assert.ok(uniform(rng) >= 0);
  }
});
