import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSpace, param, parseSpace, type ConfigOf } from '../../src/dehb/space/index.js';
import { DehbError } from '../../src/errors.js';

test('builders return plain specs', () => {
  assert.deepEqual(param.float(0, 1), { type: 'float', low: 0, high: 1 });
  assert.deepEqual(param.float(1e-4, 1, { log: true }), { type: 'float', low: 1e-4, high: 1, log: true });
  assert.deepEqual(param.int(1, 8, { default: 2 }), { type: 'int', low: 1, high: 8, default: 2 });
  assert.deepEqual(param.categorical(['a', 'b'], { condition: { parent: 'x', in: [1] } }), {
    type: 'categorical',
    choices: ['a', 'b'],
    condition: { parent: 'x', in: [1] },
  });
  assert.deepEqual(param.ordinal([1, 2, 4]), { type: 'ordinal', values: [1, 2, 4] });
  assert.deepEqual(param.constant('x'), { type: 'constant', value: 'x' });
});

test('defineSpace validates and returns the same object, typed', () => {
  const space = defineSpace({
    lr: param.float(1e-4, 1, { log: true }),
    opt: param.categorical(['adam', 'sgd']),
    momentum: param.float(0, 1, { condition: { parent: 'opt', in: ['sgd'] } }),
    bs: param.ordinal([16, 32]),
  });
  assert.deepEqual(parseSpace(space), space);
  // compile-time check of the inferred config type
  const cfg: ConfigOf<typeof space> = { lr: 0.1, opt: 'sgd', bs: 16 };
  const opt: 'adam' | 'sgd' = cfg.opt;
  const m: number | undefined = cfg.momentum;
  assert.equal(opt, 'sgd');
  assert.equal(m, undefined);
});

test('defineSpace rejects invalid specs naming the parameter', () => {
  assert.throws(
    () => defineSpace({ lr: param.float(0, 1, { log: true }) }),
    (e: unknown) => e instanceof DehbError && e.code === 'E_SPACE' && /'lr'.*log scale needs low > 0/.test(e.message),
  );
  assert.throws(() => defineSpace({ n: param.int(3, 3) }), /'n': low must be < high/);
  assert.throws(() => defineSpace({}), /empty/);
});
