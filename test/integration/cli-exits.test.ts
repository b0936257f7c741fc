/**
 * `dehb run` / `dehb show` exit codes and messages tell the truth (issue 8 §5): a run whose every
 * trial failed exits 1 and says why; a refused set-up exits 2 in the words of the flags and
 * leaves no run directory behind, so the corrected command needs no --resume; `show --status`
 * takes only real statuses; `show | head` prints no EPIPE stack; a resumed GPU run keeps pinning;
 * a run whose trial ignores its cancellation still exits (130) once it is stopped.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEntry, ROOT, runCli } from '../helpers/cli.js';
import { ensureExecutable, FAKE_SMI_ROOT } from '../fixtures/fake-nvidia-smi/helpers.js';

const SPACE = join(ROOT, 'test/fixtures/lead/space.json');
const QUADRATIC = join(ROOT, 'test/fixtures/lead/quadratic.mjs');
const CUDA_ECHO = join(ROOT, 'test/fixtures/install/cuda-echo.mjs');
const STUCK = join(ROOT, 'test/fixtures/lead/stuck-objective.mjs');
const common = ['--space', SPACE, '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '3', '--quiet'];
/** PATH with the fake two-GPU nvidia-smi first; PATH with no nvidia-smi at all (an inherited CUDA_VISIBLE_DEVICES is removed). */
const TWO_GPUS: NodeJS.ProcessEnv = { PATH: `${join(FAKE_SMI_ROOT, 'two-gpus')}:${process.env.PATH ?? ''}`, CUDA_VISIBLE_DEVICES: undefined };
const NO_GPUS: NodeJS.ProcessEnv = { PATH: FAKE_SMI_ROOT, CUDA_VISIBLE_DEVICES: undefined };
let dir = '';

before(async () => {
  ensureExecutable();
  dir = await mkdtemp(join(tmpdir(), 'dehb-exits-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface HistoryRow {
  trialId: number;
  status: string;
  info: Record<string, unknown>;
}

async function history(out: string): Promise<HistoryRow[]> {
  const r = await runCli(['show', out, '--format', 'json']); // the full records, derived from the journal
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { trials: HistoryRow[] }).trials;
}

test('a run in which every trial failed exits 1 after writing everything, and says why', { timeout: 60_000 }, async () => {
  const out = join(dir, 'all-failed');
  const r = await runCli(['run', ...common, '--command', 'false {fidelity}', '--fevals', '5', '--output', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /all 5 trials failed: E_OBJECTIVE objective command exited with code 1 \(first error, trial \d+/);
  const rows = await history(out);
  assert.equal(rows.length, 5);
  assert.ok(rows.every((t) => t.status === 'failed'));
  assert.ok(existsSync(join(out, 'history.csv')));

  const json = await runCli(['run', ...common, '--command', 'false', '--fevals', '3', '--output', join(dir, 'all-failed-json'), '--json']);
  assert.equal(json.code, 1, json.stderr);
  const summary = JSON.parse(json.stdout.trim().split('\n').at(-1) as string) as { event: string; error?: string };
  assert.equal(summary.event, 'summary');
  assert.match(summary.error ?? '', /^all 3 trials failed: E_OBJECTIVE/);

  // one success is enough for exit 0
  const ok = await runCli(['run', ...common, '--objective', QUADRATIC, '--fevals', '3', '--output', join(dir, 'some-ok')]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a refused set-up exits 2 in flag words and leaves no run directory; the corrected command runs without --resume', { timeout: 120_000 }, async () => {
  const cmd = ['--command', `${process.execPath} ${CUDA_ECHO}`];
  const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; re: RegExp }> = [
    { args: [...cmd], re: /^dehb: missing budget: --fevals N, --brackets N or --runtime 10m$/m },
    { args: [...cmd, '--fevals', '2.5'], re: /^dehb: --fevals must be a whole number >= 1 \(got 2\.5\)$/m },
    { args: [...cmd, '--fevals', '0'], re: /^dehb: --fevals must be a whole number >= 1 \(got 0\)$/m },
    { args: [...cmd, '--fevals', '3', '--n-workers', '-2'], re: /^dehb: --n-workers must be a whole number >= 1 \(got -2\)$/m },
    { args: [...cmd, '--fevals', '3', '--mutation-factor', '5'], re: /^dehb: --mutation-factor must be in \(0, 2\]/m },
    { args: [...cmd, '--fevals', '3', '--single-node-with-gpus'], env: NO_GPUS, re: /^dehb: no GPUs found: .*drop --single-node-with-gpus/m },
    {
      args: [...cmd, '--fevals', '3', '--single-node-with-gpus', '--gpus-per-trial', '3'],
      env: TWO_GPUS,
      re: /^dehb: a trial needs 3 GPUs but the pool has only 2 \(0, 1\): lower --gpus-per-trial/m,
    },
    { args: ['--command', `${process.execPath} ${CUDA_ECHO} {epochs}`, '--fevals', '3'], re: /^dehb: --command: unknown placeholder \{epochs\} in "\{epochs\}"; the parameters are \{x\}, \{k\}/m },
    // checked before the scheduler file is waited for (there is none here)
    ...['0', '257', 'lots'].map((k) => ({
      args: [...cmd, '--fevals', '3', '--cluster', '--scheduler-file', join(dir, 'no-sched.json'), '--trials-per-job', k],
      re: /^dehb: --trials-per-job must be "auto" or an integer from 1 to 256 \(got "?\w+"?\); 1 sends one job per trial$/m,
    })),
  ];
  const out = join(dir, 'setup');
  for (const c of cases) {
    const r = await runCli(['run', ...common, ...c.args, '--output', out], { env: c.env ?? {} });
    assert.equal(r.code, 2, `${c.args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, c.re);
    assert.doesNotMatch(r.stderr, /\n\s+at |minFidelity|gpusPerTrial|mutationFactor|budget\./, 'flag names, no stack');
    assert.equal(existsSync(out), false, `${c.args.join(' ')} left ${out} behind`);
  }
  const fixed = await runCli(['run', ...common, ...cmd, '--fevals', '3', '--output', out]);
  assert.equal(fixed.code, 0, fixed.stderr);
});

test('dehb show --status refuses an unknown status and lists the valid ones', { timeout: 30_000 }, async () => {
  const out = join(dir, 'show');
  assert.equal((await runCli(['run', ...common, '--objective', QUADRATIC, '--fevals', '4', '--output', out])).code, 0);
  const bogus = await runCli(['show', out, '--status', 'bogus']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /'bogus' is invalid\. Allowed choices are queued, running, ok, failed, timed-out, cancelled/);
  const ok = await runCli(['show', out, '--status', 'ok', '--format', 'csv']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').length, 5); // header + 4 trials
});

test('dehb show piped into head prints no EPIPE stack', { timeout: 90_000 }, async () => {
  const out = join(dir, 'big');
  // enough trials that the JSON (well over a pipe buffer) cannot be written before head exits
  assert.equal((await runCli(['run', ...common, '--objective', QUADRATIC, '--fevals', '300', '--n-workers', '2', '--output', out])).code, 0);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const line = `${q(process.execPath)} ${q(cliEntry())} show ${q(out)} --format json | head -c 20; exit "\${PIPESTATUS:-0}"`;
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', line], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(r.stdout.length, 20);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
});

test('dehb run --json piped into head stops the run as Ctrl-C does: results journaled, lock released, exit 130, resumable', { timeout: 120_000 }, async () => {
  const out = join(dir, 'piped');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  // a budget far beyond what runs before head exits: only the closed pipe can end this run early
  const args = [...common.filter((a) => a !== '--quiet'), '--objective', QUADRATIC, '--fevals', '1000000', '--output', out, '--json'].map(q).join(' ');
  const line = `${q(process.execPath)} ${q(cliEntry())} run ${args} | head -n 3 >/dev/null; exit "\${PIPESTATUS[0]}"`;
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', line], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /stdout was closed by its reader; stopping as on Ctrl-C/);
  assert.match(r.stderr, /continue with: dehb run --resume --output/);
  assert.doesNotMatch(r.stderr, /EPIPE|at .*\.js:\d+/);
  assert.equal(existsSync(join(out, 'journal.jsonl.writer')), false, 'the writer lock is released');
  const show = await runCli(['show', out, '--format', 'json']);
  assert.equal(show.code, 0, show.stderr);
  const trials = (JSON.parse(show.stdout) as { trials: Array<{ status: string }> }).trials;
  assert.ok(trials.length >= 3 && trials.length < 1_000_000);
  assert.deepEqual([...new Set(trials.map((t) => t.status))], ['ok'], 'every trial asked was finished and journaled');
  const resumed = await runCli(['run', '--resume', '--output', out, '--fevals', String(trials.length + 5), '--quiet']);
  assert.equal(resumed.code, 0, resumed.stderr);
});

test('Ctrl-C twice on a run whose trial never returns and ignores cancellation: it exits 130, the trial stays pending for a resume', { timeout: 120_000 }, async () => {
  const out = join(dir, 'stuck');
  const log = join(dir, 'stuck.log');
  for (const workers of ['1', '2']) { // -n 1: inline, on the run's event loop; -n 2: in threads
    await rm(out, { recursive: true, force: true });
    await rm(log, { force: true });
    const child = spawn(process.execPath, [cliEntry(), 'run', ...common, '--objective', STUCK, '--fevals', '3', '-n', workers, '--output', out], {
      cwd: ROOT,
      env: { ...process.env, STUCK_LOG: log },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    while (!existsSync(log)) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT'); // the second one kills running trials: this one cannot be killed, only left
    // the test's own timeout is the failure: a process that its trial keeps alive never closes
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /continue with: dehb run --resume --output/);
    assert.equal(existsSync(join(out, 'journal.jsonl.writer')), false, 'the writer lock is released');
    const trials = await history(out);
    assert.ok(trials.every((t) => t.status !== 'ok'), 'nothing of the stuck trial is a result');
  }
});

test('a resumed GPU run keeps its pinning: resumed trials get CUDA_VISIBLE_DEVICES', { timeout: 60_000 }, async () => {
  const out = join(dir, 'gpu-resume');
  const cmd = ['--command', `${process.execPath} ${CUDA_ECHO}`];
  const first = await runCli(['run', ...common, ...cmd, '--fevals', '3', '--single-node-with-gpus', '--output', out], { env: TWO_GPUS });
  assert.equal(first.code, 0, first.stderr);
  const resumed = await runCli(['run', '--resume', '--output', out, '--fevals', '6', '--quiet'], { env: TWO_GPUS });
  assert.equal(resumed.code, 0, resumed.stderr);
  const rows = await history(out);
  assert.equal(rows.length, 6);
  for (const t of rows) assert.ok(t.info.cuda === '0' || t.info.cuda === '1', `trial ${t.trialId} ran with CUDA_VISIBLE_DEVICES=${String(t.info.cuda)}`);
  // a flag overrides what the journal recorded
  const unpinned = await runCli(['run', '--resume', '--output', out, '--fevals', '8', '--no-single-node-with-gpus', '--quiet'], { env: TWO_GPUS });
  assert.equal(unpinned.code, 0, unpinned.stderr);
  const later = (await history(out)).filter((t) => t.trialId >= 6);
  assert.equal(later.length, 2);
  for (const t of later) assert.equal(t.info.cuda, null, `trial ${t.trialId} is not pinned`);
});

test('dehb study create: random and manual studies need no fidelity range, dehb ones do', { timeout: 60_000 }, async () => {
  const storage = join(dir, 'studies');
  const base = ['study', 'create', '--space', SPACE, '--command', 'true', '--storage', storage];
  const random = await runCli([...base.slice(0, 2), 'r', ...base.slice(2), '--kind', 'random']);
  assert.equal(random.code, 0, random.stderr);
  assert.match(random.stderr, /kind random, seed \d+, fidelity 1\.\.1/);
  const dehb = await runCli([...base.slice(0, 2), 'd', ...base.slice(2)]);
  assert.equal(dehb.code, 2);
  assert.match(dehb.stderr, /missing fidelity range: --min-fidelity N --max-fidelity M/);
});

test('dehb optimize exits 1 when every trial of the study failed, and says why', { timeout: 90_000 }, async () => {
  const storage = join(dir, 'failing-studies');
  const created = await runCli(['study', 'create', 'f', '--space', SPACE, '--min-fidelity', '1', '--max-fidelity', '9', '--command', 'false', '--storage', storage]);
  assert.equal(created.code, 0, created.stderr);
  const r = await runCli(['optimize', 'f', '--fevals', '3', '--storage', storage, '--quiet']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /all 3 trials failed: E_OBJECTIVE objective command exited with code 1 \(first error, trial \d+; see dehb trials f --status failed\)/);
});
