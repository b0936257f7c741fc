// A `dehb worker` without --trials-dir makes a module objective's trial directory only when the
// objective reads ctx.trialDir (in its thread, and with --no-threads on the worker's loop): there
// it is a directory of its own, and it is gone once the result is stored; an objective that
// never reads it runs as before. Real worker processes, a real Redis, jobs put with BullMQ.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_DIR, queueBed, task } from '../fixtures/cluster/harness.js';

const DIR_OBJECTIVE = { kind: 'module' as const, path: join(FIXTURE_DIR, 'dir-objective.mjs'), exportName: 'objective' };

interface Outcome {
  status: string;
  info?: { before: boolean | null; dir?: string; isDir?: boolean; again?: boolean };
  batch?: Array<{ trialId: number; outcome?: Outcome }>;
}

for (const mode of ['threads', 'no-threads'] as const) {
  describe(`lazy trial directories of a dehb worker (${mode})`, { timeout: 120_000 }, () => {
    const bed = queueBed('lazydir', () => ['--concurrency', '2', ...(mode === 'threads' ? [] : ['--no-threads'])]);
    const outcomeOf = async (id: string, data: object): Promise<Outcome> =>
      (await (await bed.queue.add('t', data, { jobId: id, removeOnComplete: false })).waitUntilFinished(bed.events, 60_000)) as Outcome;

    it('an objective reading ctx.trialDir gets a directory of its own, removed after; one not reading it runs too', async () => {
      const read = await outcomeOf('lazy-1', task('lazy', 1, { read: 1 }, DIR_OBJECTIVE));
      assert.equal(read.status, 'ok', JSON.stringify(read));
      assert.equal(read.info?.isDir, true);
      assert.equal(read.info?.again, true);
      const trialDir = read.info?.dir as string;
      assert.equal(trialDir.endsWith(join('lazy', '1')), true, trialDir);
      assert.equal(existsSync(trialDir), false, 'removed once the trial is over');
      const unread = await outcomeOf('lazy-2', task('lazy', 2, { read: 0 }, DIR_OBJECTIVE));
      assert.equal(unread.status, 'ok');
      // a batch job: each trial's own directory
      const batch = await outcomeOf('lazy-3.b1', { v: 1, runId: 'lazy', batch: [task('lazy', 3, { read: 1 }, DIR_OBJECTIVE), task('lazy', 4, { read: 1 }, DIR_OBJECTIVE)] });
      const dirs = (batch.batch ?? []).map((m) => m.outcome?.info?.dir);
      assert.deepEqual(dirs, [join(dirname(trialDir), '3'), join(dirname(trialDir), '4')], JSON.stringify(batch));
      assert.deepEqual(readdirSync(dirname(trialDir)), [], 'nothing left in the run directory');
    });
  });
}
