/**
 * One set of status names: a trial handed out by `study.ask()` and not told yet is `running` (its
 * asker is evaluating it, as Optuna shows RUNNING), never `queued`, in every place a status shows:
 * the Study API's trial lists and summary, `dehb trials`, `dehb show` and the report payload; also
 * after the study is re-opened (replayed from its journal). And one incumbent rule for the best trial.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStudy, loadStudy } from '../../src/api/study-open.js';
import { DEHB } from '../../src/api/dehb.js';
import { TRIAL_STATUSES } from '../../src/protocol/journal-versions.js';
import { loadModel } from '../../src/report/report.js';
import { PayloadBuilder } from '../../src/report/build-payload.js';
import { replay } from '../../src/study/replay.js';
import { runCli } from '../helpers/cli.js';
import { SPACE } from './study-helpers.js';

const OPTIMIZER = { space: SPACE as never, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 3 };

test('a trial from study.ask() not told yet is `running` in trials(), summary, dehb trials, dehb show and the report', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-status-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const st = await createStudy({ name: 'st', storage: dir, ...OPTIMIZER });
  const [a, b, c] = [await st.ask(), await st.ask(), await st.ask()];
  await st.tell(a, 0.5);
  const statusOf = (rows: Array<{ trialId: number; status: string }>): string[] => rows.sort((x, y) => x.trialId - y.trialId).map((x) => x.status);

  assert.deepEqual(statusOf(await st.trials()), ['ok', 'running', 'running']);
  assert.deepEqual((await st.trials({ status: 'running' })).map((x) => x.trialId), [b.trialId, c.trialId]);
  assert.deepEqual((await st.trials({ status: 'queued' })).map((x) => x.trialId), []);
  const summary = await st.summary();
  assert.deepEqual([summary.byStatus.running, summary.byStatus.queued, summary.byStatus.ok], [2, 0, 1]);
  assert.deepEqual(Object.keys(summary.byStatus), [...TRIAL_STATUSES], 'the summary counts the one set of names');
  await st.close();

  // re-opened: replayed from the journal
  const again = await loadStudy('st', { storage: dir });
  assert.deepEqual(statusOf(await again.trials()), ['ok', 'running', 'running']);
  await again.close();

  const trials = await runCli(['trials', 'st', '--storage', dir, '--format', 'json']);
  assert.equal(trials.code, 0, trials.stderr);
  assert.deepEqual(statusOf(JSON.parse(trials.stdout)), ['ok', 'running', 'running']);
  const running = await runCli(['trials', 'st', '--storage', dir, '--status', 'running', '--format', 'json']);
  assert.equal(running.code, 0, running.stderr);
  assert.equal(JSON.parse(running.stdout).length, 2);

  for (const args of [['--format', 'json'], ['--format', 'json', '--all'], ['--format', 'json', '--status', 'running']]) {
    const show = await runCli(['show', join(dir, 'st'), ...args]);
    assert.equal(show.code, 0, show.stderr);
    const rows = (JSON.parse(show.stdout) as { trials: Array<{ trialId: number; status: string }> }).trials;
    assert.deepEqual(statusOf(rows.filter((r) => r.trialId !== a.trialId)), ['running', 'running'], args.join(' '));
  }
  const table = await runCli(['show', join(dir, 'st')]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /1 results, 2 pending/);
  assert.doesNotMatch(table.stdout, /queued/);

  const { model, label } = await loadModel({ study: 'st', storage: dir });
  const live = new PayloadBuilder(model, label).build().live;
  assert.deepEqual(live.inFlight.map((x) => x.status), ['running', 'running']);
  assert.deepEqual([live.queued, live.running], [0, 2]);
});

test('one incumbent rule: of equal results the first told is the best trial, as the optimizer keeps it', async () => {
  const st = await createStudy({ name: 'tie', ...OPTIMIZER });
  const [a, b] = [await st.ask(), await st.ask()];
  await st.tell(b, 0.5); // told first
  await st.tell(a, 0.5);
  const j = await st.storage.journal('tie');
  const state = replay(await j.read(1)).state;
  await j.close();
  assert.equal(state.incumbent?.trialId, b.trialId);
  assert.equal((await st.summary()).best?.trialId, b.trialId);
  assert.equal((await st.bestTrial())?.trialId, b.trialId);
  await st.close();
});

test('a job from new DEHB(...).ask() not told yet is `running` too: in dehb.history and in dehb show of its run directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-status-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mem = new DEHB(OPTIMIZER);
  const [x, y] = [mem.ask(), mem.ask()];
  await mem.tell(x, 0.5);
  assert.deepEqual(mem.history.map((r) => r.status), ['ok', 'running']);
  assert.deepEqual(mem.pending.map((j) => j.trialId), [y.trialId]);

  const run = new DEHB({ ...OPTIMIZER, outputDir: dir });
  await run.ready();
  const [a] = [run.ask(), run.ask()];
  await run.tell(a, 0.5);
  await run.close();
  const show = await runCli(['show', dir, '--format', 'json']);
  assert.equal(show.code, 0, show.stderr);
  const rows = (JSON.parse(show.stdout) as { trials: Array<{ trialId: number; status: string }> }).trials;
  assert.deepEqual(rows.sort((p, q) => p.trialId - q.trialId).map((r) => r.status), ['ok', 'running']);
  // a resumed run still hands the asked-and-never-told job to its loop (it is not the Study's external kind)
  const again = new DEHB({ outputDir: dir, resume: true } as never);
  assert.deepEqual((await again.ready()).resumedPending.map((j) => j.trialId), [1]);
  await again.close();
});
