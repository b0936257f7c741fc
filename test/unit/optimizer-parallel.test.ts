/**
 * The optimizer with many jobs in flight (issue 12 §1): the first Hyperband iteration's upper rungs
 * stay promotions however many brackets waiting workers have opened; one job in flight is the
 * sequential schedule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tell } from '../../src/dehb/optimizer.js';
import type { DehbState, Job } from '../../src/dehb/types.js';
import { askJob, fresh, objective, runSequential } from './optimizer-helpers.js';

/** Keeps `workers` jobs in flight; the lowest fidelity (then the oldest) finishes first. */
function runInFlight(st: DehbState, workers: number, n: number, onAsk?: (job: Job, inFlight: Job[]) => void): Job[] {
  const jobs: Job[] = [];
  const running: Job[] = [];
  while (jobs.length < n || running.length > 0) {
    while (running.length < workers && jobs.length < n) {
      const j = askJob(st);
      onAsk?.(j, running);
      jobs.push(j);
      running.push(j);
    }
    running.sort((a, b) => a.fidelity - b.fidelity || a.trialId - b.trialId);
    const done = running.shift();
    if (done !== undefined) tell(st, done.trialId, objective(done));
  }
  return jobs;
}

test('16 jobs in flight: every upper-rung job of brackets 0..L-1 is a promotion of an evaluated configuration', () => {
  const st = fresh();
  const L = st.fidelities.length;
  const jobs = runInFlight(st, 16, 200);
  // bracket b < L starts at ladder index b; its later rungs are promotions in the reference's design
  const upper = jobs.filter((j) => j.bracketId >= 0 && j.bracketId < L && j.rung > j.bracketId);
  const lastUpper = Math.max(...upper.map((j) => j.trialId));
  const firstOfL = jobs.find((j) => j.bracketId === L);
  assert.ok(firstOfL !== undefined && firstOfL.trialId < lastUpper, 'bracket L was opened while earlier brackets still had upper rungs to run');
  const told = new Set<number>();
  for (const j of jobs) {
    if (upper.includes(j)) {
      assert.equal(j.source, 'promotion', `bracket ${j.bracketId} rung ${j.rung} trial ${j.trialId}`);
      assert.ok(told.has(j.configId), `trial ${j.trialId} promotes configuration ${j.configId}, which was evaluated before`);
    }
    told.add(j.configId);
  }
});

test('with one job in flight the schedule is the sequential one (same jobs as before the parallel fixes)', () => {
  const a = runSequential(fresh(), 300);
  const b = runInFlight(fresh(), 1, 300);
  assert.deepEqual(b.map((j) => [j.configId, j.parentId, j.source]), a.map((j) => [j.configId, j.parentId, j.source]));
});

test('16 jobs in flight: no configuration is promoted to a rung it is already in or in flight to', () => {
  const st = fresh();
  let promotions = 0;
  runInFlight(st, 16, 200, (j, inFlight) => {
    if (j.source !== 'promotion') return;
    promotions++;
    const key = j.vector.join(',');
    const again = inFlight.filter((k) => k.rung === j.rung && k.vector.join(',') === key);
    assert.equal(again.length, 0, `trial ${j.trialId} promotes configuration ${j.configId} to rung ${j.rung} a second time while it is in flight`);
  });
  assert.equal(promotions, 9 + 3 + 1 + (3 + 1) + 2, "every upper-rung job of the first Hyperband iteration");
  for (const sp of st.subpops) {
    const keys = sp.vectors.map((v) => v.join(','));
    assert.equal(new Set(keys).size, keys.length, `rung ${sp.fidelity} holds no duplicate members`);
  }
});

test('16 jobs in flight: a first-rung DE trial on a never-evaluated slot is built from the rung below, not from the placeholder', () => {
  // crossoverProb 0: binomial crossover takes exactly one coordinate from the mutant, the other from the target
  const st = fresh({ crossoverProb: 0 });
  let checked = 0;
  runInFlight(st, 16, 200, (j) => {
    if (j.source !== 'de' || j.rung === 0 || j.rung !== j.bracketId % st.fidelities.length) return;
    const sp = st.subpops[j.rung];
    if (sp.fitness[j.parentId] !== null) return;
    const placeholder = sp.vectors[j.parentId];
    const lower = st.subpops[j.rung - 1];
    const evaluatedBelow = lower.vectors.filter((_, i) => lower.fitness[i] !== null);
    if (evaluatedBelow.length === 0) return; // nothing to build from yet: the reference's trial
    checked++;
    const fromTarget = j.vector.filter((x, d) => evaluatedBelow.some((v) => v[d] === x));
    assert.ok(fromTarget.length >= 1, `trial ${j.trialId} keeps a coordinate of an evaluated member of rung ${j.rung - 1}`);
    assert.ok(!j.vector.some((x, d) => x === placeholder[d]), `trial ${j.trialId} takes nothing from the placeholder`);
  });
  assert.ok(checked >= 10, `${checked} first-rung trials on never-evaluated slots`);
});
