/**
 * The library Study API (createStudy, loadStudy, listStudies, study.optimize/push/trials/trial/
 * export) on both storages, in process: budgets as study totals (fevals, brackets, runtime),
 * kinds dehb / random / manual, pushes entering the population, replay == live state.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { encode } from '../../src/dehb/space/index.js';
import { bracketPlan } from '../../src/dehb/brackets.js';
import { replay } from '../../src/study/replay.js';
import { createStudy, deleteStudy, listStudies, loadStudy, type CreateStudyOptions } from '../../src/api/study-open.js';
import { Study } from '../../src/api/study.js';
import { journalOf, makeStorage, SPACE, toldIds, type TestStorage } from './study-helpers.js';

function opts(ts: TestStorage, name: string, extra: Partial<CreateStudyOptions> = {}): CreateStudyOptions {
  return {
    name,
    storage: ts.url,
    space: SPACE,
    minFidelity: 1,
    maxFidelity: 9,
    eta: 3,
    seed: 5,
    objective: { kind: 'module', path: join(ts.dir, 'objective.mjs') },
    ...extra,
  };
}

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] study API: kinds, budgets, pushes, reads`, async (t) => {
    const ts = await makeStorage(kind);
    const open: Study[] = [];
    const keep = (st: Study): Study => (open.push(st), st);
    t.after(async () => {
      for (const st of open) await st.close(); // an open Redis connection would keep the test alive
      await ts.cleanup();
    });

    await t.test('dehb: fevals total, extension, replay equals the live history', async () => {
      const st = keep(await createStudy(opts(ts, 'api')));
      assert.equal(st.created, true);
      const r1 = await st.optimize({ fevals: 8, nWorkers: 2 });
      assert.deepEqual([r1.reason, r1.toldTotal, r1.toldHere], ['budget', 8, 8]);
      const r2 = await st.optimize({ fevals: 8 });
      assert.equal(r2.toldHere, 0);
      const r3 = await st.optimize({ fevals: 12 });
      assert.equal(r3.toldTotal, 12);
      const trials = await st.trials({ status: 'done' }); // the old name of 'ok' is still read
      assert.ok(trials.every((t) => t.status === 'ok'));
      assert.equal(trials.length, 12);
      assert.equal(r3.best?.fitness, Math.min(...trials.map((x) => x.fitness as number)));
      const entries = await journalOf(ts.url, 'api');
      const rep = replay(entries);
      assert.equal(rep.state.told, 12);
      assert.equal(rep.pending.length, 0);
      assert.equal(rep.state.incumbent?.fitness, r3.best?.fitness);
      assert.equal((await st.trial(3)).trialId, 3);
      await assert.rejects(st.trial(99), (e: unknown) => isDehbError(e, 'E_STUDY'));
    });

    await t.test('push (dehb kind): first in line, becomes a trial, enters its rung population', async () => {
      const st = keep(await loadStudy('api', { storage: ts.url }));
      const p = await st.push({ x: '0.3', act: 'relu' }, 9);
      assert.equal(p.trialId, 12);
      assert.deepEqual(p.config, { x: 0.3, act: 'relu' }, 'values are coerced by the space');
      await assert.rejects(st.push({ x: 0.5 }), (e: unknown) => isDehbError(e, 'E_SPACE') && /parameter 'act'/.test(e.message));
      await assert.rejects(st.push({ x: 2, act: 'relu' }), (e: unknown) => isDehbError(e, 'E_SPACE') && /parameter 'x'/.test(e.message));
      const r = await st.optimize({ fevals: 14 });
      assert.equal(r.toldTotal, 14);
      const pushed = await st.trial(12);
      assert.equal(pushed.source, 'manual');
      assert.equal(pushed.status, 'ok');
      const first = (await st.trials()).filter((x) => x.trialId > 12);
      assert.ok(first.every((x) => (x.startedAt as number) >= (pushed.startedAt as number)), 'the pushed trial ran first');
      const rep = replay(await journalOf(ts.url, 'api'));
      const top = rep.state.subpops[rep.state.subpops.length - 1];
      const v = encode(SPACE as never, { x: 0.3, act: 'relu' });
      assert.ok(top?.vectors.some((w) => w.every((c, i) => Math.abs(c - (v[i] as number)) < 1e-12)), 'pushed vector is in the top rung population');
    });

    await t.test('brackets budget counts the study total', async () => {
      const st = keep(await createStudy(opts(ts, 'br')));
      const r = await st.optimize({ brackets: 1, nWorkers: 3 });
      assert.equal(r.reason, 'budget');
      const trials = await st.trials();
      const plan = bracketPlan(0, 3, 3, { minClip: null, maxClip: null }); // bracket 0 of the ladder 1, 3, 9
      assert.equal(trials.length, plan.sizes.reduce((a, b) => a + b, 0));
      assert.ok(trials.every((x) => x.bracketId === 0 && x.status === 'ok'));
      const again = await st.optimize({ brackets: 1 });
      assert.equal(again.toldHere, 0);
      const more = await st.optimize({ brackets: 2 });
      assert.ok(more.toldHere > 0);
      assert.ok((await st.trials()).some((x) => x.bracketId === 1));
    });

    await t.test('random kind: max fidelity only; brackets refused', async () => {
      const st = keep(await createStudy(opts(ts, 'rnd', { kind: 'random' })));
      const r = await st.optimize({ fevals: 5, nWorkers: 2 });
      assert.equal(r.toldTotal, 5);
      assert.ok((await st.trials()).every((x) => x.fidelity === 9 && x.source === 'random'));
      await assert.rejects(st.optimize({ brackets: 1 }), (e: unknown) => isDehbError(e, 'E_USAGE') && /random studies have no brackets/.test(e.message));
    });

    await t.test('manual kind: only pushed trials; no work means done', async () => {
      const st = keep(await createStudy(opts(ts, 'man', { kind: 'manual' })));
      const idle = await st.optimize({ fevals: 10 });
      assert.equal(idle.reason, 'no-work');
      assert.equal(idle.toldTotal, 0);
      await st.push({ x: 0.1, act: 'tanh' }, 3);
      await st.push({ x: 0.2, act: 'relu' });
      const r = await st.optimize({ fevals: 10 });
      assert.deepEqual([r.reason, r.toldTotal], ['no-work', 2]);
      assert.deepEqual((await st.trials()).map((x) => [x.source, x.fidelity]), [['manual', 3], ['manual', 9]]);
    });

    await t.test('runtime budget: stops asking at the deadline, nothing left pending', async () => {
      const st = keep(await createStudy(opts(ts, 'rt')));
      const r = await st.optimize({ runtimeMs: 2500 });
      assert.equal(r.reason, 'budget');
      assert.ok(r.toldTotal > 0);
      const rep = replay(await journalOf(ts.url, 'rt'));
      assert.equal(rep.pending.length, 0);
    });

    await t.test('list, skipIfExists, export, delete, unknown study', async () => {
      const names = (await listStudies({ storage: ts.url })).map((s) => s.name);
      assert.deepEqual(names, ['api', 'br', 'man', 'rnd', 'rt']);
      const again = keep(await createStudy({ ...opts(ts, 'api'), skipIfExists: true }));
      assert.equal(again.created, false);
      const csv = await again.export('csv');
      assert.equal(csv.trim().split('\n').length, 15);
      const json = JSON.parse(await again.export('json'));
      assert.equal(json.trials.length, 14);
      await assert.rejects(createStudy(opts(ts, 'api')), (e: unknown) => isDehbError(e, 'E_STUDY'));
      await assert.rejects(createStudy(opts(ts, 'fn', { objective: { kind: 'function' } as never })), (e: unknown) => isDehbError(e, 'E_CONFIG'));
      assert.equal(await deleteStudy('rt', { storage: ts.url }), true);
      await assert.rejects(loadStudy('rt', { storage: ts.url }), (e: unknown) => isDehbError(e, 'E_STUDY') && /no study named "rt"/.test(e.message));
      assert.equal(toldIds(await journalOf(ts.url, 'api')).length, 14);
    });
  });
}
