import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpace, toConfigSpace, decode, sampleConfig, validateConfig } from '../../src/dehb/space/index.js';
import { createState } from '../../src/dehb/optimizer.js';
import { runSequential } from './optimizer-helpers.js';
import { createRng } from '../../src/dehb/rng.js';
import { DehbError } from '../../src/errors.js';
import type { SpaceSpec } from '../../src/dehb/types.js';
import { yahpoDir } from '../../bench/lib/yahpo-lcbench.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/spaces/${name}`, import.meta.url)), 'utf8'));
const YAHPO = join(yahpoDir(), 'config_space.json');

function rejects(json: unknown, re: RegExp): void {
  assert.throws(() => parseSpace(json), (e: unknown) => e instanceof DehbError && e.code === 'E_SPACE' && re.test(e.message));
}

test('the YAHPO lcbench ConfigSpace JSON (format 0.2) loads with its kinds, bounds, log scales and defaults', () => {
  const s = parseSpace(JSON.parse(readFileSync(YAHPO, 'utf8')));
  assert.equal(Object.keys(s).length, 9);
  assert.equal(s.OpenML_task_id.type, 'categorical');
  assert.equal((s.OpenML_task_id as { choices: string[] }).choices.length, 34);
  assert.deepEqual(s.batch_size, { type: 'int', low: 16, high: 512, log: true, default: 91 });
  assert.deepEqual(s.epoch, { type: 'int', low: 1, high: 52, default: 26 });
  assert.deepEqual(s.momentum, { type: 'float', low: 0.1, high: 0.99, default: 0.545 });
  assert.equal(s.learning_rate.type === 'float' && s.learning_rate.log, true);
  const rng = createRng(3);
  for (let i = 0; i < 200; i++) {
    const { config } = sampleConfig(s, rng);
    assert.ok(Number.isInteger(config.batch_size) && (config.batch_size as number) >= 16 && (config.batch_size as number) <= 512);
    assert.ok((config.learning_rate as number) >= 1e-4 && (config.learning_rate as number) <= 0.1);
  }
});

test("the reference DEHB's MNIST example space, as ConfigSpace 1.x writes it, loads", () => {
  const s = parseSpace(fixture('dehb-mnist-configspace.json'));
  assert.deepEqual(Object.keys(s), ['kernel_1', 'channels_1', 'stride_1', 'kernel_2', 'channels_2', 'stride_2', 'hidden', 'dropout', 'batch_size', 'lr']);
  assert.deepEqual(s.kernel_1, { type: 'ordinal', values: [3, 5, 7], default: 5 });
  assert.deepEqual(s.hidden, { type: 'int', low: 32, high: 256, log: true, default: 128 });
  assert.deepEqual(s.lr, { type: 'float', low: 1e-6, high: 0.1, log: true, default: 0.001 });
});

test('a ConfigSpace 0.4.18 xgboost space (YAHPO rbv2_xgboost style) with IN and EQ conditions loads and a DEHB run respects them', () => {
  const s = parseSpace(fixture('xgboost-configspace-0.4.json'));
  assert.deepEqual(s.max_depth.condition, { parent: 'booster', in: ['dart', 'gbtree'] });
  assert.deepEqual(s.rate_drop.condition, { parent: 'booster', eq: 'dart' });
  assert.deepEqual(s.booster, { type: 'categorical', choices: ['gblinear', 'gbtree', 'dart'], default: 'gblinear' });
  const st = createState({ space: s, minFidelity: 1, maxFidelity: 27, seed: 2 });
  for (const j of runSequential(st, 150)) {
    assert.equal('max_depth' in j.config, j.config.booster !== 'gblinear');
    assert.equal('rate_drop' in j.config, j.config.booster === 'dart');
    assert.deepEqual(validateConfig(s, j.config), j.config);
  }
});

test('every kind: weights, normal priors with bounds, ordinal, constant; EQ/NEQ/IN/LT/GT/AND/OR conditions; forbidden EQUALS/IN/AND', () => {
  const s = parseSpace(fixture('configspace-all-kinds.json'));
  assert.deepEqual(s.optimizer, { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'], weights: [0.5, 0.3, 0.2], default: 'adam' });
  assert.deepEqual(s.width, { type: 'float', low: 0, high: 1, prior: { mu: 0.5, sigma: 0.1 }, default: 0.5 });
  assert.deepEqual(s.depth, { type: 'int', low: 1, high: 16, prior: { mu: 8, sigma: 2 }, default: 8 });
  assert.deepEqual(s.seed_model, { type: 'constant', value: 'fixed' });
  assert.deepEqual(s.momentum.condition, { parent: 'optimizer', eq: 'sgd' });
  assert.deepEqual(s.nesterov.condition, { all: [{ parent: 'optimizer', eq: 'sgd' }, { parent: 'momentum', gt: 0.5 }] });
  assert.deepEqual(s.dropout.condition, { parent: 'size', neq: 'small' });
  assert.deepEqual(s.rho.condition, { parent: 'optimizer', in: ['rmsprop'] });
  assert.deepEqual(s.warmup.condition, { any: [{ parent: 'size', lt: 'large' }, { parent: 'optimizer', eq: 'adam' }] });
  // each clause is kept on the last parameter (in space order) that it mentions
  assert.deepEqual(s.layers.forbidden, [{ param: 'layers', in: [5, 6] }]);
  assert.deepEqual(s.size.forbidden, [
    { all: [{ param: 'optimizer', eq: 'sgd' }, { param: 'size', eq: 'large' }] },
    { all: [{ param: 'depth', in: [1, 2, 3] }, { param: 'size', in: ['small'] }] },
  ]);
  // activity follows the conditions
  const n = s.optimizer.type === 'categorical' ? 3 : 0;
  const at = (k: number) => (k + 0.5) / n;
  const vec = (o: Record<string, number>) => Object.keys(s).map((k) => o[k] ?? 0.5);
  const sgdHigh = decode(s, vec({ optimizer: at(1), momentum: 0.9, size: 0.1, layers: 0 }));
  assert.equal(sgdHigh.nesterov !== undefined && sgdHigh.momentum !== undefined, true);
  assert.equal(sgdHigh.size, 'small');
  assert.equal('dropout' in sgdHigh, false, 'NEQ small is false');
  assert.equal('warmup' in sgdHigh, true, 'OR: size small < large');
  assert.equal('units_2' in sgdHigh, false, 'GT 1 is false with one layer');
  assert.equal('rho' in sgdHigh, false);
  const rms = decode(s, vec({ optimizer: at(2), size: 0.9, layers: 0.5 }));
  assert.equal('momentum' in rms || 'nesterov' in rms, false);
  assert.equal(rms.rho !== undefined && rms.units_2 !== undefined && rms.dropout !== undefined, true);
  assert.equal('warmup' in rms, false, 'OR: neither large < large nor adam');
});

test('refusals name the hyperparameter and the fix', () => {
  const doc = (h: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ hyperparameters: [h], conditions: [], forbiddens: [], ...extra });
  rejects(doc({ name: 'w', type: 'normal_float', mu: 0, sigma: 1, log: false, default: 0 }), /hyperparameter 'w' \("normal_float"\): a normal hyperparameter needs 'lower' and 'upper'/);
  rejects(doc({ name: 'b', type: 'beta_float', alpha: 2, beta: 2, lower: 0, upper: 1 }), /'b'.*beta priors are not supported/);
  rejects(doc({ name: 'q', type: 'uniform_int', lower: 0, upper: 10, q: 2 }), /'q'.*quantisation 'q' \(2\) is not supported/);
  rejects(doc({ name: 'x', type: 'uniform_float', lower: 1, upper: 0 }), /parameter 'x': low must be < high/);
  rejects(
    doc({ name: 'a', type: 'uniform_int', lower: 0, upper: 3 }, { forbiddens: [{ type: 'RELATION_LT', left: 'a', right: 'a' }] }),
    /forbidden relations between two hyperparameters \(RELATION_LT/,
  );
  rejects(doc({ name: 'a', type: 'uniform_int', lower: 0, upper: 3 }, { conditions: [{ child: 'zz', parent: 'a', type: 'EQ', value: 1 }] }), /conditions\[0\]: 'child' must name a hyperparameter/);
  rejects(
    doc({ name: 'a', type: 'categorical', choices: ['x', 'y'], weights: [1] }),
    /parameter 'a': 'weights' must be 2 finite numbers/,
  );
  rejects(
    doc({ name: 'a', type: 'categorical', choices: ['x', 'y'] }, { forbiddens: [{ type: 'EQUALS', name: 'a', value: 'z' }] }),
    /forbidden clause value "z" can never be taken by param 'a'/,
  );
});

test('our spaces round-trip through ConfigSpace JSON (toConfigSpace then parseSpace)', () => {
  const ours: SpaceSpec = parseSpace({
    parameters: {
      opt: { type: 'categorical', choices: ['adam', 'sgd'], weights: [2, 1], default: 'sgd' },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      mom: { type: 'float', low: 0, high: 1, prior: { mu: 0.9, sigma: 0.05 }, condition: { parent: 'opt', eq: 'sgd' } },
      nest: { type: 'categorical', choices: [true, false], condition: { all: [{ parent: 'opt', eq: 'sgd' }, { parent: 'mom', gt: 0.5 }] } },
      n: { type: 'int', low: 1, high: 8, default: 2 },
      size: { type: 'ordinal', values: ['s', 'm', 'l'] },
      u2: { type: 'int', low: 8, high: 512, log: true, condition: { any: [{ parent: 'n', gt: 1 }, { parent: 'size', lt: 'm' }] } },
      drop: { type: 'float', low: 0, high: 0.5, condition: { parent: 'size', neq: 's' } },
      rho: { type: 'float', low: 0.5, high: 1, condition: { parent: 'opt', in: ['adam'] } },
      c: { type: 'constant', value: 7 },
    },
    forbidden: [
      { param: 'n', in: [7, 8] },
      { all: [{ param: 'opt', eq: 'adam' }, { param: 'size', eq: 'l' }] },
      { any: [{ param: 'lr', gt: 0.5 }, { param: 'n', le: 1 }] },
      { param: 'lr', lt: 2e-5 },
      { param: 'n', ge: 8 },
    ],
  });
  const cs = toConfigSpace(ours);
  assert.equal((cs as { format_version: number }).format_version, 0.4);
  const back = parseSpace(JSON.parse(JSON.stringify(cs)));
  assert.deepEqual(back, ours);
  // and ConfigSpace -> ours -> ConfigSpace is stable too
  const fromCs = parseSpace(fixture('configspace-all-kinds.json'));
  assert.deepEqual(parseSpace(toConfigSpace(fromCs)), fromCs);
  assert.deepEqual(toConfigSpace(parseSpace(toConfigSpace(fromCs))), toConfigSpace(fromCs));
});

test('parsing is idempotent on its own output (resolved options are parsed again on resume)', () => {
  const s = parseSpace(fixture('configspace-all-kinds.json'));
  assert.deepEqual(parseSpace(JSON.parse(JSON.stringify(s))), s);
});

test('the YAHPO, reference-example and every-kind ConfigSpace files run: every proposal is valid in its space', () => {
  const docs = [JSON.parse(readFileSync(YAHPO, 'utf8')), fixture('dehb-mnist-configspace.json'), fixture('configspace-all-kinds.json')];
  for (const doc of docs) {
    const s = parseSpace(doc);
    for (const kind of ['dehb', 'random'] as const) {
      const jobs = runSequential(createState({ space: s, minFidelity: 1, maxFidelity: 27, seed: 7, kind }), 80);
      for (const j of jobs) assert.deepEqual(validateConfig(s, j.config), j.config);
    }
  }
});
