import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tell } from '../../src/dehb/optimizer.js';
import { sortedSlots } from '../../src/dehb/population.js';
import type { DehbState, Job } from '../../src/dehb/types.js';
import { askJob, fresh, objective, runFifo, runs } from './optimizer-helpers.js';

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Ids of the best `n` finite members of rung `r` not present (by vector) in rung `into`. */
function bestIds(st: DehbState, r: number, n: number, into?: number): number[] {
  const sp = st.subpops[r];
  const present = into === undefined ? [] : st.subpops[into].vectors.map((v) => v.join(','));
  return sortedSlots(sp)
    .filter((i) => sp.fitness[i] !== null && !present.includes(sp.vectors[i].join(',')))
    .slice(0, n)
    .map((i) => sp.configIds[i]);
}

test('sequential trace of the first Hyperband iteration (spec §2.5 table)', () => {
  const st = fresh({ seed: 1 });
  const trace: Array<{ jobs: Job[]; expectIds?: number[] }> = [];
  const step = (count: number, expectIds?: () => number[]): Job[] => {
    const ids = expectIds?.();
    const jobs: Job[] = [];
    for (let i = 0; i < count; i++) {
      const j = askJob(st);
      jobs.push(j);
      tell(st, j.trialId, objective(j));
    }
    trace.push({ jobs, expectIds: ids });
    return jobs;
  };
  const shape = (jobs: Job[]) => ({
    bracket: [...new Set(jobs.map((j) => j.bracketId))],
    fidelity: [...new Set(jobs.map((j) => j.fidelity))],
    source: [...new Set(jobs.map((j) => j.source))],
    parents: jobs.map((j) => j.parentId),
  });

  let jobs = step(27);
  assert.deepEqual(shape(jobs), { bracket: [0], fidelity: [1], source: ['de'], parents: range(0, 26) });
  assert.deepEqual(jobs.map((j) => j.configId), range(46, 72));

  jobs = step(9, () => bestIds(st, 0, 9, 1));
  assert.deepEqual(shape(jobs), { bracket: [0], fidelity: [3], source: ['promotion'], parents: range(0, 8) });
  assert.deepEqual(jobs.map((j) => j.configId), trace[1].expectIds, 'the best 9 of fidelity 1, keeping their ids');
  assert.equal(st.nextConfigId, 73, 'promotions announce no new config id');

  jobs = step(3, () => bestIds(st, 1, 3, 2));
  assert.deepEqual(shape(jobs), { bracket: [0], fidelity: [9], source: ['promotion'], parents: [0, 1, 2] });
  assert.deepEqual(jobs.map((j) => j.configId), trace[2].expectIds);

  jobs = step(1, () => bestIds(st, 2, 1, 3));
  assert.deepEqual(shape(jobs), { bracket: [0], fidelity: [27], source: ['promotion'], parents: [0] });
  assert.deepEqual(jobs.map((j) => j.configId), trace[3].expectIds);
  assert.deepEqual(st.brackets, [], 'bracket 0 finished and was removed');

  jobs = step(9);
  assert.deepEqual(shape(jobs), { bracket: [1], fidelity: [3], source: ['de'], parents: range(0, 8) });
  assert.deepEqual(jobs.map((j) => j.configId), range(73, 81));

  jobs = step(3, () => bestIds(st, 1, 3, 2));
  assert.deepEqual(shape(jobs), { bracket: [1], fidelity: [9], source: ['promotion'], parents: [3, 4, 5] });
  assert.deepEqual(jobs.map((j) => j.configId), trace[5].expectIds, 'best of fidelity 3 not already at fidelity 9');

  jobs = step(1);
  assert.deepEqual(shape(jobs), { bracket: [1], fidelity: [27], source: ['promotion'], parents: [1] });

  jobs = step(6);
  assert.deepEqual(shape(jobs), { bracket: [2], fidelity: [9], source: ['de'], parents: range(0, 5) });
  assert.deepEqual(jobs.map((j) => j.configId), range(82, 87));

  jobs = step(2);
  assert.deepEqual(shape(jobs), { bracket: [2], fidelity: [27], source: ['promotion'], parents: [2, 3] });

  jobs = step(4);
  assert.deepEqual(shape(jobs), { bracket: [3], fidelity: [27], source: ['de'], parents: [0, 1, 2, 3] });
  assert.deepEqual(jobs.map((j) => j.configId), range(88, 91));

  // every slot of every sub-population now holds an evaluated member
  for (const sp of st.subpops) assert.ok(sp.fitness.every((f) => f !== null));

  // from bracket 4 on, every rung is DE with new ids
  jobs = step(40);
  assert.deepEqual(shape(jobs).bracket, [4]);
  assert.deepEqual(shape(jobs).source, ['de']);
  assert.deepEqual(jobs.map((j) => j.configId), range(92, 131));
  assert.deepEqual(runs(jobs), [[4, 1, 27], [4, 3, 9], [4, 9, 3], [4, 27, 1]]);
});

test('asking 30 at once with 1..27/eta 3 gives 27 jobs of bracket 0 then 3 of bracket 1', () => {
  const st = fresh();
  const jobs = Array.from({ length: 30 }, () => askJob(st));
  assert.deepEqual(runs(jobs), [[0, 1, 27], [1, 3, 3]]);
  assert.equal(st.brackets.length, 2);
  assert.equal(new Set(jobs.map((j) => j.trialId)).size, 30);
  assert.equal(Object.keys(st.pending).length, 30);
});

test('4-worker FIFO trace (spec §2.9)', () => {
  const st = fresh();
  const jobs = runFifo(st, 4, 131);
  assert.deepEqual(runs(jobs).slice(0, 16), [
    [0, 1, 27],
    [1, 3, 3],
    [0, 3, 9],
    [1, 3, 3],
    [0, 9, 3],
    [1, 3, 3],
    [0, 27, 1],
    [2, 9, 2],
    [1, 9, 3],
    [2, 9, 3],
    [1, 27, 1],
    [2, 9, 1],
    [3, 27, 3],
    [2, 27, 2],
    [3, 27, 1],
    [4, 1, 27],
  ]);
});

test('once bracket L is opened, promotions stop (iterationCounter >= L)', () => {
  const st = fresh();
  // 4 workers: bracket 4 opens while bracket 3 is unfinished; jobs after that are all DE
  const jobs = runFifo(st, 4, 200);
  const firstOfB4 = jobs.findIndex((j) => j.bracketId === 4);
  assert.ok(firstOfB4 > 0);
  for (const j of jobs.slice(firstOfB4)) assert.equal(j.source, 'de');
  assert.ok(jobs.slice(0, firstOfB4).some((j) => j.source === 'promotion'));
});
