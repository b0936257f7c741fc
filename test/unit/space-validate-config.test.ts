import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpace, validateConfig } from '../../src/dehb/space/index.js';
import { DehbError } from '../../src/errors.js';

const space = parseSpace({
  lr: { type: 'float', low: 1e-4, high: 1, log: true },
  layers: { type: 'int', low: 1, high: 8 },
  opt: { type: 'categorical', choices: ['adam', 'sgd'] },
  momentum: { type: 'float', low: 0, high: 0.99, condition: { parent: 'opt', in: ['sgd'] } },
  nesterov: { type: 'categorical', choices: [true, false], condition: { parent: 'opt', in: ['sgd'] } },
  batch: { type: 'ordinal', values: [16, 32, 64] },
  tag: { type: 'constant', value: 'v1' },
  ratio: { type: 'categorical', choices: ['0.5', 1, 2.5] },
});

function rejects(values: Record<string, unknown>, param: string, rule: string, text: RegExp): void {
  assert.throws(
    () => validateConfig(space, values),
    (err: unknown) => {
      assert.ok(err instanceof DehbError);
      assert.equal(err.code, 'E_SPACE');
      assert.equal(err.details?.param, param);
      assert.equal(err.details?.rule, rule, err.message);
      assert.match(err.message, new RegExp(`parameter '${param}'`));
      assert.match(err.message, text);
      return true;
    },
  );
}

test('accepts a valid config, fills constants, orders keys like the space', () => {
  const c = validateConfig(space, { opt: 'adam', layers: 3, lr: 0.01, batch: 32, ratio: 1 });
  assert.deepEqual(c, { lr: 0.01, layers: 3, opt: 'adam', batch: 32, tag: 'v1', ratio: 1 });
  assert.deepEqual(Object.keys(c), ['lr', 'layers', 'opt', 'batch', 'tag', 'ratio']);
});

test('coerces strings: numbers, booleans, numeric choices', () => {
  const c = validateConfig(space, {
    lr: '0.01',
    layers: ' 4 ',
    opt: 'sgd',
    momentum: '0.9',
    nesterov: 'true',
    batch: '64',
    tag: 'v1',
    ratio: '2.5',
  });
  assert.deepEqual(c, { lr: 0.01, layers: 4, opt: 'sgd', momentum: 0.9, nesterov: true, batch: 64, tag: 'v1', ratio: 2.5 });
  assert.equal(validateConfig(space, { lr: 1, layers: 1, opt: 'adam', batch: 16, ratio: 0.5 }).ratio, '0.5');
  assert.equal(validateConfig(space, { lr: 1, layers: '3.0', opt: 'adam', batch: 16, ratio: '1' }).layers, 3);
});

test('inactive parameters are dropped, even when given', () => {
  const c = validateConfig(space, { lr: 0.1, layers: 2, opt: 'adam', momentum: 0.5, batch: 16, ratio: 1 });
  assert.equal('momentum' in c, false);
  assert.equal('nesterov' in c, false);
});

test('rejections name the parameter and the rule', () => {
  const base = { lr: 0.01, layers: 3, opt: 'adam', batch: 32, ratio: 1 };
  rejects({ ...base, dropout: 0.1 }, 'dropout', 'unknown-parameter', /not a parameter of the space \(known: lr, layers/);
  rejects({ ...base, lr: 2 }, 'lr', 'out-of-range', /2 is outside \[0.0001, 1\]/);
  rejects({ ...base, lr: 'fast' }, 'lr', 'not-a-number', /expected a number in/);
  rejects({ ...base, lr: '' }, 'lr', 'not-a-number', /got ""/);
  rejects({ ...base, layers: 2.5 }, 'layers', 'not-an-integer', /expected an integer \(got 2.5\)/);
  rejects({ ...base, layers: 9 }, 'layers', 'out-of-range', /9 is outside \[1, 8\]/);
  rejects({ ...base, opt: 'rmsprop' }, 'opt', 'not-in-domain', /"rmsprop" is not one of \["adam","sgd"\]/);
  rejects({ ...base, batch: 48 }, 'batch', 'not-in-domain', /48 is not one of \[16,32,64\]/);
  rejects({ ...base, tag: 'v2' }, 'tag', 'not-in-domain', /the constant "v1"/);
  const { layers: _drop, ...noLayers } = base;
  rejects(noLayers, 'layers', 'missing-parameter', /missing value; expected an integer in \[1, 8\]/);
  rejects({ ...base, opt: 'sgd', nesterov: true }, 'momentum', 'missing-parameter', /active because 'opt' is "sgd"/);
  rejects({ ...base, opt: 'sgd', momentum: 0.5, nesterov: 'maybe' }, 'nesterov', 'not-in-domain', /not one of \[true,false\]/);
});

test('non-object input is rejected', () => {
  assert.throws(() => validateConfig(space, [] as unknown as Record<string, unknown>), /must be an object/);
  assert.throws(() => validateConfig(space, null as unknown as Record<string, unknown>), (e: unknown) => e instanceof DehbError && e.code === 'E_SPACE');
});
