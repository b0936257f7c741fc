import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliEntry, ROOT, runCli, startCli } from '../helpers/cli.js';

const execFileP = promisify(execFile);

const FIX = join(ROOT, 'test/fixtures/lead');
const SPACE = join(FIX, 'space.json');
const common = ['--space', SPACE, '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '3'];

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'dehb-cli-'));
}

test('dehb run on the quickstart config, then dehb show in every format', async () => {
  const dir = await tmp();
  try {
    const out = join(dir, 'run');
    const r = await runCli(['run', '--config', 'examples/quickstart/dehb.json', '--fevals', '40', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /incumbent: fitness/);
    assert.equal(r.stderr.match(/^trial \d+ ok/gm)?.length, 40, 'one log line per finished trial off a terminal');
    const csv = (await readFile(join(out, 'history.csv'), 'utf8')).trim().split('\n');
    assert.equal(csv.length, 41);
    const show = await runCli(['show', out, '--format', 'json']);
    assert.equal(show.code, 0, show.stderr);
    const j = JSON.parse(show.stdout);
    assert.equal(j.trials.length, 40);
    assert.equal(j.incumbent.fitness, Math.min(...j.trials.map((t: { fitness: number }) => t.fitness)));
    // a fast trial's started entry is folded into its told entry: every record still says when it started
    const unstarted = j.trials.filter((t: { askedAt: number; startedAt: number | null; finishedAt: number }) => t.startedAt === null || t.startedAt < t.askedAt || t.startedAt > t.finishedAt);
    assert.deepEqual(unstarted, [], 'every trial has a start time between its ask and its end');
    const table = await runCli(['show', out]);
    assert.match(table.stdout, /incumbent: fitness/);
    assert.match(table.stdout, /40 results, 0 pending, finished \(budget\)/);
    assert.match(table.stdout, /trial\s+status\s+fitness/);
    assert.match(table.stdout, /\(20 of 40 trials, by fitness; --all or --limit N for more/, 'the table shows the best 20');
    const rowsOf = (out: string): number[] =>
      out.split('\n').filter((l) => /^\s*\d+\s+ok\s/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    const best = rowsOf(table.stdout).map((id) => j.trials.find((t: { trialId: number }) => t.trialId === id).fitness);
    assert.deepEqual(best, [...j.trials.map((t: { fitness: number }) => t.fitness)].sort((a, b) => a - b).slice(0, 20));
    assert.equal(rowsOf((await runCli(['show', out, '--all'])).stdout).length, 40);
    assert.deepEqual(rowsOf((await runCli(['show', out, '--limit', '5', '--sort', 'id'])).stdout), [0, 1, 2, 3, 4]);
    assert.deepEqual(rowsOf((await runCli(['show', out, '--limit', '2', '--sort', 'time'])).stdout).length, 2);
    const bad = await runCli(['show', out, '--sort', 'speed']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--sort must be fitness, time or id/);
    const c = await runCli(['show', out, '--format', 'csv']);
    assert.equal(c.stdout.trim().split('\n').length, 41);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--json prints one JSON line per trial and a final summary on stdout', async () => {
  const dir = await tmp();
  try {
    const r = await runCli(['run', ...common, '--objective', join(FIX, 'quadratic.mjs'), '--fevals', '12', '--json', '--output', join(dir, 'r')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.event === 'trial').length, 12);
    assert.equal(lines.at(-1).event, 'summary');
    assert.equal(lines.at(-1).trials.ok, 12);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('command objectives keep each trial\'s stdout and stderr in the run directory', async () => {
  const dir = await tmp();
  try {
    const out = join(dir, 'r');
    const r = await runCli(['run', ...common, '--command', `node ${join(FIX, 'echo-command.mjs')} {fidelity}`, '--fevals', '6', '-n', '2', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    const trials = await readdir(join(out, 'trials'));
    assert.equal(trials.length, 6);
    const log = await readFile(join(out, 'trials', '0', 'stdout.log'), 'utf8');
    assert.match(log, /training trial 0 for/);
    assert.match(await readFile(join(out, 'trials', '0', 'stderr.log'), 'utf8'), /some warning/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input exits 2 with one clear line before any trial runs', async () => {
  const dir = await tmp();
  try {
    const badSpace = join(dir, 'bad.json');
    await writeFile(badSpace, JSON.stringify({ lr: { type: 'float', low: 1, high: 0.1 } }));
    const cases: Array<[string[], RegExp]> = [
      [['run', '--space', join(dir, 'missing.json'), '--objective', join(FIX, 'quadratic.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '5'], /file not found/],
      [['run', '--space', badSpace, '--objective', join(FIX, 'quadratic.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--fevals', '5'], /lr/],
      [['run', '--no-such-flag'], /unknown option/],
      // an unquoted --command: the shell split it, its flags reach dehb; the hint quotes it up to dehb's next option
      [['run', ...common, '--command', 'python3', 'train.py', '--lr', '{lr}', '--fevals', '5'], /unknown option '--lr'\nhint: --command takes the whole command as one argument; quote it: --command "python3 train.py --lr \{lr\}"\n$/],
      [['run', ...common, '--objective', join(FIX, 'no-export.mjs'), '--fevals', '5'], /objective/],
      [['run', ...common, '--command', 'definitely-not-a-command-xyz {fidelity}', '--fevals', '5'], /definitely-not-a-command-xyz/],
      [['run', ...common, '--objective', join(FIX, 'quadratic.mjs')], /budget/],
      [['run', ...common, '--objective', join(FIX, 'quadratic.mjs'), '--fevals', '5', '--eta', '1'], /eta must be > 1/],
      [['run', ...common, '--objective', join(FIX, 'quadratic.mjs'), '--runtime', 'soon'], /--runtime must be a duration/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli([...args, '--output', join(dir, 'never')]);
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    await assert.rejects(readdir(join(dir, 'never', 'trials')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Ctrl-C stops asking, lets running trials finish, exits 130; --resume completes without repeating trials', async () => {
  const dir = await tmp();
  try {
    const out = join(dir, 'r');
    const log = join(dir, 'ran.log');
    const env = { DEHB_TEST_SLEEP_MS: '150', DEHB_TEST_LOG: log };
    const args = ['run', ...common, '--objective', join(FIX, 'slow-objective.mjs'), '--fevals', '30', '-n', '2', '--output', out];
    const { child, done } = startCli(args, { env });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if ((stderr.match(/^trial \d+ ok/gm)?.length ?? 0) >= 4 && !child.killed) child.kill('SIGINT');
    });
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /dehb run --resume --output/);
    const first = (await readFile(log, 'utf8')).trim().split('\n');
    assert.ok(first.length >= 4 && first.length < 30);
    const show1 = JSON.parse((await runCli(['show', out, '--format', 'json'])).stdout);
    assert.equal(show1.trials.filter((t: { status: string }) => t.status === 'ok').length, first.length, 'every finished trial is in the journal');

    const resumed = await runCli(['run', '--resume', '--output', out], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    const ran = (await readFile(log, 'utf8')).trim().split('\n');
    assert.equal(ran.length, 30, 'each trial evaluated exactly once across both runs');
    assert.equal(new Set(ran).size, 30);
    const show2 = JSON.parse((await runCli(['show', out, '--format', 'json'])).stdout);
    assert.equal(show2.trials.length, 30);
    assert.equal(show2.trials.filter((t: { status: string }) => t.status === 'ok').length, 30);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second Ctrl-C kills running trials at once; they stay pending and --resume re-runs them', async () => {
  const dir = await tmp();
  try {
    const out = join(dir, 'r');
    const log = join(dir, 'done.log');
    const startLog = join(dir, 'start.log');
    const env = { DEHB_TEST_SLEEP_MS: '20000', DEHB_TEST_LOG: log, DEHB_TEST_START_LOG: startLog };
    const args = ['run', ...common, '--objective', join(FIX, 'slow-objective.mjs'), '--fevals', '6', '-n', '2', '--output', out];
    const { child, done } = startCli(args, { env });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitUntil(async () => (await readFile(startLog, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length >= 2);
    child.kill('SIGINT');
    // the second Ctrl-C once the first one is handled (two signals sent at once may merge into one)
    await waitUntil(async () => /stopping: no new trials/.test(stderr));
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(await readFile(log, 'utf8').catch(() => ''), '', 'did not wait for the 20 s trials: none ran to its end');
    assert.match(r.stderr, /killing running trials/);
    const show = JSON.parse((await runCli(['show', out, '--format', 'json'])).stdout);
    assert.equal(show.trials.length, 2, 'the two killed trials are in the journal, unfinished');
    assert.equal(show.trials.filter((t: { status: string }) => t.status === 'ok').length, 0, 'no result recorded for a killed trial');

    const resumed = await runCli(['run', '--resume', '--output', out, '-n', '2'], { env: { ...env, DEHB_TEST_SLEEP_MS: '50' } });
    assert.equal(resumed.code, 0, resumed.stderr);
    const ran = (await readFile(log, 'utf8')).trim().split('\n');
    assert.deepEqual([...ran].map(Number).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], 'each trial finished exactly once, the killed ones after the resume');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('on a terminal dehb run shows a live progress bar', async () => {
  const dir = await tmp();
  try {
    const cmd = [process.execPath, cliEntry(), 'run', ...common, '--objective', join(FIX, 'quadratic.mjs'), '--fevals', '15', '--output', join(dir, 'r')]
      .map((a) => `'${a}'`)
      .join(' ');
    // `script` runs the command on a pseudo-terminal, as a user's shell would
    const { stdout } = await execFileP('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, env: { ...process.env, COLUMNS: '160' } });
    assert.match(stdout, /15\/15 trials \| in flight \d+ \| best [-\d.e]+ \| [\d.]+\/s \| ETA/);
    assert.doesNotMatch(stdout, /^trial \d+ ok/m, 'no per-trial log lines on a terminal');
    assert.match(stdout, /incumbent: fitness/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function waitUntil(pred: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
