/**
 * The optimizer with many jobs in flight (issue 12 §1): the first Hyperband iteration's upper rungs
 * stay promotions however many brackets waiting workers have opened; one job in flight is the
 * sequential schedule. A DE trial told while other jobs are in flight that loses to its parent slot
 * but beats the rung's worst member takes that member's slot; sequentially, selection is the
 * reference's (a trial competes with its parent slot only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tell } from '../../src/dehb/optimizer.js';
import { fit, worstSlot } from '../../src/dehb/population.js';
import type { DehbState, Job, SubPopulation } from '../../src/dehb/types.js';
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

function copyOf(sp: SubPopulation): Pick<SubPopulation, 'vectors' | 'fitness' | 'configIds'> {
  return { vectors: sp.vectors.map((v) => [...v]), fitness: [...sp.fitness], configIds: [...sp.configIds] };
}

/**
 * After the first Hyperband iterations (every slot evaluated): asks until a DE job whose parent
 * slot is strictly better than its rung's worst member, with one more job asked behind it (in
 * flight). Unsuitable jobs are told their objective.
 */
function losingTrialSetup(): { st: DehbState; a: Job; b: Job; sp: SubPopulation; w: number; f: number } {
  const st = fresh();
  runInFlight(st, 1, 200);
  for (let attempt = 0; attempt < 200; attempt++) {
    const a = askJob(st);
    const b = askJob(st);
    const sp = st.subpops[a.rung];
    const w = worstSlot(sp);
    const parentF = sp.fitness[a.parentId];
    const worstF = sp.fitness[w];
    if (a.source === 'de' && parentF !== null && worstF !== null && parentF < worstF) {
      return { st, a, b, sp, w, f: (parentF + worstF) / 2 };
    }
    tell(st, a.trialId, objective(a));
    tell(st, b.trialId, objective(b));
  }
  throw new Error('no DE job with a parent better than its rung\'s worst member');
}

test('a DE trial told while another job is in flight that loses to its parent but beats the worst member takes the worst slot', () => {
  const { st, a, b, sp, w, f } = losingTrialSetup();
  assert.ok(st.pending[String(b.trialId)] !== undefined, 'another job is in flight');
  const parentBefore = { v: sp.vectors[a.parentId], f: sp.fitness[a.parentId], id: sp.configIds[a.parentId] };
  tell(st, a.trialId, { status: 'ok', fitness: f });
  assert.deepEqual(sp.vectors[w], a.vector, 'the trial took the worst member\'s slot');
  assert.equal(sp.fitness[w], f);
  assert.equal(sp.configIds[w], a.configId);
  assert.deepEqual({ v: sp.vectors[a.parentId], f: sp.fitness[a.parentId], id: sp.configIds[a.parentId] }, parentBefore, 'the parent it lost to stays');
});

test('with jobs in flight, a failed trial or one no better than the worst member takes no slot', () => {
  for (const result of ['failed', 'worse'] as const) {
    const { st, a, sp, w } = losingTrialSetup();
    const before = copyOf(sp);
    const worstF = fit(sp.fitness[w]);
    tell(st, a.trialId, result === 'failed' ? { status: 'failed', error: { message: 'boom' } } : { status: 'ok', fitness: worstF });
    assert.deepEqual(copyOf(sp), before, result);
  }
});

test('with nothing else in flight the same losing trial is discarded: sequential selection is the reference\'s', () => {
  const { st, a, b, sp } = losingTrialSetup();
  tell(st, b.trialId, objective(b));
  const parentF = fit(sp.fitness[a.parentId]);
  const worstF = fit(sp.fitness[worstSlot(sp)]);
  assert.ok(parentF < worstF, 'the parent is still better than the worst member');
  const before = copyOf(sp);
  tell(st, a.trialId, { status: 'ok', fitness: (parentF + worstF) / 2 });
  assert.deepEqual(copyOf(sp), before);
});

/** Runs with `workers` in flight and checks every tell's selection; returns the worst-slot replacements. */
function checkedSelections(workers: number, n: number): number {
  const st = fresh();
  let replacements = 0;
  const jobs: Job[] = [];
  const running: Job[] = [];
  while (jobs.length < n || running.length > 0) {
    while (running.length < workers && jobs.length < n) {
      const j = askJob(st);
      jobs.push(j);
      running.push(j);
    }
    running.sort((x, y) => x.fidelity - y.fidelity || x.trialId - y.trialId);
    const done = running.shift() as Job;
    const sp = st.subpops[done.rung];
    const before = copyOf(sp);
    const res = objective(done);
    tell(st, done.trialId, res);
    const changed = sp.fitness.map((_, i) => i).filter((i) => sp.configIds[i] !== before.configIds[i] || sp.fitness[i] !== before.fitness[i]);
    if (changed.length === 0 || (changed.length === 1 && changed[0] === done.parentId)) continue;
    assert.equal(changed.length, 1, `trial ${done.trialId} changed one slot at most`);
    const w = changed[0];
    const f = res.fitness as number;
    assert.ok(running.length > 0, `trial ${done.trialId} took a slot other than its parent with nothing else in flight`);
    assert.equal(done.source, 'de');
    assert.ok(f > fit(before.fitness[done.parentId]), 'it lost to its parent');
    assert.equal(fit(before.fitness[w]), Math.max(...before.fitness.map(fit)), 'the slot it took was the worst');
    assert.ok(f < fit(before.fitness[w]), 'and it beat that member');
    replacements++;
  }
  return replacements;
}

test('sequentially no trial ever takes a slot other than its parent; with 16 in flight some lose to their parent and take the worst slot', () => {
  assert.equal(checkedSelections(1, 400), 0);
  assert.ok(checkedSelections(16, 400) > 0);
});

test('with jobs in flight, a DE trial equal to the member of another slot takes no slot even if it beats its parent', () => {
  const { st, a, sp } = losingTrialSetup();
  const other = (a.parentId + 1) % sp.vectors.length;
  // two siblings built from the same stale population can coincide; this one repeats another slot's member
  (st.pending[String(a.trialId)] as Job).vector = [...sp.vectors[other]];
  const before = copyOf(sp);
  tell(st, a.trialId, { status: 'ok', fitness: fit(sp.fitness[a.parentId]) - 1 });
  assert.deepEqual(copyOf(sp), before, 'no duplicate member');
});
