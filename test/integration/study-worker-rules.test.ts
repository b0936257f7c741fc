/**
 * The worker-runtime rules on a study's evaluation slots, with real `dehb` processes, on both
 * storages (a Redis study's slots are the cluster worker runtime; a directory study's claim from
 * its local queue):
 * - `--max-trials N` (TrialQuota) counts trials taken over from a dead lease holder too: a worker
 *   that leads the orphaned trials of a killed `dehb optimize` evaluates exactly N and exits;
 *   nothing it evaluated is lost or told twice;
 * - the grace period of a stop (`--grace-ms`): a trial still running when it ends goes back to
 *   the queue and is run elsewhere, never recorded as a result of the stopped worker (a worker,
 *   and a lease holder, whose loop then stops waiting for it);
 * - the allow-list (`--allow`, `--objective`, `--command`): a study whose journal names a module
 *   the worker does not allow is refused before anything is claimed, and the module never runs;
 *   an objective written into a queue.json task never runs either;
 * - a garbled queue.json task is refused once (done with a failure naming the problem), never
 *   handed to a worker and never claimed again.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStorage } from '../../src/study/storage-open.js';
import { runCli, startCli } from '../helpers/cli.js';
import {
  assertHandedBackAndToldOnce,
  createStudyByCli,
  evalsOf,
  gatedStudy,
  journalOf,
  toldEachOnce,
  toldIds,
  until,
  withOpenStorage,
  withStorage,
  type TestStorage,
} from './study-helpers.js';

test('[redis] a --max-trials 2 worker that takes over a killed lead\'s orphaned trials evaluates exactly 2; nothing lost or told twice', { timeout: 240_000 }, () =>
  withStorage('redis', async (ts) => {
    const N = 10;
    // the lead's evaluations wait: it dies with every trial it asked still pending
    const { log, gate, env } = await gatedStudy(ts, 'orph');
    const lead = startCli(['optimize', 'orph', '--fevals', String(N), '-n', '3', '--lease-ttl', '1s', '--claim-ttl', '1s'], { env });
    const leadPid = lead.child.pid as number;
    await until(async () => (await evalsOf(log)).filter(([pid]) => pid === leadPid).length >= 3);
    lead.child.kill('SIGKILL');
    assert.equal((await lead.done).signal, 'SIGKILL');
    const orphaned = await journalOf(ts.url, 'orph');
    const asked = orphaned.filter((e) => e.type === 'asked').length;
    assert.equal(toldIds(orphaned).length, 0);
    assert.ok(asked >= 4, `the dead lead left ${asked} trials pending (more than the worker may run)`);
    await rm(gate);

    const w = startCli(['worker', '--study', 'orph', '--storage', ts.url, '--max-trials', '2', '--id', 'capped'], { env });
    const wPid = w.child.pid as number;
    const rw = await w.done;
    assert.equal(rw.code, 0, rw.stderr);
    assert.match(rw.stderr, /worker stopped \(max-trials\): 2 trial\(s\) evaluated here/);
    const byWorker = (await evalsOf(log)).filter(([pid]) => pid === wPid).map(([, id]) => id);
    assert.equal(byWorker.length, 2, `the capped worker evaluated exactly 2 trials (it evaluated ${byWorker.join(', ')})`);

    // another process finishes the study: the capped worker's results are re-attached, not re-run
    const fin = await runCli(['optimize', 'orph', '--fevals', String(N), '-n', '2', '--json'], { env });
    assert.equal(fin.code, 0, fin.stderr);
    assert.equal(JSON.parse(fin.stdout).toldTotal, N);
    const entries = await toldEachOnce(ts.url, 'orph', N);
    const toldFromWorker = entries.filter((e) => e.type === 'told' && e.worker?.pid === wPid).map((e) => (e as { trialId: number }).trialId);
    assert.deepEqual(toldFromWorker.sort((a, b) => a - b), [...byWorker].sort((a, b) => a - b), "both of the capped worker's results are in the journal, as its own");
    const evals = await evalsOf(log);
    for (const id of byWorker) {
      assert.equal(evals.filter(([pid, t]) => t === id && pid !== leadPid).length, 1, `trial ${id} ran once after the lead died`);
    }
  }),
);

/** Polls `fn` until true; fails after `ms` (generous: a condition that never comes is the failure). */
async function within(ms: number, what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function queueFile(ts: TestStorage, name: string): Promise<string> {
  const s = await openStorage(ts.url);
  try {
    return join(s.localDir?.(name) as string, 'queue.json');
  } finally {
    await s.close();
  }
}

const slot = (trialId: number, task: Record<string, unknown> = {}): Record<string, unknown> => ({
  task: { trialId, priority: 1, config: { x: 0.25, act: 'relu' }, fidelity: 1, ...task },
  state: 'queued',
  attempts: 0,
});

test('[file] SIGTERM gives a running trial --grace-ms, then hands it back: it runs elsewhere and the stopped worker records nothing', { timeout: 240_000 }, () =>
  withOpenStorage('file', async (ts, s) => {
    const { log, gate, env } = await gatedStudy(ts, 'g');
    const lead = startCli(['optimize', 'g', '--fevals', '3', '-n', '1', '--json'], { env });
    // a claim TTL far longer than the test: only the hand-back at the end of the grace frees the trial
    const w = startCli(['study', 'worker', 'g', '--claim-ttl', '10m', '--grace-ms', '1500', '--id', 'graceful'], { env });
    const wPid = w.child.pid as number;
    await within(120_000, 'the worker evaluates a trial', async () => (await evalsOf(log)).some(([pid]) => pid === wPid));
    const trial = (await evalsOf(log)).find(([pid]) => pid === wPid)?.[1] as number;
    w.child.kill('SIGTERM'); // one signal only: the grace period ends the trial, not a second signal
    await within(60_000, 'the trial is handed back when the grace ends', async () => !(await s.queue!.results('g')).claimed.some((c) => c.trialId === trial));
    await assertHandedBackAndToldOnce(ts, 'g', { gate, worker: w, lead, workerId: 'graceful', trial, told: 3 });
  }),
);

test('[file] attacker: a study journal naming a module outside the worker\'s allow-list is refused before a claim; the module never runs', { timeout: 180_000 }, () =>
  withStorage('file', async (ts) => {
    const marker = join(ts.dir, 'evil-ran');
    const evilDir = join(ts.dir, 'evil');
    await mkdir(evilDir);
    const evil = join(evilDir, 'evil.mjs');
    await writeFile(evil, `import { writeFileSync } from 'node:fs';\nexport function objective() { writeFileSync(${JSON.stringify(marker)}, 'x'); return 1; }\n`);
    const env = { DEHB_STORAGE: ts.url };
    await createStudyByCli(ts, 'a', env, { objective: evil });
    const q = await queueFile(ts, 'a');
    await writeFile(q, JSON.stringify({ tasks: { '0': slot(0) } }));
    await mkdir(join(ts.dir, 'good')); // an allowed directory that holds no objective of this study
    for (const flags of [['--allow', join(ts.dir, 'good')], ['--objective', join(ts.dir, 'objective.mjs')], ['--command', 'python3 job.py']]) {
      const w = await runCli(['worker', '--study', 'a', '--storage', ts.url, '--idle-exit', '1s', ...flags], { env });
      assert.notEqual(w.code, 0, `${flags.join(' ')}: refused`);
      assert.match(w.stderr, /refuses objective module .*evil\.mjs.*restart the worker with --allow/, w.stderr);
      assert.doesNotMatch(w.stderr, /\n\s+at /, 'one sentence, no stack trace');
    }
    assert.equal(existsSync(marker), false, 'the module never ran');
    const after = JSON.parse(await readFile(q, 'utf8')) as { tasks: Record<string, { state: string; attempts: number }> };
    assert.deepEqual([after.tasks['0']?.state, after.tasks['0']?.attempts], ['queued', 0], 'nothing was claimed');
    // the control: allowed, the same worker runs it (so the refusal above is the allow-list's)
    const ok = await runCli(['study', 'worker', 'a', '--allow', evilDir, '--max-trials', '1', '--idle-exit', '30s'], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(existsSync(marker), true);
  }),
);

test('[file] attacker: an objective written into a queue.json task never runs (the study\'s own objective does)', { timeout: 120_000 }, () =>
  withStorage('file', async (ts) => {
    const marker = join(ts.dir, 'evil-ran');
    const evil = join(ts.dir, 'evil.mjs');
    await writeFile(evil, `import { writeFileSync } from 'node:fs';\nexport function objective() { writeFileSync(${JSON.stringify(marker)}, 'x'); return 1; }\n`);
    const log = join(ts.dir, 'evals.log');
    const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log };
    await createStudyByCli(ts, 'q', env);
    const q = await queueFile(ts, 'q');
    await writeFile(q, JSON.stringify({ tasks: { '0': slot(0, { objective: { kind: 'module', path: evil } }) } }));
    const w = await runCli(['study', 'worker', 'q', '--max-trials', '1', '--idle-exit', '30s', '--json'], { env });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout).reason, 'max-trials');
    assert.equal(existsSync(marker), false, 'the queued objective never ran');
    assert.deepEqual((await evalsOf(log)).map(([, id]) => id), [0], "the study's objective ran trial 0");
  }),
);

test('[file] a garbled queue.json task is refused once with a clear error, never evaluated, never claimed again', { timeout: 120_000 }, () =>
  withStorage('file', async (ts) => {
    const log = join(ts.dir, 'evals.log');
    const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log };
    await createStudyByCli(ts, 'z', env);
    const q = await queueFile(ts, 'z');
    await writeFile(q, JSON.stringify({ tasks: { '0': slot(0, { config: 'garbage' }), '1': slot(1) } }));
    const w = await runCli(['study', 'worker', 'z', '--max-trials', '1', '--claim-ttl', '1s', '--idle-exit', '30s', '--json'], { env });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout).reason, 'max-trials');
    const refusedSlot = (): Promise<{ state: string; outcome?: { status: string; retryable: boolean; error: { code: string; message: string } } }> =>
      readFile(q, 'utf8').then((t) => (JSON.parse(t) as { tasks: Record<string, never> }).tasks['0']);
    const s0 = await refusedSlot();
    assert.equal(s0.state, 'done', 'refused, not claimed');
    assert.equal(s0.outcome?.status, 'failed');
    assert.equal(s0.outcome?.retryable, true, "the lease holder's retry policy queues the trial again from its own record");
    assert.equal(s0.outcome?.error.code, 'E_STUDY');
    assert.match(s0.outcome?.error.message ?? '', /queue\.json: the queued task of trial 0 is garbled \(invalid task: config/);
    // past every claim expiry, another worker finds nothing to do: the garbled task is not retried
    const again = await runCli(['study', 'worker', 'z', '--claim-ttl', '1s', '--idle-exit', '3s', '--json'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual([JSON.parse(again.stdout).reason, JSON.parse(again.stdout).toldHere], ['idle', 0]);
    assert.deepEqual((await evalsOf(log)).map(([, id]) => id), [1], 'only the valid task was evaluated');
    assert.equal((await refusedSlot()).state, 'done');
  }),
);

test('[file] the lease holder stopped once (SIGTERM) hands its running trial back after --grace-ms and exits; the trial stays pending, then is told once', { timeout: 240_000 }, () =>
  withOpenStorage('file', async (ts, s) => {
    const { log, gate, env } = await gatedStudy(ts, 'l');
    const lead = startCli(['optimize', 'l', '--fevals', '3', '-n', '1', '--claim-ttl', '10m', '--grace-ms', '1000', '--json'], { env });
    const leadPid = lead.child.pid as number;
    await within(120_000, 'the holder evaluates a trial', async () => (await evalsOf(log)).some(([pid]) => pid === leadPid));
    const trial = (await evalsOf(log)).find(([pid]) => pid === leadPid)?.[1] as number;
    lead.child.kill('SIGTERM'); // one signal: the grace period ends the trial
    await within(60_000, 'the trial is handed back when the grace ends', async () => !(await s.queue!.results('l')).claimed.some((c) => c.trialId === trial));
    // an inline evaluation keeps its process up until the objective returns: let it return (its result is dropped)
    await rm(gate);
    let exited = false;
    void lead.done.then(() => (exited = true));
    await within(90_000, 'the holder exits (its loop does not wait for the trial it handed back)', async () => exited);
    const r = await lead.done;
    assert.equal(r.code, 130, r.stderr);
    const mid = await journalOf(ts.url, 'l');
    assert.ok(!toldIds(mid).includes(trial), 'the handed-back trial is not a result');
    const fin = await runCli(['optimize', 'l', '--fevals', '3', '-n', '1', '--json'], { env });
    assert.equal(fin.code, 0, fin.stderr);
    const told = toldIds(await journalOf(ts.url, 'l'));
    assert.equal(told.length, 3);
    assert.equal(new Set(told).size, 3);
    assert.ok(told.includes(trial), 'the handed-back trial ran again and was told once');
  }),
);
