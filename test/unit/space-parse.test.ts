import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpace } from '../../src/dehb/space/index.js';
import { DehbError } from '../../src/errors.js';

function rejects(space: unknown, param: string | null, rule: string, text: RegExp): void {
  assert.throws(
    () => parseSpace(space),
    (err: unknown) => {
      assert.ok(err instanceof DehbError, 'a DehbError');
      assert.equal(err.code, 'E_SPACE');
      assert.equal(err.details?.rule, rule, err.message);
      assert.equal(err.details?.param, param);
      if (param !== null) assert.match(err.message, new RegExp(`'${param}'`));
      assert.match(err.message, text);
      return true;
    },
  );
}

test('accepts every kind and returns a normalised copy', () => {
  const raw = {
    lr: { type: 'float', low: 1e-4, high: 1, log: true },
    layers: { type: 'int', low: 1, high: 8 },
    opt: { type: 'categorical', choices: ['adam', 'sgd'] },
    momentum: { type: 'float', low: 0, high: 0.99, condition: { parent: 'opt', in: ['sgd'] }, default: 0.9 },
    size: { type: 'ordinal', values: [16, 32, 64] },
    seed: { type: 'constant', value: 7 },
  };
  const s = parseSpace(raw);
  assert.deepEqual(s, raw);
  assert.notEqual(s, raw);
  assert.notEqual(s.opt, raw.opt);
  assert.deepEqual(Object.keys(s), Object.keys(raw));
});

test('space-level errors', () => {
  rejects([], null, 'space-type', /must be an object.*array/);
  rejects(null, null, 'space-type', /must be an object/);
  rejects('x', null, 'space-type', /must be an object/);
  rejects({}, null, 'empty-space', /empty/);
});

test('spec shape and type errors', () => {
  rejects({ a: 3 }, 'a', 'spec-type', /must be an object with a 'type'/);
  rejects({ a: {} }, 'a', 'missing-field', /missing field 'type'.*float, int, categorical, ordinal, constant/);
  rejects({ a: { type: 'normal' } }, 'a', 'unknown-type', /unknown type "normal"/);
  rejects({ a: { type: 'float', lower: 0, low: 0, high: 1 } }, 'a', 'unknown-field', /unknown field 'lower'/);
  rejects({ a: { type: 'float' } }, 'a', 'missing-field', /missing fields 'low' and 'high'/);
  rejects({ a: { type: 'float', low: 0 } }, 'a', 'missing-field', /missing field 'high'/);
  rejects({ a: { type: 'float', high: 1 } }, 'a', 'missing-field', /missing field 'low'/);
  rejects({ a: { type: 'float', low: '0', high: 1 } }, 'a', 'bound-type', /'low' must be a number/);
  rejects({ __proto__: null, '': { type: 'constant', value: 1 } }, '', 'bad-name', /not a usable parameter name/);
});

test('numeric bound rules', () => {
  rejects({ a: { type: 'float', low: 1, high: 1 } }, 'a', 'low-ge-high', /low must be < high \(got low=1, high=1\)/);
  rejects({ a: { type: 'int', low: 5, high: 2 } }, 'a', 'low-ge-high', /low must be < high/);
  rejects({ a: { type: 'float', low: 0, high: 1, log: true } }, 'a', 'log-low', /log scale needs low > 0 \(got low=0\)/);
  rejects({ a: { type: 'float', low: -1, high: 1, log: true } }, 'a', 'log-low', /low > 0/);
  rejects({ a: { type: 'float', low: 0, high: Infinity } }, 'a', 'non-finite-bound', /'high' must be finite \(got Infinity\)/);
  rejects({ a: { type: 'float', low: NaN, high: 1 } }, 'a', 'non-finite-bound', /'low' must be finite/);
  rejects({ a: { type: 'int', low: 0.5, high: 3 } }, 'a', 'int-bound', /int bounds must be integers/);
  rejects({ a: { type: 'float', low: 0, high: 1, log: 'yes' } }, 'a', 'log-type', /'log' must be a boolean/);
});

test('choice rules', () => {
  rejects({ a: { type: 'categorical' } }, 'a', 'missing-field', /missing field 'choices'/);
  rejects({ a: { type: 'categorical', choices: [] } }, 'a', 'empty-items', /'choices' is empty/);
  rejects({ a: { type: 'ordinal', values: [] } }, 'a', 'empty-items', /'values' is empty/);
  rejects({ a: { type: 'categorical', choices: 'ab' } }, 'a', 'items-type', /must be an array/);
  rejects({ a: { type: 'categorical', choices: ['x', 'y', 'x'] } }, 'a', 'duplicate-item', /contains "x" twice/);
  rejects({ a: { type: 'ordinal', values: [1, 2, 2] } }, 'a', 'duplicate-item', /contains 2 twice/);
  rejects({ a: { type: 'categorical', choices: [{}] } }, 'a', 'item-type', /only strings, numbers and booleans/);
  rejects({ a: { type: 'constant' } }, 'a', 'missing-field', /missing field 'value'/);
  rejects({ a: { type: 'constant', value: [1] } }, 'a', 'value-type', /'value' must be/);
});

test('defaults must lie in the domain', () => {
  rejects({ a: { type: 'float', low: 0, high: 1, default: 2 } }, 'a', 'default-domain', /default 2 is not in the domain \(a number in \[0, 1\]\)/);
  rejects({ a: { type: 'int', low: 0, high: 4, default: 1.5 } }, 'a', 'default-domain', /an integer in \[0, 4\]/);
  rejects({ a: { type: 'categorical', choices: ['x'], default: 'y' } }, 'a', 'default-domain', /one of \["x"\]/);
});

test('condition rules', () => {
  rejects({ a: { type: 'float', low: 0, high: 1, condition: { parent: 'nope', in: [1] } } }, 'a', 'condition-missing-parent', /parent 'nope' is not a parameter/);
  rejects(
    { opt: { type: 'categorical', choices: ['adam', 'sgd'] }, m: { type: 'float', low: 0, high: 1, condition: { parent: 'opt', in: ['rmsprop'] } } },
    'm',
    'condition-value',
    /"rmsprop" can never be taken by parent 'opt'/,
  );
  rejects(
    { n: { type: 'int', low: 1, high: 3 }, m: { type: 'float', low: 0, high: 1, condition: { parent: 'n', in: [1.5] } } },
    'm',
    'condition-value',
    /1\.5 can never be taken by parent 'n' \(an integer in \[1, 3\]\)/,
  );
  rejects(
    {
      a: { type: 'categorical', choices: [1, 2], condition: { parent: 'b', in: [1] } },
      b: { type: 'categorical', choices: [1, 2], condition: { parent: 'a', in: [1] } },
    },
    'a',
    'condition-cycle',
    /cycle: a -> b -> a/,
  );
  rejects({ a: { type: 'categorical', choices: [1, 2], condition: { parent: 'a', in: [1] } } }, 'a', 'condition-cycle', /cycle: a -> a/);
  rejects({ a: { type: 'float', low: 0, high: 1, condition: { parent: 'b' } }, b: { type: 'constant', value: 1 } }, 'a', 'condition-op', /needs exactly one test of in, eq, neq, lt, gt/);
  rejects({ a: { type: 'float', low: 0, high: 1, condition: 'b' } }, 'a', 'condition-type', /must be an object/);
  rejects({ a: { type: 'float', low: 0, high: 1, condition: { parent: 'b', in: [1], when: 1 } }, b: { type: 'constant', value: 1 } }, 'a', 'condition-field', /unknown condition field 'when'/);
});

test('conditions may refer to later parameters and chain', () => {
  const s = parseSpace({
    c: { type: 'float', low: 0, high: 1, condition: { parent: 'b', in: [true] } },
    b: { type: 'categorical', choices: [true, false], condition: { parent: 'a', in: ['on'] } },
    a: { type: 'categorical', choices: ['on', 'off'] },
  });
  assert.deepEqual(Object.keys(s), ['c', 'b', 'a']);
});
