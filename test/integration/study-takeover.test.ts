/**
 * Two `dehb optimize` processes on one study, on each storage: the leader is killed with SIGKILL
 * mid-run; the other process takes the lease over by replaying the journal, gets the dead
 * process's trials back (directory: their claims expire; Redis: their BullMQ jobs stall and are
 * re-run, results stored meanwhile are re-attached), and the study ends with exactly N told
 * trials, each told once. Only trials the killed process was evaluating may have been evaluated
 * twice.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startCli } from '../helpers/cli.js';
import { journalOf, makeStorage, toldIds, until } from './study-helpers.js';

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] leader killed mid-run: the other process takes over, N told, none twice`, async () => {
    const ts = await makeStorage(kind);
    try {
      const N = 30;
      const log = join(ts.dir, 'evals.log');
      const gate = join(ts.dir, 'gate');
      const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log, EVAL_SLEEP_MS: '120', EVAL_GATE: gate };
      const c = await runCli(
        ['study', 'create', 'race', '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs'), '--seed', '11'],
        { env },
      );
      assert.equal(c.code, 0, c.stderr);
      const args = ['optimize', 'race', '--fevals', String(N), '-n', '2', '--lease-ttl', '1s', '--claim-ttl', '1s', '--json'];
      const a = startCli(args, { env });
      await until(async () => toldIds(await journalOf(ts.url, 'race')).length >= 4);
      await writeFile(gate, ''); // evaluations now wait: A cannot finish the study alone meanwhile
      const b = startCli(args, { env });
      const bPid = b.child.pid as number;
      // B is evaluating (one of its slots runs a trial) before A dies
      await until(async () => (await readFile(log, 'utf8')).split('\n').some((l) => l.startsWith(`${bPid} `)));
      const aPid = a.child.pid as number;
      const beforeKill = await journalOf(ts.url, 'race');
      assert.ok(toldIds(beforeKill).length < N - 6, 'killed well before the end');
      a.child.kill('SIGKILL');
      const ra = await a.done;
      assert.equal(ra.signal, 'SIGKILL');
      await rm(gate);
      const rb = await b.done;
      assert.equal(rb.code, 0, rb.stderr);
      const summary = JSON.parse(rb.stdout);
      assert.equal(summary.reason, 'budget');
      assert.equal(summary.toldTotal, N);
      assert.equal(summary.led, true, 'B took the lease over');
      assert.match(rb.stderr, /leading \(replayed \d+ entries/);

      const entries = await journalOf(ts.url, 'race');
      const told = toldIds(entries);
      assert.equal(told.length, N, 'exactly N results');
      assert.equal(new Set(told).size, N, 'no trial told twice');
      const asked = entries.filter((e) => e.type === 'asked').map((e) => (e as { trialId: number }).trialId);
      assert.equal(new Set(asked).size, asked.length, 'no trial asked twice (a deposed leader never wrote)');
      assert.deepEqual([...new Set(told)].sort((x, y) => x - y), [...asked].sort((x, y) => x - y).slice(0, N));
      assert.ok(entries.filter((e) => e.type === 'budget').length >= 2, 'a second leader recorded its budget');

      // evaluations repeated only for trials A was running when it died
      const evals = (await readFile(log, 'utf8')).trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
      const count = new Map<number, number>();
      for (const [, id] of evals) count.set(id, (count.get(id) ?? 0) + 1);
      const toldByA = new Set(entries.filter((e) => e.type === 'told' && e.worker?.pid === aPid).map((e) => (e as { trialId: number }).trialId));
      const startedByA = new Set(evals.filter(([pid]) => pid === aPid).map(([, id]) => id));
      for (const [id, n] of count) {
        if (n > 1) {
          assert.ok(startedByA.has(id) && !toldByA.has(id), `trial ${id} ran ${n} times but A was not running it when killed`);
          assert.ok(n === 2, `trial ${id} ran ${n} times`);
        }
      }
      // readers see a consistent, finished study
      const trials = await runCli(['trials', 'race', '--format', 'json'], { env });
      const parsed = JSON.parse(trials.stdout) as Array<{ status: string }>;
      assert.equal(parsed.filter((t) => t.status === 'ok').length, N);
    } finally {
      await ts.cleanup();
    }
  });
}
