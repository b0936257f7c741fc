import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGIES, createState, resolveOptimizerOptions } from '../../src/dehb/optimizer.js';
import type { OptimizerOptions } from '../../src/dehb/types.js';
import { DehbError } from '../../src/errors.js';

const space = { x: { type: 'float' as const, low: 0, high: 1 } };
const base: OptimizerOptions = { space, minFidelity: 1, maxFidelity: 27, seed: 1 };

function rejects(patch: Record<string, unknown>, option: string, text: RegExp, code = 'E_CONFIG'): void {
  assert.throws(
    () => resolveOptimizerOptions({ ...base, ...patch } as OptimizerOptions),
    (err: unknown) => {
      assert.ok(err instanceof DehbError);
      assert.equal(err.code, code);
      if (code === 'E_CONFIG') {
        assert.equal(err.details?.option, option);
        assert.ok(err.message.startsWith(option), err.message);
      }
      assert.match(err.message, text);
      return true;
    },
  );
}

test('defaults', () => {
  const r = resolveOptimizerOptions(base);
  assert.deepEqual(r, {
    space,
    minFidelity: 1,
    maxFidelity: 27,
    eta: 3,
    mutationFactor: 0.5,
    crossoverProb: 0.5,
    strategy: 'rand1_bin',
    boundaryFix: 'random',
    minClip: null,
    maxClip: null,
    seed: 1,
    kind: 'dehb',
    schedule: 'sync',
    fidelityType: 'float',
    incumbent: 'any-fidelity',
  });
  assert.deepEqual(resolveOptimizerOptions(r), r, 'idempotent on resolved options');
});

test('a missing seed is drawn once and stored', () => {
  const { seed, ...noSeed } = base;
  assert.equal(seed, 1);
  const r = resolveOptimizerOptions(noSeed);
  assert.ok(Number.isInteger(r.seed) && r.seed >= 0 && r.seed < 2 ** 32);
  const st = createState(noSeed);
  assert.ok(Number.isInteger(st.options.seed));
  assert.deepEqual(createState(st.options).rng, st.rng, 'the stored seed reproduces the state');
});

test('schedule: sync by default, async accepted and kept in the resolved options', () => {
  assert.equal(resolveOptimizerOptions({ ...base, schedule: 'async' }).schedule, 'async');
  const st = createState({ ...base, schedule: 'async' });
  assert.equal(createState(JSON.parse(JSON.stringify(st.options))).options.schedule, 'async', 'survives the journal round trip');
});

test('14 strategies, all accepted', () => {
  assert.equal(STRATEGIES.length, 14);
  for (const s of STRATEGIES) assert.equal(resolveOptimizerOptions({ ...base, strategy: s }).strategy, s);
});

test('each invalid option is named with the fix', () => {
  rejects({ eta: 1 }, 'eta', /eta must be > 1 \(got 1\)/);
  rejects({ eta: 0.5 }, 'eta', /must be > 1/);
  rejects({ eta: NaN }, 'eta', /finite number/);
  rejects({ minFidelity: 0 }, 'minFidelity', /must be > 0 \(got 0\)/);
  rejects({ minFidelity: -1 }, 'minFidelity', /must be > 0/);
  rejects({ minFidelity: undefined }, 'minFidelity', /is required/);
  rejects({ maxFidelity: undefined }, 'maxFidelity', /is required/);
  rejects({ maxFidelity: '27' }, 'maxFidelity', /finite number \(got "27"\)/);
  rejects({ maxFidelity: 1 }, 'maxFidelity', /must be > minFidelity \(both are 1\).*plain DE/);
  rejects({ maxFidelity: 0.5 }, 'maxFidelity', /must be > minFidelity \(got minFidelity=1, maxFidelity=0.5\)/);
  rejects({ mutationFactor: 0 }, 'mutationFactor', /must be in \(0, 2\] \(got 0\)/);
  rejects({ mutationFactor: 2.5 }, 'mutationFactor', /\(0, 2\]/);
  rejects({ crossoverProb: 1.1 }, 'crossoverProb', /must be in \[0, 1\] \(got 1.1\)/);
  rejects({ crossoverProb: -0.1 }, 'crossoverProb', /\[0, 1\]/);
  rejects({ strategy: 'best' }, 'strategy', /"best" is not a valid strategy; use one of rand1_bin, rand1_exp, .*randtobest1_exp/);
  rejects({ strategy: 'rand1_foo' }, 'strategy', /not a valid strategy/);
  rejects({ boundaryFix: 'wrap' }, 'boundaryFix', /must be 'random' or 'clip' \(got "wrap"\)/);
  rejects({ minClip: 0 }, 'minClip', /positive integer \(got 0\)/);
  rejects({ maxClip: 2.5 }, 'maxClip', /positive integer/);
  rejects({ minClip: 5, maxClip: 3 }, 'maxClip', /must be >= minClip/);
  rejects({ seed: 1.5 }, 'seed', /must be an integer \(got 1.5\)/);
  rejects({ seed: '7' }, 'seed', /must be an integer/);
  rejects({ kind: 'grid' }, 'kind', /one of dehb, random, manual \(got "grid"\)/);
  rejects({ schedule: 'asha' }, 'schedule', /schedule must be 'sync' .* or 'async' .* \(got "asha"\)/);
  rejects({ schedule: true }, 'schedule', /schedule must be 'sync'/);
  rejects({ space: undefined }, 'space', /is required/);
  rejects({ space: {} }, 'space', /empty/, 'E_SPACE');
  rejects({ space: { x: { type: 'float', low: 1, high: 0 } } }, 'space', /'x': low must be < high/, 'E_SPACE');
});

test('the dehb index re-exports the optimizer API', async () => {
  const api = await import('../../src/dehb/index.js');
  for (const name of ['ask', 'tell', 'push', 'createState', 'resolveOptimizerOptions', 'createRng', 'uniform', 'randInt', 'normal', 'parseSpace', 'encode', 'decode', 'validateConfig', 'defineSpace', 'computeLadder']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(typeof api.param.float, 'function');
  assert.equal(api.MUTATIONS.length, 7);
});
