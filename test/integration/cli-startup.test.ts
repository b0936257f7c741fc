/**
 * Lazy CLI: `dehb --help`, `--version` and each command's `--help` load no backend package
 * (bullmq, ioredis, piscina, zod, cli-progress, pino, systeminformation); a command that runs loads
 * what it needs. A module-resolution hook (registered with --import) logs every URL the process
 * resolves, and a preload (--require) logs the CommonJS modules it required (createRequire loads
 * piscina and cli-progress only when a pool or a bar is made); the test reads the log. CPU cost is measured by `npm run bench:startup`, not here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MAIN, ROOT } from '../helpers/cli.js';

const BACKENDS = ['bullmq', 'ioredis', 'piscina', 'zod', 'cli-progress', 'pino', 'systeminformation'];
let dir = '';
let register = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dehb-cli-startup-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    "import { appendFileSync } from 'node:fs';\n" +
      'export async function resolve(specifier, context, next) {\n' +
      '  const r = await next(specifier, context);\n' +
      '  if (process.env.DEHB_LOAD_LOG) appendFileSync(process.env.DEHB_LOAD_LOG, `${r.url}\\n`);\n' +
      '  return r;\n' +
      '}\n',
  );
  writeFileSync(
    join(dir, 'cjs-log.cjs'),
    "process.on('exit', () => { if (process.env.DEHB_LOAD_LOG) require('node:fs').appendFileSync(process.env.DEHB_LOAD_LOG, Object.keys(require.cache).join('\\n') + '\\n'); });\n",
  );
  register = join(dir, 'register.mjs');
  writeFileSync(register, "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Runs the CLI and returns the node_modules packages it resolved (and its exit code). */
function packagesLoaded(args: string[]): Promise<{ code: number; packages: Set<string>; out: string }> {
  return packagesLoadedBy([MAIN, ...args]);
}

/** Runs node with `argv` (a script and its arguments) under the load log. */
function packagesLoadedBy(argv: string[]): Promise<{ code: number; packages: Set<string>; out: string }> {
  const log = join(dir, `load-${n++}.log`);
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--require', join(dir, 'cjs-log.cjs'), '--import', pathToFileURL(register).href, '--import', 'tsx', ...argv],
      { cwd: ROOT, env: { ...process.env, DEHB_LOAD_LOG: log }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : [];
        const packages = new Set(urls.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => p !== undefined));
        done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, packages, out: `${stdout}${stderr}` });
      },
    );
  });
}

for (const args of [['--help'], ['--version'], ['run', '--help'], ['worker', '--help'], ['scheduler', 'check', '--help'], ['study', '--help'], ['show', '--help']]) {
  test(`dehb ${args.join(' ')} loads no backend package`, async () => {
    const r = await packagesLoaded(args);
    assert.equal(r.code, 0, r.out);
    assert.ok(r.packages.has('commander'), `the hook saw no package at all: ${[...r.packages].join(', ')}`);
    const loaded = BACKENDS.filter((p) => r.packages.has(p));
    assert.deepEqual(loaded, [], `dehb ${args.join(' ')} loaded ${loaded.join(', ')}`);
  });
}

test('importing the package entry loads no backend package; createClusterClient loads the cluster backend when called', async () => {
  const script = join(dir, 'import-entry.mjs');
  writeFileSync(
    script,
    `const dehb = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)});\n` +
      "if (typeof dehb.DEHB !== 'function' || typeof dehb.createClusterClient !== 'function') throw new Error('the entry lacks DEHB or createClusterClient');\n" +
      'if (process.argv[2] === "client") await dehb.createClusterClient(process.argv[3]).then(() => { throw new Error("a missing scheduler file was accepted"); }, (err) => { if (err.code !== "E_SCHEDULER_FILE") throw err; });\n',
  );
  const entry = await packagesLoadedBy([script]);
  assert.equal(entry.code, 0, entry.out);
  assert.ok(entry.packages.has('fastest-levenshtein'), `the hook saw the entry's own packages: ${[...entry.packages].join(', ')}`);
  const loaded = BACKENDS.filter((p) => entry.packages.has(p));
  assert.deepEqual(loaded, [], `import('dehb') loaded ${loaded.join(', ')}`);
  const client = await packagesLoadedBy([script, 'client', join(dir, 'no-such-scheduler.json')]);
  assert.equal(client.code, 0, client.out);
  for (const p of ['bullmq', 'ioredis']) assert.ok(client.packages.has(p), `createClusterClient did not load ${p}: ${[...client.packages].join(', ')}`);
});

test('a command that runs loads its backends (the hook sees them)', async () => {
  const file = join(dir, 'bad-scheduler.json');
  writeFileSync(file, JSON.stringify({ version: 1, redisUrl: 'http://nowhere', prefix: 'dehb', queue: 'evals' }));
  const r = await packagesLoaded(['scheduler', 'check', '--scheduler-file', file, '--timeout', '1000']);
  assert.match(r.out, /redisUrl/, 'the file was validated (zod named the field)');
  assert.notEqual(r.code, 0, r.out);
  for (const p of ['ioredis', 'bullmq', 'zod']) assert.ok(r.packages.has(p), `scheduler check did not load ${p}: ${[...r.packages].join(', ')}`);
});

test('dehb run loads piscina only for a thread pool, cli-progress only for a bar, zod only to read what it did not write', async () => {
  const space = join(dir, 'space.json');
  writeFileSync(space, JSON.stringify({ x: { type: 'float', low: 0, high: 1 } }));
  const run = (n: string, out: string, more: string[] = []): Promise<{ code: number; packages: Set<string>; out: string }> =>
    packagesLoaded(['run', '--space', space, '--objective', join(ROOT, 'bench/fixtures/noop-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '3', '--fevals', '3', '-n', n, '-q', '--output', join(dir, out), ...more]);
  const one = await run('1', 'one');
  assert.equal(one.code, 0, one.out);
  assert.ok(one.packages.has('commander'), `the logs saw the run's packages: ${[...one.packages].join(', ')}`);
  assert.deepEqual(['piscina', 'cli-progress', 'zod'].filter((p) => one.packages.has(p)), [], '-n 1 -q evaluates inline, shows no bar and parses nothing it did not write');
  const resumed = await packagesLoaded(['run', '--resume', '--fevals', '6', '-q', '--output', join(dir, 'one')]);
  assert.equal(resumed.code, 0, resumed.out);
  assert.ok(resumed.packages.has('zod'), `--resume validates the journal it reads: ${[...resumed.packages].join(', ')}`);
  const named = await run('1', 'named', ['--run-id', 'bad id']);
  assert.notEqual(named.code, 0, named.out);
  assert.match(named.out, /--run-id must be letters, digits/, 'a bad --run-id is worded by the schema (zod loaded for it)');
  const two = await run('2', 'two');
  assert.equal(two.code, 0, two.out);
  assert.ok(two.packages.has('piscina'), `-n 2 runs the module in a thread pool: ${[...two.packages].join(', ')}`);
});
