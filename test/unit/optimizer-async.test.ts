/**
 * The opt-in asynchronous schedule (issue 12 §1): the ASHA-style rule of when a bracket's upper rung
 * may hand out a job, which configuration is promoted, and that a run still completes its brackets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asyncNextRung, openBracket, registerJob, completeJob } from '../../src/dehb/brackets.js';
import { tell } from '../../src/dehb/optimizer.js';
import { askJob, fresh, runSequential } from './optimizer-helpers.js';

const CLIPS = { minClip: null, maxClip: null };

test('asyncNextRung: the k-th job of rung j+1 needs k*eta results of rung j (all once rung j is complete)', () => {
  const b = openBracket(2, 4, 3, CLIPS); // 1..27 bracket 2: 6 at fidelity 9, 2 at 27
  assert.deepEqual(b.sizes, [6, 2]);
  for (let i = 0; i < 6; i++) {
    assert.equal(asyncNextRung(b, 3), 0);
    registerJob(b, 0);
  }
  assert.equal(asyncNextRung(b, 3), -1, 'all first-rung jobs out, no result yet');
  completeJob(b, 0);
  completeJob(b, 0);
  assert.equal(asyncNextRung(b, 3), -1, '2 results < eta');
  completeJob(b, 0);
  assert.equal(asyncNextRung(b, 3), 1, '3 results: one promotion');
  registerJob(b, 1);
  assert.equal(asyncNextRung(b, 3), -1);
  completeJob(b, 0);
  completeJob(b, 0);
  assert.equal(asyncNextRung(b, 3), -1, '5 results allow 1');
  completeJob(b, 0);
  assert.equal(asyncNextRung(b, 3), 1, '6 results allow 2');
  registerJob(b, 1);
  assert.equal(asyncNextRung(b, 3), -1, 'bracket fully handed out');
});

test('asyncNextRung prefers promotions over new first-rung jobs, and a complete rung releases the rest (clipped sizes)', () => {
  const b = openBracket(0, 3, 3, { minClip: 4, maxClip: 4 }); // sizes clipped to 4, 4, 4
  assert.deepEqual(b.sizes, [4, 4, 4]);
  for (let i = 0; i < 3; i++) registerJob(b, 0);
  for (let i = 0; i < 3; i++) completeJob(b, 0);
  assert.equal(asyncNextRung(b, 3), 1, 'a promotion before the 4th first-rung job');
  registerJob(b, 1);
  assert.equal(asyncNextRung(b, 3), 0);
  registerJob(b, 0);
  completeJob(b, 0);
  for (let k = 0; k < 3; k++) {
    assert.equal(asyncNextRung(b, 3), 1, 'rung 0 complete: every rung-1 job may start');
    registerJob(b, 1);
  }
});

test('async: the promoted configuration is the best result received so far (in the top 1/eta), before the rung is complete', () => {
  const st = fresh({ schedule: 'async' });
  const first = Array.from({ length: 27 }, () => askJob(st));
  assert.ok(first.every((j) => j.bracketId === 0 && j.fidelity === 1));
  const fits = [5, 2, 7];
  first.slice(0, 3).forEach((j, i) => tell(st, j.trialId, { status: 'ok', fitness: fits[i] }));
  const p = askJob(st);
  assert.deepEqual([p.bracketId, p.fidelity, p.source, p.configId], [0, 3, 'promotion', first[1].configId]);
  const next = askJob(st);
  assert.equal(next.bracketId, 1, 'a second promotion needs 6 results: a new bracket gets the worker');
  first.slice(3, 6).forEach((j, i) => tell(st, j.trialId, { status: 'ok', fitness: [1, 9, 8][i] }));
  const p2 = askJob(st);
  assert.deepEqual([p2.bracketId, p2.fidelity, p2.source, p2.configId], [0, 3, 'promotion', first[3].configId]);
  const p3 = askJob(st);
  assert.ok(!(p3.bracketId === 0 && p3.fidelity === 3), 'no third promotion from 6 results');
});

test('async with the promoted configuration in flight: the next promotion takes the next best', () => {
  const st = fresh({ schedule: 'async' });
  const first = Array.from({ length: 27 }, () => askJob(st));
  first.slice(0, 6).forEach((j, i) => tell(st, j.trialId, { status: 'ok', fitness: [6, 5, 4, 3, 2, 1][i] }));
  const a = askJob(st);
  const b = askJob(st);
  assert.deepEqual([a.configId, b.configId], [first[5].configId, first[4].configId]);
});

test('async run one job at a time: same brackets and evaluations per fidelity as the sync schedule', () => {
  const count = (jobs: ReturnType<typeof runSequential>) => {
    const c: Record<string, number> = {};
    for (const j of jobs) c[`${j.bracketId}@${j.fidelity}`] = (c[`${j.bracketId}@${j.fidelity}`] ?? 0) + 1;
    return c;
  };
  const sync = runSequential(fresh(), 130);
  const asyncJobs = runSequential(fresh({ schedule: 'async' }), 130);
  assert.deepEqual(count(asyncJobs), count(sync));
  assert.notDeepEqual(asyncJobs.map((j) => j.configId), sync.map((j) => j.configId), 'promotion order differs');
});
