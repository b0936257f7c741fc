import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, push, rungFor, tell } from '../../src/dehb/optimizer.js';
import { encode } from '../../src/dehb/space/index.js';
import { DehbError } from '../../src/errors.js';
import { askJob, fresh, objective, runSequential } from './optimizer-helpers.js';

test('pushed jobs are handed out first, validated and encoded', () => {
  const st = fresh();
  const a = askJob(st);
  push(st, { x: '0.5', y: -1 }, 3);
  push(st, { x: 2, y: 2 });
  assert.equal(st.manualQueue.length, 2);
  const m1 = askJob(st);
  const m2 = askJob(st);
  assert.deepEqual(
    { source: m1.source, bracketId: m1.bracketId, parentId: m1.parentId, fidelity: m1.fidelity, rung: m1.rung, config: m1.config },
    { source: 'manual', bracketId: -1, parentId: -1, fidelity: 3, rung: 1, config: { x: 0.5, y: -1 } },
  );
  assert.deepEqual(m1.vector, encode(st.options.space, { x: 0.5, y: -1 }));
  assert.deepEqual([m2.fidelity, m2.rung], [27, 3]);
  assert.deepEqual([a.trialId, m1.trialId, m2.trialId], [0, 1, 2]);
  assert.equal(m1.configId, 47);
  const next = askJob(st);
  assert.equal(next.source, 'de');
  assert.equal(st.brackets[0].pending[0], 25, 'manual jobs do not consume bracket slots');
});

test('a manual result replaces the worst member of its rung only if strictly better', () => {
  const st = fresh();
  runSequential(st, 40); // bracket 0 done: rung 1 (fidelity 3) fully evaluated
  const sp = st.subpops[1];
  assert.ok(sp.fitness.every((f) => f !== null));
  const worstFit = Math.max(...(sp.fitness as number[]));
  const worstSlot = sp.fitness.indexOf(worstFit);
  push(st, { x: 1, y: 1 }, 5); // largest ladder value <= 5 is 3 -> rung 1
  let m = askJob(st);
  assert.equal(m.rung, 1);
  tell(st, m.trialId, { status: 'ok', fitness: worstFit });
  assert.notEqual(sp.configIds[worstSlot], m.configId, 'a tie does not replace');
  push(st, { x: 1, y: 1 }, 5);
  m = askJob(st);
  tell(st, m.trialId, { status: 'failed', error: { message: 'x' } });
  assert.notEqual(sp.configIds[worstSlot], m.configId, 'a failure does not replace');
  push(st, { x: 1, y: 1 }, 5);
  m = askJob(st);
  tell(st, m.trialId, { status: 'ok', fitness: worstFit - 1 });
  assert.equal(sp.configIds[worstSlot], m.configId);
  assert.equal(sp.fitness[worstSlot], worstFit - 1);
  assert.deepEqual(sp.vectors[worstSlot], m.vector);
});

test('a manual job below the ladder is not inserted but can become the incumbent', () => {
  const st = fresh();
  assert.equal(rungFor(st, 0.5), -1);
  assert.equal(rungFor(st, 1), 0);
  assert.equal(rungFor(st, 26.9), 2);
  assert.equal(rungFor(st, 100), 3);
  push(st, { x: 1, y: 1 }, 0.5);
  const before = JSON.stringify(st.subpops);
  const m = askJob(st);
  assert.equal(m.rung, -1);
  assert.deepEqual(tell(st, m.trialId, { status: 'ok', fitness: -5 }), { improved: true });
  assert.equal(JSON.stringify(st.subpops), before);
  assert.equal(st.incumbent?.configId, m.configId);
  assert.equal(st.incumbent?.fidelity, 0.5);
});

test('manual insertion into an unevaluated rung takes the first +Infinity slot', () => {
  const st = fresh();
  push(st, { x: 0, y: 0 }, 27);
  const m = askJob(st);
  tell(st, m.trialId, objective(m));
  assert.equal(st.subpops[3].configIds[0], m.configId);
  assert.equal(st.incumbent?.configId, m.configId);
});

test('push validates the config and the fidelity', () => {
  const st = fresh();
  assert.throws(
    () => push(st, { x: 99, y: 0 }),
    (e: unknown) => e instanceof DehbError && e.code === 'E_SPACE' && /parameter 'x'.*outside \[-5, 5\]/.test(e.message),
  );
  assert.throws(() => push(st, { x: 0 }), /parameter 'y'.*missing value/);
  assert.throws(() => push(st, { x: 0, y: 0, z: 1 }), /parameter 'z'.*not a parameter/);
  assert.throws(
    () => push(st, { x: 0, y: 0 }, 0),
    (e: unknown) => e instanceof DehbError && e.code === 'E_CONFIG' && /fidelity must be a finite number > 0/.test(e.message),
  );
  assert.throws(() => push(st, { x: 0, y: 0 }, NaN), /fidelity/);
  assert.equal(st.manualQueue.length, 0);
  assert.ok('job' in ask(st));
});

test('pushed jobs survive a JSON round trip of the state', () => {
  const st = fresh();
  push(st, { x: 0.25, y: 0.5 }, 9);
  const copy = JSON.parse(JSON.stringify(st));
  assert.deepEqual(copy, st);
  assert.deepEqual(askJob(copy), askJob(st));
});
