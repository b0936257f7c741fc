/**
 * Runs the four tutorial flows of docs/tutorials.md (Optuna, Hyperopt, SHADHO, Schedy) exactly as
 * written: each `## ` section's files (```lang file=NAME blocks) are written into an empty
 * directory and its ```sh blocks run there with bash -e, `dehb` being the real CLI
 * (node dist/cli/main.js, built by `npm test`). The Hyperopt section's Redis (127.0.0.1:6379) is
 * replaced by the test run's and its key prefix by a unique one, removed afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { cliEntry, ROOT } from '../helpers/cli.js';
import { REDIS } from './study-helpers.js';

interface Section {
  title: string;
  files: Array<{ name: string; text: string }>;
  script: string;
}

function sections(md: string): Section[] {
  return md
    .split(/^## /m)
    .slice(1)
    .map((chunk) => {
      const title = chunk.split('\n')[0] as string;
      const files: Section['files'] = [];
      const scripts: string[] = [];
      for (const m of chunk.matchAll(/^```(\w+)(?: file=(\S+))?\n([\s\S]*?)^```$/gm)) {
        if (m[2] !== undefined) files.push({ name: m[2], text: m[3] as string });
        else if (m[1] === 'sh') scripts.push(m[3] as string);
      }
      return { title, files, script: scripts.join('\n') };
    });
}

let bin: string;
let md: string;
const prefix = `dehb-test-tut-${randomUUID().slice(0, 8)}:`;

before(async () => {
  bin = await mkdtemp(join(tmpdir(), 'dehb-tut-bin-'));
  await writeFile(join(bin, 'dehb'), `#!/bin/sh\nexec "${process.execPath}" "${cliEntry()}" "$@"\n`);
  await chmod(join(bin, 'dehb'), 0o755);
  md = await readFile(join(ROOT, 'docs/tutorials.md'), 'utf8');
});

after(async () => {
  await rm(bin, { recursive: true, force: true });
  const admin = new Redis(REDIS);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

async function runSection(n: number): Promise<{ dir: string; stdout: string; stderr: string }> {
  const s = sections(md)[n - 1] as Section;
  assert.ok(s.script.includes('dehb '), `section ${n} has commands`);
  const dir = await mkdtemp(join(tmpdir(), 'dehb-tut-'));
  for (const f of s.files) {
    await mkdir(dirname(join(dir, f.name)), { recursive: true });
    await writeFile(join(dir, f.name), f.text);
  }
  const script = s.script.replaceAll('redis://127.0.0.1:6379/0', REDIS).replaceAll('prefix=hyperopt-demo:', `prefix=${prefix}`);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  delete env.DEHB_STORAGE;
  delete env.DEHB_TRIALS_DIR;
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `section "${s.title}" failed:\n${stderr}`);
  return { dir, stdout, stderr };
}

test('docs/tutorials.md has the four flows', () => {
  assert.deepEqual(
    sections(md).map((s) => s.title.split(':')[0]),
    ['1. Optuna', '2. Hyperopt', '3. SHADHO', '4. Schedy'],
  );
});

test('1. Optuna flow: a named study shared by two optimize processes', async () => {
  const { dir, stdout } = await runSection(1);
  try {
    const csv = (await readFile(join(dir, 'trials.csv'), 'utf8')).trim().split('\n');
    assert.equal(csv.length, 31, 'header + 30 trials (the pushed one included)');
    assert.match(stdout, /trials\s+30 \(queued 0, running 0, ok 30/);
    assert.match(stdout, /best\s+\S+ \(trial \d+, fidelity \d+\) \{"x":/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('2. Hyperopt flow: Redis storage, a pull worker, the same budget returns, a larger one extends', async () => {
  const { dir } = await runSection(2);
  try {
    const hp = JSON.parse(await readFile(join(dir, 'hp.json'), 'utf8'));
    assert.equal(hp.trials.length, 15);
    assert.ok(hp.trials.every((t: { status: string }) => t.status === 'ok'));
    assert.equal(new Set(hp.trials.map((t: { trialId: number }) => t.trialId)).size, 15);
    const admin = new Redis(REDIS);
    assert.deepEqual(await admin.keys(`${prefix}study:*`), [], 'deleted at the end');
    await admin.quit();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('3. SHADHO flow: command + input file shipped to workers that join by name', async () => {
  const { dir } = await runSection(3);
  try {
    const trials = JSON.parse(await readFile(join(dir, 'sin.json'), 'utf8')) as Array<{ status: string; fidelity: number; trialDir: string }>;
    assert.equal(trials.length, 20);
    assert.ok(trials.every((t) => t.status === 'ok' && t.fidelity === 9));
    assert.equal(await readFile(join(trials[0]!.trialDir, 'sin.py'), 'utf8'), sections(md)[2]!.files.find((f) => f.name === 'sin.py')!.text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('4. Schedy flow: manual experiment, push, worker, list, show', async () => {
  const { dir, stdout } = await runSection(4);
  try {
    assert.match(stdout, /^id\s+status\s+worker\s+fidelity\s+lr\s+act\s+fitness/m);
    assert.match(stdout, /^\s*0\s+ok\s+\S+\s+10\s+0\.1\s+relu\s+1\.1\b/m);
    assert.match(stdout, /^\s*1\s+ok\s+\S+\s+5\s+0\.01\s+tanh\s+0\.3\b/m);
    assert.match(stdout, /trial\s+1 of study "manual-exp"/);
    assert.match(stdout, /info\s+\{"epochs":5\}/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
