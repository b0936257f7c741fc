/**
 * A stopped lease holder, with real `dehb optimize` processes on both storages: one SIGTERM gives
 * the trial it is evaluating itself --grace-ms, then hands it back (an objective that never
 * returns cannot hold the stop); the process exits 130 and records nothing of that trial; the
 * trials it had queued stay pending; a later `dehb optimize` finishes the study with every trial
 * told once, the handed-back one included.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { evalsOf, gatedStudy, journalOf, toldIds, until, withStorage } from './study-helpers.js';

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] SIGTERM on dehb optimize: its own running trial gets --grace-ms, then is handed back; exit 130, nothing recorded of it; a later optimize tells every trial once`, { timeout: 180_000 }, () =>
    withStorage(kind, async (ts) => {
      const { log, gate, env } = await gatedStudy(ts, 'g');
      const lead = startCli(['optimize', 'g', '--fevals', '4', '-n', '1', '--grace-ms', '1000'], { env });
      const pid = lead.child.pid as number;
      await until(async () => (await evalsOf(log)).some(([p]) => p === pid));
      const trial = (await evalsOf(log)).find(([p]) => p === pid)?.[1] as number;
      lead.child.kill('SIGTERM'); // one signal: the grace period ends the trial, not a second signal
      // the test's own timeout is the failure: a stop that waits for a trial that never returns never exits
      const r = await lead.done;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /running trials get 1000 ms to finish, then are handed back/);
      assert.equal(toldIds(await journalOf(ts.url, 'g')).length, 0, 'nothing of the stopped process is a result');

      await rm(gate);
      const fin = await runCli(['optimize', 'g', '--fevals', '4', '-n', '2', '--json', '--claim-ttl', '2s'], { env });
      assert.equal(fin.code, 0, fin.stderr);
      const told = toldIds(await journalOf(ts.url, 'g'));
      assert.equal(told.length, 4, 'the study finished');
      assert.equal(new Set(told).size, 4, 'no trial told twice');
      assert.ok(told.includes(trial), `the handed-back trial ${trial} was run again and told`);
    }),
  );
}
