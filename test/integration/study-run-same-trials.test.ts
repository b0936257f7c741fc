/**
 * One run loop: a study and a run with the same options, seed and budget produce the same trials
 * (ids, configurations, fidelities, results, in order) on both storages, for a fevals and a
 * brackets budget. The study asks exactly as `dehb run -n 1` when it keeps no trial queued for
 * other processes (`queueAhead: 0`); by default it keeps `max(2, nWorkers)` queued for them.
 * Both return the one result type (RunResult): the same history, trajectory, counts and incumbent.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEHB } from '../../src/api/dehb.js';
import { createStudy } from '../../src/api/study-open.js';
import type { Budget } from '../../src/driver/budget.js';
import { makeStorage, SPACE } from './study-helpers.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

const OPTIONS = { space: SPACE as SpaceSpec, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 17 };

interface Trial {
  trialId: number;
  config: unknown;
  fidelity: number;
  fitness: number | null;
}

const shape = (t: { trialId: number; config: unknown; fidelity: number; fitness: number | null }): Trial => ({
  trialId: t.trialId,
  config: t.config,
  fidelity: t.fidelity,
  fitness: t.fitness,
});

for (const kind of ['file', 'redis'] as const) {
  for (const budget of [{ fevals: 30 }, { brackets: 2 }] as Budget[]) {
    test(`[${kind}] study and run with seed 17 and ${JSON.stringify(budget)}: the same trials`, { timeout: 120_000 }, async (t) => {
      const ts = await makeStorage(kind);
      t.after(() => ts.cleanup());
      const objective = join(ts.dir, 'objective.mjs');
      const run = await new DEHB({ ...OPTIONS, objective, nWorkers: 1 }).run(budget);
      const study = await createStudy({ ...OPTIONS, name: 'same', storage: ts.url, objective: { kind: 'module', path: objective } });
      try {
        const r = await study.optimize({ ...budget, nWorkers: 1, queueAhead: 0 });
        assert.equal(r.reason, 'budget');
        const trials = (await study.trials()).map((x) => shape({ ...x, fitness: x.fitness ?? null }));
        const expected = run.history.map(shape);
        assert.ok(expected.length >= 9, `a real run (${expected.length} trials)`);
        assert.deepEqual(trials, expected);
        // one result type: the study's optimize result reads as the run's
        assert.deepEqual(r.history.map(shape), expected);
        assert.deepEqual(r.trajectory, run.trajectory);
        assert.deepEqual(r.trials, run.trials);
        assert.deepEqual(r.incumbent, run.incumbent);
        assert.equal(r.stopReason, 'budget');
      } finally {
        await study.close();
      }
    });
  }
}
