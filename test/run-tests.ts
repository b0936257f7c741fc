/**
 * The test command behind `npm test` and `npm run test:slurm`:
 *
 *   node --import tsx test/run-tests.ts [--slurm] [--concurrency N] [--timeout S] [--deadline S] [files...]
 *
 * Starts the run's own redis-server on a free port (never 6379) and hands it to the tests in
 * DEHB_TEST_REDIS_URL / DEHB_TEST_REDIS_PORT (test/fixtures/cluster/redis.ts reads them); runs
 * `node --test` on the files (those with a line `// dehb-test: serial` alone, after the others);
 * bounds every test and file (--timeout) and the whole run (--deadline); and always cleans up,
 * also on Ctrl-C: the process group, any process still carrying this run's DEHB_TEST_RUN mark,
 * and Redis. Without files it runs every *.test.ts under test/unit, test/conformance and
 * test/integration except slurm*.test.ts; --slurm runs only those, after setting up SLURM.
 * Prints node:test's output and closes with ONE `# tests / # pass / # fail` block for the whole
 * run; exits non-zero when a test failed or was cancelled, or when no test ran.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPrivateRedis, type PrivateRedis } from './fixtures/cluster/redis.js';
import { emptyTotals, killGroup, markedProcesses, runNodeTest, SUMMARY_KEYS } from './runner/node-test.js';
import { ensurePackages, ensureSlurm } from './runner/prerequisites.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// the slow folders first, so that no long file starts last and leaves the other slots idle
const FOLDERS = ['test/integration', 'test/conformance', 'test/unit'];
const log = (m: string): void => void process.stderr.write(`[run-tests] ${m}\n`);

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    slurm: { type: 'boolean', default: false },
    // one more file than cores: most files wait on processes, Redis and timers much of the time
    concurrency: { type: 'string', default: process.env.DEHB_TEST_CONCURRENCY ?? String(Math.min(8, availableParallelism() + 1)) },
    // node 20 applies --test-timeout to each test AND to each file as a whole: a file that its
    // open connections keep alive after its tests fails there instead of hanging the run
    timeout: { type: 'string', default: process.env.DEHB_TEST_TIMEOUT_S ?? '300' },
    deadline: { type: 'string', default: process.env.DEHB_TEST_DEADLINE_S ?? '1500' },
  },
});

function testFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(join(ROOT, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []))
    .sort();
}

function selectFiles(): string[] {
  if (positionals.length > 0) return positionals.map((f) => relative(ROOT, resolve(f)));
  return FOLDERS.flatMap(testFiles).filter((f) => /^slurm/.test(basename(f)) === opt.slurm);
}

const isSerial = (f: string): boolean => /^\/\/ dehb-test: serial\s*$/m.test(readFileSync(join(ROOT, f), 'utf8'));

const token = randomBytes(6).toString('hex');
let current: ChildProcess | null = null;
let redis: PrivateRedis | null = null;
let stopping = false;

async function cleanup(): Promise<void> {
  killGroup(current?.pid, 'SIGKILL');
  const left = markedProcesses(token);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  if (left.length > 0) {
    log(`killed ${left.length} process(es) the tests left running (a test must stop what it starts):`);
    for (const p of left.slice(0, 20)) log(`  ${p.pid} ${p.cmd.slice(0, 200)}`);
  }
  await redis?.stop().catch(() => undefined);
  redis = null;
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping the tests`);
    killGroup(current?.pid, 'SIGTERM');
    setTimeout(() => void cleanup().finally(() => process.exit(code)), 2_000);
  });
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const files = selectFiles();
  if (files.length === 0) {
    log('no test files found');
    return 1;
  }
  const problem = ensurePackages(log) ?? (opt.slurm ? ensureSlurm(ROOT, log) : null);
  if (problem !== null) {
    log(problem);
    return 1;
  }
  redis = await startPrivateRedis();
  log(`redis-server for this run on 127.0.0.1:${redis.port} (pid ${redis.proc.pid}, dir ${redis.dir})`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEHB_TEST_REDIS_URL: `redis://127.0.0.1:${redis.port}/0`,
    DEHB_TEST_REDIS_PORT: String(redis.port),
    DEHB_TEST_RUN: token,
  };
  delete env.NODE_TEST_CONTEXT;
  delete env.DEHB_TEST_REDIS;
  const totals = emptyTotals();
  const serial = files.filter(isSerial);
  let code = 0;
  for (const [group, concurrency] of [[files.filter((f) => !serial.includes(f)), Number(opt.concurrency)], [serial, 1]] as const) {
    if (group.length === 0 || stopping) continue;
    log(`${group.length} file(s), concurrency ${concurrency}`);
    const c = await runNodeTest({
      root: ROOT,
      files: group,
      concurrency,
      timeoutMs: Number(opt.timeout) * 1000,
      deadlineAt: t0 + Number(opt.deadline) * 1000,
      env,
      totals,
      log,
      started: (child) => (current = child),
    });
    if (c !== 0) code = 1;
  }
  await cleanup();
  current = null;
  if (stopping) return 1; // the signal handler exits with 128 + signal
  totals.duration_ms = Date.now() - t0; // the whole run's wall time, Redis start-up included
  process.stdout.write(`# run-tests: ${files.length} files in ${(totals.duration_ms / 1000).toFixed(1)} s\n`);
  for (const k of SUMMARY_KEYS) process.stdout.write(`# ${k} ${totals[k]}\n`);
  if (totals.tests === 0) {
    log('no test ran');
    return 1;
  }
  return code !== 0 || totals.fail > 0 || totals.cancelled > 0 ? 1 : 0;
}

main().then(
  (code) => {
    if (!stopping) process.exit(code);
  },
  async (err: unknown) => {
    log(err instanceof Error ? err.message : String(err));
    await cleanup();
    process.exit(1);
  },
);
