import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEHB } from '../../src/api/dehb.js';
import { createState, tell } from '../../src/dehb/optimizer.js';
import { fidelityLadder } from '../../src/dehb/fidelity.js';
import { DehbError } from '../../src/errors.js';
import { askJob, opts, runSequential } from './optimizer-helpers.js';

function e_config(option: string, re: RegExp) {
  return (e: unknown) => e instanceof DehbError && e.code === 'E_CONFIG' && (e.details as { option?: string }).option === option && re.test(e.message);
}

test("fidelityType 'int' hands the objective the rounded ladder (epochs)", () => {
  assert.deepEqual(fidelityLadder(1, 52, 3, 'float').map((f) => Number(f.toFixed(3))), [1.926, 5.778, 17.333, 52]);
  assert.deepEqual(fidelityLadder(1, 52, 3, 'int'), [2, 6, 17, 52]);
  const st = createState(opts({ minFidelity: 1, maxFidelity: 52, fidelityType: 'int' }));
  assert.deepEqual(st.fidelities, [2, 6, 17, 52]);
  const jobs = runSequential(st, 120);
  assert.deepEqual([...new Set(jobs.map((j) => j.fidelity))].sort((a, b) => a - b), [2, 6, 17, 52]);
  // the default keeps the reference's float ladder
  assert.deepEqual(createState(opts({ minFidelity: 1, maxFidelity: 52 })).fidelities, fidelityLadder(1, 52, 3, 'float'));
});

test("fidelityType 'int' refuses ladders that do not round to distinct integer rungs >= 1", () => {
  assert.throws(() => createState(opts({ maxFidelity: 27.5, fidelityType: 'int' })), e_config('maxFidelity', /must be an integer with fidelityType 'int' \(got 27.5\)/));
  assert.throws(() => createState(opts({ minFidelity: 0.5, maxFidelity: 27, fidelityType: 'int' })), e_config('minFidelity', /must be >= 1/));
  assert.throws(
    () => createState(opts({ minFidelity: 1, maxFidelity: 3, eta: 1.2, fidelityType: 'int' })),
    e_config('minFidelity', /round to 1, 1, 1, 2, 2, 3, 3 \(two rungs of 1\); .*raise minFidelity or eta/),
  );
  assert.throws(() => createState(opts({ fidelityType: 'epochs' as never })), e_config('fidelityType', /must be 'float' or 'int'/));
  assert.throws(() => createState(opts({ incumbent: 'best' as never })), e_config('incumbent', /must be 'any-fidelity' or 'max-fidelity'/));
});

test("incumbent 'max-fidelity' counts only results at the highest fidelity; 'any-fidelity' (default) counts all", () => {
  // low fidelities look better than they are, so the reference's rule picks one of them
  const fake = (fidelity: number, x: number) => ({ status: 'ok' as const, fitness: (x - 1) ** 2 + fidelity / 27 });
  const run = (incumbent?: 'max-fidelity' | 'any-fidelity') => {
    const st = createState(opts(incumbent === undefined ? {} : { incumbent }));
    let bestTop = Infinity;
    for (let i = 0; i < 150; i++) {
      const j = askJob(st);
      const r = fake(j.fidelity, j.config.x as number);
      if (j.rung === st.fidelities.length - 1) bestTop = Math.min(bestTop, r.fitness);
      tell(st, j.trialId, r);
      if (incumbent === 'max-fidelity' && st.incumbent !== null) assert.equal(st.incumbent.fidelity, 27);
    }
    return { st, bestTop };
  };
  const any = run();
  assert.equal(any.st.options.incumbent, 'any-fidelity');
  assert.ok(any.st.incumbent !== null && any.st.incumbent.fidelity < 27);
  const max = run('max-fidelity');
  assert.equal(max.st.incumbent?.fidelity, 27);
  assert.equal(max.st.incumbent?.fitness, max.bestTop);
  // before any top-rung result there is no incumbent
  const early = createState(opts({ incumbent: 'max-fidelity' }));
  const first = askJob(early);
  tell(early, first.trialId, { status: 'ok', fitness: 0 });
  assert.equal(first.rung < early.fidelities.length - 1 && early.incumbent === null, true);
});

test('both options are recorded in the journal: a resumed run keeps them without being told again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-fid-'));
  try {
    const seen: number[] = [];
    const objective = (c: Record<string, unknown>, fidelity: number): number => {
      seen.push(fidelity);
      return (Number(c.x) - 1) ** 2 + fidelity / 52;
    };
    const first = new DEHB({ ...opts({ minFidelity: 1, maxFidelity: 52, fidelityType: 'int', incumbent: 'max-fidelity' }), objective, outputDir: dir });
    await first.run({ fevals: 30 });
    const again = new DEHB({ outputDir: dir, resume: true, objective } as never);
    await again.ready();
    const r = await again.run({ fevals: 60 });
    assert.equal(r.history.length, 90);
    assert.ok(seen.length >= 60 && seen.every((f) => Number.isInteger(f)), `fractional fidelity in ${seen.join(',')}`);
    assert.ok(seen.slice(30).some((f) => f === 52));
    assert.equal(r.incumbent?.fidelity, 52);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
