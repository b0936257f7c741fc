/**
 * Faults of a directory study's local queue, with real `dehb` processes: workers only evaluate
 * and leave outcomes in `queue.json`; the lease holder journals every result and applies the one
 * retry policy.
 * - a `dehb study worker` killed -9 mid-trial: its claim expires, another slot runs the trial;
 *   N told, none twice, nothing of the dead worker's recorded as a result;
 * - a worker stopped with two signals (SIGTERM, then again) hands its running trial back to the
 *   queue at once (no claim expiry needed) and exits 130;
 * - a retryable failure is evaluated again by the holder's run loop and told once;
 * - a `study worker --max-trials 1` that leads orphaned (pushed) trials stops after one.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createStudy } from '../../src/api/study-open.js';
import { openStorage } from '../../src/study/storage-open.js';
import { runCli, startCli } from '../helpers/cli.js';
import { assertHandedBackAndToldOnce, evalsOf, gatedStudy, journalOf, SPACE, toldEachOnce, toldIds, until, withOpenStorage, withStorage } from './study-helpers.js';

test('[file] a study worker killed -9 mid-trial: its claim expires and another slot runs the trial; N told, none twice', { timeout: 180_000 }, () =>
  withStorage('file', async (ts) => {
    const { log, gate, env } = await gatedStudy(ts, 'k', 5);
    const N = 10;
    const lead = startCli(['optimize', 'k', '--fevals', String(N), '-n', '1', '--claim-ttl', '1s', '--json'], { env });
    const w = startCli(['study', 'worker', 'k', '--claim-ttl', '1s', '--id', 'doomed'], { env });
    const wPid = w.child.pid as number;
    await until(async () => (await evalsOf(log)).some(([pid]) => pid === wPid));
    const victim = (await evalsOf(log)).find(([pid]) => pid === wPid)?.[1] as number;
    w.child.kill('SIGKILL');
    assert.equal((await w.done).signal, 'SIGKILL');
    await rm(gate);
    const r = await lead.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).toldTotal, N);
    const entries = await toldEachOnce(ts.url, 'k', N);
    const told = toldIds(entries);
    assert.ok(told.includes(victim), 'the dead worker\'s trial was run again and told');
    assert.ok(!entries.some((e) => e.type === 'told' && e.worker?.id === 'doomed'), 'nothing of the dead worker is a result');
    assert.ok(entries.some((e) => e.type === 'started' && e.trialId === victim && e.worker?.id === 'doomed'), 'the dead worker had journaled started');
    const runs = (await evalsOf(log)).filter(([, id]) => id === victim).length;
    assert.equal(runs, 2, 'the victim trial ran once more, elsewhere');
    const s = await openStorage(ts.url);
    assert.deepEqual(await s.queue!.results('k'), { done: [], claimed: [] }, 'every result journaled left the queue');
    await s.close();
  }),
);

test('[file] a study worker stopped twice (SIGTERM) hands its running trial back at once and exits 130', { timeout: 180_000 }, () =>
  withOpenStorage('file', async (ts, s) => {
    const { log, gate, env } = await gatedStudy(ts, 'h', 5);
    const lead = startCli(['optimize', 'h', '--fevals', '4', '-n', '1', '--json'], { env });
    // a claim TTL far longer than the test: only a hand-back can free the trial
    const w = startCli(['study', 'worker', 'h', '--claim-ttl', '10m', '--id', 'polite'], { env });
    const wPid = w.child.pid as number;
    await until(async () => (await evalsOf(log)).some(([pid]) => pid === wPid));
    const trial = (await evalsOf(log)).find(([pid]) => pid === wPid)?.[1] as number;
    const heard = new Promise<void>((resolve) => w.child.stderr?.on('data', (d: Buffer) => /finishing running trials/.test(d.toString()) && resolve()));
    w.child.kill('SIGTERM');
    await heard; // the first signal was taken (finish running trials); the second cancels them
    w.child.kill('SIGTERM');
    // only a hand-back frees the claim this soon (an inline module evaluation keeps its process up until it returns)
    await until(async () => !(await s.queue!.results('h')).claimed.some((c) => c.trialId === trial));
    await assertHandedBackAndToldOnce(ts, 'h', { gate, worker: w, lead, workerId: 'polite', trial, told: 4 });
  }),
);

test('[file] a retryable failure runs again through the queue; the holder tells it once', { timeout: 120_000 }, () =>
  withStorage('file', async (ts) => {
    const flaky = join(ts.dir, 'flaky.mjs');
    const marks = join(ts.dir, 'marks');
    await writeFile(
      flaky,
      `import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
export function objective(config, fidelity, ctx) {
  mkdirSync(${JSON.stringify(marks)}, { recursive: true });
  const mark = ${JSON.stringify(marks)} + '/' + ctx.trialId;
  appendFileSync(${JSON.stringify(join(ts.dir, 'evals.log'))}, process.pid + ' ' + ctx.trialId + '\\n');
  if (!existsSync(mark)) {
    writeFileSync(mark, '');
    const e = new Error('flaky the first time'); e.name = 'ObjectiveError'; e.retryable = true; throw e;
  }
  return config.x;
}
`,
    );
    const st = await createStudy({ name: 'flaky', storage: ts.url, space: SPACE, minFidelity: 1, maxFidelity: 9, seed: 3, objective: { kind: 'module', path: flaky } });
    try {
      const r = await st.optimize({ fevals: 4 });
      assert.equal(r.toldTotal, 4);
      const trials = await st.trials();
      assert.deepEqual(trials.map((t) => t.status), ['ok', 'ok', 'ok', 'ok']);
    } finally {
      await st.close();
    }
    const entries = await journalOf(ts.url, 'flaky');
    assert.equal(toldIds(entries).length, 4, 'told once each: the failed attempt is not a result');
    const evals = await evalsOf(join(ts.dir, 'evals.log'));
    for (const id of toldIds(entries)) assert.equal(evals.filter(([, t]) => t === id).length, 2, `trial ${id} evaluated twice`);
  }),
);

test('[file] a study worker with --max-trials 1 leads three pushed trials nobody runs, evaluates one, and exits', { timeout: 120_000 }, () =>
  withStorage('file', async (ts) => {
    const { gate, env } = await gatedStudy(ts, 'm', 5);
    await rm(gate);
    for (const x of ['0.1', '0.2', '0.3']) {
      const p = await runCli(['push', 'm', '-p', `x=${x}`, '-p', 'act=relu'], { env });
      assert.equal(p.code, 0, p.stderr);
    }
    const w = await runCli(['study', 'worker', 'm', '--max-trials', '1', '--idle-exit', '60s', '--json'], { env });
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual([JSON.parse(w.stdout).reason, JSON.parse(w.stdout).toldHere], ['max-trials', 1]);
    const entries = await journalOf(ts.url, 'm');
    assert.equal(toldIds(entries).length, 1, 'one told; the other pushed trials stay pending for the next lease holder');
    assert.equal(entries.filter((e) => e.type === 'asked').length, 3);
  }),
);
