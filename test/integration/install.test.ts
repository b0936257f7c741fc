/**
 * The package installs like any npm CLI: `npm pack`, `npm install -g --prefix <tmp> <tarball>`,
 * then the installed `<prefix>/bin/dehb` (npm's symlink, the way `npm link` starts it too) answers
 * --version and --help and runs an optimization; `npx dehb` works in the checkout; importing the
 * entry module as a library starts nothing. Needs dist/ (the test command builds first). The
 * install takes its dependencies from the npm cache first (`--prefer-offline`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cliEntry, ROOT } from '../helpers/cli.js';

const exec = promisify(execFile);
const MAIN_JS = join(ROOT, 'dist', 'cli', 'main.js');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let bin = '';
let version = '';

before(async () => {
  assert.equal(cliEntry(), MAIN_JS); // throws with the build command when dist/ is missing or older than src/
  version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  dir = await mkdtemp(join(tmpdir(), 'dehb-install-'));
  const packed = await exec(NPM, ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, timeout: 60_000 });
  const tarball = join(dir, packed.stdout.trim().split('\n').at(-1) as string);
  const prefix = join(dir, 'prefix');
  await exec(NPM, ['install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    timeout: 120_000,
  });
  bin = join(prefix, 'bin', 'dehb');
}, { timeout: 200_000 });

after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

test('the installed bin prints its version and help', { timeout: 30_000 }, async () => {
  const v = await exec(bin, ['--version'], { timeout: 20_000 });
  assert.equal(v.stdout.trim(), version);
  const h = await exec(bin, ['--help'], { timeout: 20_000 });
  assert.match(h.stdout, /^Usage: dehb /m);
  for (const cmd of ['run', 'show', 'worker', 'study']) assert.match(h.stdout, new RegExp(`^  ${cmd}\\b`, 'm'));
});

test('the installed bin runs an optimization with its installed dependencies', { timeout: 60_000 }, async () => {
  const out = join(dir, 'run');
  const r = await exec(bin, ['run', '--config', join(ROOT, 'examples/quickstart/dehb.json'), '--fevals', '5', '--output', out, '--json'], {
    cwd: dir,
    timeout: 50_000,
  });
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { event: string; trials: Record<string, number> };
  assert.equal(summary.event, 'summary');
  assert.equal(summary.trials.ok, 5);
  assert.ok(existsSync(join(out, 'journal.jsonl')));
});

test('npx dehb --help works in the checkout', { timeout: 60_000 }, async () => {
  const r = await exec(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--offline', 'dehb', '--help'], { cwd: ROOT, timeout: 50_000 });
  assert.match(r.stdout, /^Usage: dehb /m);
});

test('a symlink named dehb to dist/cli/main.js starts the CLI (how npm link starts it)', { timeout: 30_000 }, async () => {
  const link = join(dir, 'linked', 'dehb');
  await mkdir(join(dir, 'linked'));
  await symlink(MAIN_JS, link);
  const v = await exec(link, ['--version'], { timeout: 20_000 });
  assert.equal(v.stdout.trim(), version);
});

test('importing the entry module as a library runs nothing', { timeout: 30_000 }, async () => {
  const code = `const m = await import(${JSON.stringify(new URL(`file://${MAIN_JS}`).href)}); console.log(typeof m.main);`;
  const r = await exec(process.execPath, ['--input-type=module', '-e', code], { cwd: dir, timeout: 20_000 });
  assert.equal(r.stdout, 'function\n');
  assert.equal(r.stderr, '');
});
