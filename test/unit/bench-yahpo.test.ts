import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/dehb/rng.js';
import { sampleConfig } from '../../src/dehb/space/index.js';
import { mannWhitneyU } from '../../bench/lib/mwu.js';
import { LcbenchSurrogate, lcbenchSpace, type LcbenchQuery } from '../../bench/lib/yahpo-lcbench.js';
import { referenceAccuracy, runTask } from '../../bench/lib/yahpo-run.js';

let model: LcbenchSurrogate;
const space = lcbenchSpace();
before(async () => {
  model = await LcbenchSurrogate.load();
});
after(async () => {
  await model.close();
});

function queries(n: number, epoch: number, task = '3945', seed = 1): LcbenchQuery[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => ({ task, config: sampleConfig(space, rng).config, epoch }));
}

test('the loader feeds the real ONNX model: six finite outputs per configuration, batched exactly as one by one', { timeout: 60_000 }, async () => {
  const qs = queries(5, 52);
  const batch = await model.predict(qs);
  assert.equal(batch.length, 5);
  for (const o of batch) {
    assert.deepEqual(Object.keys(o), ['time', 'val_accuracy', 'val_cross_entropy', 'val_balanced_accuracy', 'test_cross_entropy', 'test_balanced_accuracy']);
    assert.ok(Object.values(o).every(Number.isFinite));
    assert.ok(o.time > 0 && o.val_accuracy > 0 && o.val_accuracy <= 100, JSON.stringify(o));
  }
  for (let i = 0; i < qs.length; i++) {
    const [one] = await model.predict([qs[i]]);
    for (const [k, v] of Object.entries(one)) {
      const b = batch[i][k as keyof typeof one];
      assert.ok(Math.abs(v - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${k}: ${v} alone, ${b} in the batch`);
    }
  }
  const other = await model.predict(qs.map((q) => ({ ...q, task: '146212' })));
  assert.notDeepEqual(other, batch, 'the task id reaches the model');
});

test('known checks: accuracy rises and time grows with epochs; best of 20,000 random configs on 3945 is near YAHPO\'s 99.626', { timeout: 120_000 }, async () => {
  const avg = async (epoch: number) => {
    const out = await model.predict(queries(300, epoch));
    return { acc: out.reduce((s, o) => s + o.val_accuracy, 0) / out.length, time: out.reduce((s, o) => s + o.time, 0) / out.length };
  };
  const e1 = await avg(1);
  const e52 = await avg(52);
  assert.ok(e52.acc > e1.acc + 1, `${e1.acc} -> ${e52.acc}`);
  assert.ok(e52.time > 5 * e1.time, `${e1.time} -> ${e52.time}`);
  const best = await referenceAccuracy(model, space, '3945', 20000, 0);
  assert.ok(Math.abs(best - 99.626) < 0.1, `best ${best}`);
});

test('bad queries fail with the field named', { timeout: 30_000 }, async () => {
  await assert.rejects(model.predict([{ task: '1', config: {}, epoch: 1 }]), /unknown OpenML task id 1/);
  const [q] = queries(1, 52);
  await assert.rejects(model.predict([{ ...q, config: { ...q.config, momentum: 'x' } }]), /'momentum' must be a finite number/);
});

test('a small comparison runs every mode and seed, deterministically', { timeout: 60_000 }, async () => {
  const o = { space, seeds: 2, budget: 6, workers: 3, modes: ['dehb', 'random'] as const, masterSeed: 0, references: 500 };
  const a = await runTask(model, '7593', o);
  assert.equal(a.runs.length, 4);
  for (const r of a.runs) assert.ok(Number.isFinite(r.regret) && r.evaluations > 0 && r.simTime > 0);
  assert.equal(a.runs.filter((r) => r.mode === 'random').every((r) => r.evaluations === 6), true, 'random search: budget evaluations at epoch 52');
  assert.deepEqual(await runTask(model, '7593', o), a);
});

test('Mann-Whitney U: the scipy asymptotic p-value, ties and all-tied samples', () => {
  const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
  assert.equal(r.u, 0);
  assert.ok(Math.abs(r.p - 0.012185) < 1e-4, String(r.p));
  // U = 2.5, tie-corrected sigma sqrt(16/12 * (9 - 36/56)), z = (5.5 - 0.5) / sigma
  const tied = mannWhitneyU([1, 2, 2, 3], [2, 3, 4, 4]);
  assert.equal(tied.u, 2.5);
  assert.ok(Math.abs(tied.p - 0.1341) < 1e-3, String(tied.p));
  assert.equal(mannWhitneyU([1, 1], [1, 1]).p, 1);
});
