import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEHB } from '../../src/api/dehb.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

const space: SpaceSpec = {
  x: { type: 'float', low: -5, high: 5 },
  act: { type: 'categorical', choices: ['relu', 'tanh'] },
  opt: { type: 'categorical', choices: ['sgd', 'adam'] },
  momentum: { type: 'float', low: 0, high: 0.99, condition: { parent: 'opt', in: ['sgd'] } },
};
const base = { space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1 };
const objective = (c: Record<string, unknown>, fidelity: number): number =>
  Number(c.x) ** 2 + (c.act === 'tanh' ? 0.5 : 0) + 1 / fidelity;

test('run({fevals}) returns incumbent, trajectory and one history record per trial', async () => {
  const dehb = new DEHB({ ...base, objective });
  const r = await dehb.run({ fevals: 100 });
  assert.equal(r.history.length, 100);
  assert.equal(r.trajectory.length, 100);
  assert.ok(r.incumbent !== null);
  const best = Math.min(...r.history.map((h) => h.fitness ?? Infinity));
  assert.equal(r.incumbent.fitness, best);
  for (let i = 1; i < r.trajectory.length; i++) assert.ok((r.trajectory[i] as number) <= (r.trajectory[i - 1] as number));
  for (const h of r.history) {
    assert.equal('momentum' in h.config, h.config.opt === 'sgd', 'inactive conditional parameters are absent');
  }
});

test('same seed, same results: identical job sequences; another seed differs', async () => {
  const a = await new DEHB({ ...base, objective }).run({ fevals: 60 });
  const b = await new DEHB({ ...base, objective }).run({ fevals: 60 });
  const c = await new DEHB({ ...base, seed: 2, objective }).run({ fevals: 60 });
  const cfgs = (r: typeof a): string => JSON.stringify(r.history.map((h) => [h.config, h.fidelity]));
  assert.equal(cfgs(a), cfgs(b));
  assert.notEqual(cfgs(a), cfgs(c));
});

test('run() again continues the same run (relative budget)', async () => {
  const dehb = new DEHB({ ...base, objective });
  await dehb.run({ fevals: 30 });
  const r = await dehb.run({ fevals: 20 });
  assert.equal(r.history.length, 50);
  assert.deepEqual(r.history.map((h) => h.trialId), [...Array(50).keys()]);
});

test('ask many before telling any opens new brackets; tell errors are clear', async () => {
  const dehb = new DEHB({ ...base });
  const jobs = Array.from({ length: 30 }, () => dehb.ask());
  assert.deepEqual(
    jobs.map((j) => j.bracketId),
    [...Array(27).fill(0), 1, 1, 1],
  );
  await dehb.tell(jobs[3]!, 1.5);
  await dehb.tell(jobs[4]!, { fitness: 0.5, cost: 2, info: { note: 'x' } });
  assert.throws(() => dehb.tell(jobs[3]!, 1), /trial 3 was already told/);
  assert.throws(() => dehb.tell(999, 1), /trial 999 was never asked/);
  assert.equal(dehb.incumbent?.fitness, 0.5);
  assert.equal(dehb.pending.length, 28);
});

test('objectives that throw or return NaN become failed trials; the run goes on', async () => {
  let n = 0;
  const dehb = new DEHB({
    ...base,
    objective: () => {
      n++;
      if (n % 4 === 0) throw new Error('CUDA out of memory');
      if (n % 4 === 1) return Number.NaN;
      if (n % 4 === 2) return { cost: 1 } as unknown as number;
      return n;
    },
  });
  const r = await dehb.run({ fevals: 40 });
  assert.equal(r.history.length, 40);
  assert.equal(r.history.filter((h) => h.status === 'failed').length, 30);
  assert.ok(r.history.some((h) => /CUDA out of memory/.test(h.error?.message ?? '')));
  assert.ok(r.history.some((h) => /NaN/.test(h.error?.message ?? '')));
  assert.equal(r.incumbent?.fitness, 3);
});

test('outputDir journals every ask and tell; resume rebuilds the run and continues it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-class-'));
  try {
    const first = new DEHB({ ...base, objective, outputDir: dir });
    await first.run({ fevals: 45 });
    const inc = JSON.parse(await readFile(join(dir, 'incumbent.json'), 'utf8'));
    assert.equal(inc.fitness, first.incumbent?.fitness);
    const csv = await readFile(join(dir, 'history.csv'), 'utf8');
    assert.equal(csv.trim().split('\n').length, 46);
    assert.throws(() => new DEHB({ ...base, outputDir: dir }).ask(), /await dehb.ready\(\)/);
    await assert.rejects(new DEHB({ ...base, objective, outputDir: dir }).ready(), /already holds a run/);

    const again = new DEHB({ outputDir: dir, resume: true, objective } as never);
    await again.ready();
    assert.equal(again.history.length, 45);
    const r = await again.run({ fevals: 15 });
    assert.equal(r.history.length, 60);
    // the same 60 trials as an uninterrupted run with the same seed
    const straight = await new DEHB({ ...base, objective }).run({ fevals: 60 });
    assert.equal(JSON.stringify(r.history.map((h) => h.config)), JSON.stringify(straight.history.map((h) => h.config)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad options fail at construction with the field named', () => {
  assert.throws(() => new DEHB({ ...base, eta: 1 }), /eta must be > 1/);
  assert.throws(() => new DEHB({ ...base, nWorkers: 0 }), /nWorkers must be a whole number >= 1/);
  // the task rule of src/protocol/schemas.ts, stated in the key the user typed
  assert.throws(() => new DEHB({ ...base, runId: 'my run' }), /runId must be letters, digits, "_", "." or "-" .*\(got "my run"\)/);
  assert.throws(() => new DEHB({ ...base, runId: 'study.x' }), (e: { code?: string; message: string }) =>
    e.code === 'E_CONFIG' && /^runId "study\.x" is taken: .*createStudy/.test(e.message));
  assert.throws(() => new DEHB({ ...base, trialTimeoutMs: 0 }), /trialTimeoutMs must be a number of ms > 0 \(got 0\); leave it out for no limit/);
  assert.throws(() => new DEHB({ ...base, strategy: 'best_bin' as never }), /strategy/);
  assert.throws(() => new DEHB({ ...base, resume: true }), /resume needs outputDir/);
});

test('nWorkers: 2 with a module objective runs in worker threads', async () => {
  const mod = new URL('../fixtures/lead/quadratic.mjs', import.meta.url);
  const dehb = new DEHB({ ...base, objective: mod, nWorkers: 2 });
  const r = await dehb.run({ fevals: 30 });
  assert.equal(r.history.length, 30);
  assert.ok(r.history.every((h) => h.status === 'ok'), JSON.stringify(r.history.find((h) => h.status !== 'ok')));
  assert.ok(r.history.every((h) => Number(h.info.threadId) > 0), 'evaluated off the main thread');
  assert.equal(r.history[0]?.reports.length, 1);
});

test('a resumed run keeps the nWorkers and trial timeout it was started with', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-class-'));
  const mod = new URL('../fixtures/lead/slow-objective.mjs', import.meta.url);
  const before = process.env.DEHB_TEST_SLEEP_MS;
  try {
    process.env.DEHB_TEST_SLEEP_MS = '10';
    await new DEHB({ ...base, objective: mod, nWorkers: 2, trialTimeoutMs: 500, outputDir: dir }).run({ fevals: 4 });
    process.env.DEHB_TEST_SLEEP_MS = '5000'; // read by the new threads of the resumed run
    const again = new DEHB({ outputDir: dir, resume: true, objective: mod } as never);
    const r = await again.run({ fevals: 2 });
    assert.equal(r.history.length, 6);
    assert.deepEqual(r.history.slice(4).map((h) => h.status), ['timed-out', 'timed-out'], 'the 500 ms timeout still applies');
    const starts = r.history.slice(4).map((h) => h.startedAt as number);
    assert.ok(Math.abs((starts[0] as number) - (starts[1] as number)) < 400, 'two trials ran at once (nWorkers 2)');
  } finally {
    if (before === undefined) delete process.env.DEHB_TEST_SLEEP_MS;
    else process.env.DEHB_TEST_SLEEP_MS = before;
    await rm(dir, { recursive: true, force: true });
  }
});
