import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, createState, push, tell } from '../../src/dehb/optimizer.js';
import { decode } from '../../src/dehb/space/index.js';
import type { DehbState, Incumbent, Job } from '../../src/dehb/types.js';
import { DehbError } from '../../src/errors.js';
import { askJob, fresh, objective, opts, runFifo, runSequential } from './optimizer-helpers.js';

test('createState: ladder, sub-populations of random members, ids 0..N-1', () => {
  const st = fresh();
  assert.deepEqual(st.fidelities, [1, 3, 9, 27]);
  assert.deepEqual(st.popSizes, [27, 9, 6, 4]);
  assert.deepEqual(
    st.subpops.map((s) => s.vectors.length),
    [27, 9, 6, 4],
  );
  const ids = st.subpops.flatMap((s) => s.configIds);
  assert.deepEqual(ids, Array.from({ length: 46 }, (_, i) => i));
  assert.equal(st.nextConfigId, 46);
  assert.equal(st.iterationCounter, -1);
  for (const sp of st.subpops) {
    assert.ok(sp.fitness.every((f) => f === null));
    for (const v of sp.vectors) {
      assert.equal(v.length, 2);
      assert.ok(v.every((x) => x >= 0 && x < 1));
    }
  }
  assert.deepEqual(st.brackets, []);
  assert.deepEqual(st.pending, {});
  assert.equal(st.incumbent, null);
});

test('a job is a decoded DE trial at the lowest fidelity of bracket 0', () => {
  const st = fresh();
  const j = askJob(st);
  assert.deepEqual(
    { trialId: j.trialId, configId: j.configId, bracketId: j.bracketId, rung: j.rung, fidelity: j.fidelity, parentId: j.parentId, source: j.source },
    { trialId: 0, configId: 46, bracketId: 0, rung: 0, fidelity: 1, parentId: 0, source: 'de' },
  );
  assert.deepEqual(j.config, decode(st.options.space, j.vector));
  assert.ok(j.vector.every((x) => x >= 0 && x <= 1));
  assert.deepEqual(st.pending['0'], j);
  assert.equal(st.asked, 1);
  tell(st, 0, objective(j));
  assert.deepEqual(st.pending, {});
  assert.equal(st.told, 1);
  assert.equal(st.subpops[0].configIds[0], 46, 'the trial replaced its +Infinity parent');
  assert.equal(st.subpops[0].fitness[0], objective(j).fitness);
  assert.equal(st.incumbent?.trialId, 0);
});

test('sequential run of 4 brackets on 1..27 = 65 evaluations (40+13+8+4), then bracket-limit', () => {
  const st = fresh();
  const jobs: Job[] = [];
  for (;;) {
    const r = ask(st, { maxBrackets: 4 });
    if ('wait' in r) {
      assert.equal(r.reason, 'bracket-limit');
      break;
    }
    jobs.push(r.job);
    tell(st, r.job.trialId, objective(r.job));
  }
  assert.equal(jobs.length, 65);
  const per = [0, 1, 2, 3].map((b) => jobs.filter((j) => j.bracketId === b).length);
  assert.deepEqual(per, [40, 13, 8, 4]);
  assert.deepEqual(st.brackets, [], 'finished brackets are removed');
  assert.equal(st.iterationCounter, 3);
  // the limit leaves the state untouched; a larger limit continues with bracket 4
  const before = JSON.stringify(st);
  assert.deepEqual(ask(st, { maxBrackets: 4 }), { wait: true, reason: 'bracket-limit' });
  assert.equal(JSON.stringify(st), before);
  assert.equal(askJob(st, 5).bracketId, 4);
});

test('maxBrackets with outstanding jobs waits instead of opening a bracket', () => {
  const st = fresh();
  const first = Array.from({ length: 27 }, () => askJob(st, 1));
  assert.deepEqual(ask(st, { maxBrackets: 1 }), { wait: true, reason: 'bracket-limit' });
  for (const j of first.slice(0, 26)) tell(st, j.trialId, objective(j));
  assert.deepEqual(ask(st, { maxBrackets: 1 }), { wait: true, reason: 'bracket-limit' });
  tell(st, first[26].trialId, objective(first[26]));
  const next = askJob(st, 1);
  assert.deepEqual([next.bracketId, next.fidelity, next.source], [0, 3, 'promotion']);
});

test('JSON round trip mid-run is exact and continues identically', () => {
  const st = fresh({ strategy: 'currenttobest1_exp' });
  runFifo(st, 5, 123);
  assert.ok(Object.keys(st.pending).length > 0, 'outstanding jobs at the snapshot');
  const copy: DehbState = JSON.parse(JSON.stringify(st));
  assert.deepEqual(copy, st);
  const outstandingA = Object.values(st.pending);
  const outstandingB = Object.values(copy.pending);
  for (let i = 0; i < outstandingA.length; i++) {
    tell(st, outstandingA[i].trialId, objective(outstandingA[i]));
    tell(copy, outstandingB[i].trialId, objective(outstandingB[i]));
  }
  const a = runFifo(st, 3, 300);
  const b = runFifo(copy, 3, 300);
  assert.deepEqual(b, a);
  assert.deepEqual(copy, st);
  assert.equal(JSON.stringify(copy), JSON.stringify(st));
});

test('failed results keep the state JSON-exact (+Infinity stored as null)', () => {
  const st = fresh();
  const j = askJob(st);
  tell(st, j.trialId, { status: 'failed', error: { message: 'boom' } });
  assert.equal(st.subpops[0].fitness[0], null);
  assert.deepEqual(JSON.parse(JSON.stringify(st)), st);
});

test('determinism: same seed and tells give identical jobs; other seeds differ', () => {
  const a = runFifo(fresh({ seed: 123 }), 4, 400);
  const b = runFifo(fresh({ seed: 123 }), 4, 400);
  const c = runFifo(fresh({ seed: 124 }), 4, 400);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a.map((j) => j.vector),
    c.map((j) => j.vector),
  );
});

test('tell errors: never asked, already told', () => {
  const st = fresh();
  const j = askJob(st);
  const check = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof DehbError && e.code === 'E_STATE' && re.test(e.message));
  check(() => tell(st, 5, { status: 'ok', fitness: 1 }), /trial 5 was never asked/);
  check(() => tell(st, -1, { status: 'ok', fitness: 1 }), /trial -1 was never asked/);
  tell(st, j.trialId, { status: 'ok', fitness: 1 });
  check(() => tell(st, j.trialId, { status: 'ok', fitness: 0 }), /trial 0 was already told/);
  assert.equal(st.told, 1);
  assert.equal(st.incumbent?.fitness, 1);
});

test('failed, timed-out, cancelled and non-finite results never become the incumbent', () => {
  const st = fresh();
  const bad = [
    { status: 'failed' as const, fitness: -100, error: { message: 'x' } },
    { status: 'timed-out' as const },
    { status: 'cancelled' as const },
    { status: 'ok' as const, fitness: NaN },
    { status: 'ok' as const, fitness: -Infinity },
    { status: 'ok' as const },
  ];
  for (const r of bad) {
    const j = askJob(st);
    assert.deepEqual(tell(st, j.trialId, r), { improved: false });
  }
  assert.equal(st.incumbent, null);
  // they still count for selection as +Infinity (replacing +Infinity parents)
  assert.deepEqual(st.subpops[0].fitness.slice(0, 6), [null, null, null, null, null, null]);
  assert.deepEqual(st.subpops[0].configIds.slice(0, 6), [46, 47, 48, 49, 50, 51]);
  const j = askJob(st);
  assert.deepEqual(tell(st, j.trialId, { status: 'ok', fitness: 3, info: { a: 1 } }), { improved: true });
  const inc = st.incumbent as Incumbent | null;
  assert.deepEqual(
    { trialId: inc?.trialId, fitness: inc?.fitness, info: inc?.info, fidelity: inc?.fidelity },
    { trialId: j.trialId, fitness: 3, info: { a: 1 }, fidelity: 1 },
  );
  const k = askJob(st);
  assert.deepEqual(tell(st, k.trialId, { status: 'ok', fitness: 3 }), { improved: false }, 'strict improvement only');
});

test('selection replaces the parent on <= and keeps it otherwise', () => {
  const st = fresh();
  runSequential(st, 27); // rung 0 of bracket 0 filled
  const sp = st.subpops[0];
  assert.ok(sp.fitness.every((f) => f !== null));
  // bracket 1 has not started; run to the next DE job on rung 0 (bracket 4)
  const st2 = fresh();
  const jobs = runSequential(st2, 65);
  assert.equal(jobs[64].bracketId, 3);
  const j = askJob(st2);
  assert.equal(j.bracketId, 4);
  const sp0 = st2.subpops[0];
  const parentFit = sp0.fitness[j.parentId] as number;
  const parentId = sp0.configIds[j.parentId];
  tell(st2, j.trialId, { status: 'ok', fitness: parentFit + 1 });
  assert.equal(sp0.configIds[j.parentId], parentId, 'worse trial loses');
  const j2 = askJob(st2);
  const pf2 = sp0.fitness[j2.parentId] as number;
  tell(st2, j2.trialId, { status: 'ok', fitness: pf2 });
  assert.equal(sp0.configIds[j2.parentId], j2.configId, 'a tie replaces the parent');
  assert.deepEqual(sp0.vectors[j2.parentId], j2.vector);
});

test('every strategy runs and keeps vectors in the unit cube', () => {
  for (const strategy of ['rand1_bin', 'rand2_exp', 'rand2dir_bin', 'best1_exp', 'best2_bin', 'currenttobest1_bin', 'randtobest1_exp'] as const) {
    for (const boundaryFix of ['random', 'clip'] as const) {
      const st = fresh({ strategy, boundaryFix, mutationFactor: 1.5 });
      const jobs = runFifo(st, 3, 200);
      for (const j of jobs) assert.ok(j.vector.every((x) => x >= 0 && x <= 1), strategy);
      assert.ok(st.incumbent !== null);
    }
  }
});

test('random kind: uniform configurations at the top fidelity outside brackets', () => {
  const st = fresh({ kind: 'random' });
  const jobs = runSequential(st, 20);
  for (const j of jobs) {
    assert.deepEqual([j.bracketId, j.parentId, j.fidelity, j.rung, j.source], [-1, -1, 27, 3, 'random']);
  }
  assert.equal(new Set(jobs.map((j) => j.configId)).size, 20);
  assert.equal(st.brackets.length, 0);
  assert.ok(st.incumbent !== null);
  assert.ok('job' in ask(st, { maxBrackets: 0 }), 'the brackets budget does not apply');
});

test('manual kind: only pushed jobs, else wait', () => {
  const st = createState(opts({ kind: 'manual' }));
  assert.deepEqual(ask(st), { wait: true, reason: 'no-manual-jobs' });
  push(st, { x: 1, y: 2 });
  const j = askJob(st);
  assert.deepEqual([j.source, j.bracketId, j.parentId, j.fidelity], ['manual', -1, -1, 27]);
  assert.deepEqual(j.config, { x: 1, y: 2 });
  assert.deepEqual(ask(st), { wait: true, reason: 'no-manual-jobs' });
  tell(st, j.trialId, { status: 'ok', fitness: 0.5 });
  assert.equal(st.incumbent?.configId, j.configId);
});

test('incumbent info is stored as a JSON-exact copy', () => {
  const st = fresh();
  const j = askJob(st);
  const info = { loss: Infinity, when: new Date(0), nested: { a: [1, 2] } };
  tell(st, j.trialId, { status: 'ok', fitness: 1, info });
  assert.deepEqual(st.incumbent?.info, { loss: null, when: '1970-01-01T00:00:00.000Z', nested: { a: [1, 2] } });
  assert.notEqual(st.incumbent?.info, info);
  assert.deepEqual(JSON.parse(JSON.stringify(st)), st);
});
