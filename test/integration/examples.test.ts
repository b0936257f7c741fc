/**
 * Every example in examples/ runs here with a small budget. The library examples import the
 * package by name (`dehb`, resolved to the built dist/ through package.json exports), so the test
 * command builds first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, runCli } from '../helpers/cli.js';

const run = promisify(execFile);

test('examples/library/optimize.mjs: threads, journal, resume', async () => {
  const { stdout } = await run(process.execPath, ['examples/library/optimize.mjs', '40'], { cwd: ROOT });
  const last = JSON.parse(stdout.trim().split('\n').at(-1) as string);
  assert.equal(last.trials, 40);
  assert.ok(last.incumbent.fitness < 2.5);
  const journal = (await readFile(join(last.outputDir, 'journal.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(journal.filter((l) => JSON.parse(l).type === 'told').length, 40);
  await rm(last.outputDir, { recursive: true, force: true });
});

test('examples/library/ask-tell.mjs: batches of asks and tells', async () => {
  const { stdout } = await run(process.execPath, ['examples/library/ask-tell.mjs', '5'], { cwd: ROOT });
  const out = JSON.parse(stdout.trim());
  assert.equal(out.trials, 20);
  assert.equal(typeof out.incumbent, 'number');
});

test('examples/quickstart and examples/python-command through the CLI', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-ex-'));
  try {
    const q = await runCli(['run', '--config', 'examples/quickstart/dehb.json', '--fevals', '30', '--output', join(dir, 'q'), '--quiet']);
    assert.equal(q.code, 0, q.stderr);
    const p = await runCli(['run', '--config', 'examples/python-command/dehb.json', '--output', join(dir, 'p'), '--json']);
    assert.equal(p.code, 0, p.stderr);
    const trials = p.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event === 'trial');
    assert.equal(trials.length, 30);
    assert.ok(trials.every((t) => t.status === 'ok'), JSON.stringify(trials.find((t) => t.status !== 'ok')));
    assert.ok(trials.every((t) => t.reports.length === Math.max(1, Math.round(t.fidelity))), 'per-epoch reports arrive');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
