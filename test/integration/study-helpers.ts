/**
 * Helpers for the study integration tests (test/integration/study*.test.ts): a directory storage in
 * a temp dir and a Redis storage under a unique key prefix (both removed afterwards), fixture
 * objectives written into the temp dir, studies created through the CLI (one whose evaluations
 * wait behind a gate file), the objective's evaluation log, and journal inspection through the
 * storage API (the end of a hand-back: every trial told once, none by the stopped worker).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openStorage } from '../../src/study/storage-open.js';
import type { StoredEntry } from '../../src/study/journal-types.js';
import type { StudyStorage } from '../../src/study/storage.js';
import { after, before } from 'node:test';
import { cleanupPrefix, SHARED_REDIS_URL, uniquePrefix } from '../fixtures/cluster/redis.js';
import { writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/** The shared test Redis (the test run's own redis-server; see test/fixtures/cluster/redis.ts). */
export const REDIS = SHARED_REDIS_URL;

export interface TestStorage {
  kind: 'file' | 'redis';
  url: string;
  /** A scratch directory for fixtures, eval logs and trial directories. */
  dir: string;
  cleanup(): Promise<void>;
}

export async function makeStorage(kind: 'file' | 'redis'): Promise<TestStorage> {
  const dir = await mkdtemp(join(tmpdir(), `dehb-study-${kind}-`));
  await writeFixtures(dir);
  if (kind === 'file') {
    return { kind, url: join(dir, 'studies'), dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const prefix = `dehb-test-${randomUUID().slice(0, 8)}:`;
  return {
    kind,
    url: `${REDIS}?prefix=${prefix}`,
    dir,
    async cleanup() {
      const admin = new Redis(REDIS);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` on a fresh storage of `kind`, cleaned up afterwards (also when `body` fails). */
export async function withStorage(kind: 'file' | 'redis', body: (ts: TestStorage) => Promise<void>): Promise<void> {
  const ts = await makeStorage(kind);
  try {
    await body(ts);
  } finally {
    await ts.cleanup();
  }
}

/** Like withStorage, with the storage also opened for `body` (closed afterwards). */
export async function withOpenStorage(kind: 'file' | 'redis', body: (ts: TestStorage, s: StudyStorage) => Promise<void>): Promise<void> {
  await withStorage(kind, async (ts) => {
    const s = await openStorage(ts.url);
    try {
      await body(ts, s);
    } finally {
      await s.close();
    }
  });
}

export const SPACE = {
  x: { type: 'float', low: 0, high: 1 },
  act: { type: 'categorical', choices: ['relu', 'tanh'] },
};

/**
 * space.json; objective.mjs (fitness from x and act, reports one intermediate value, logs every
 * evaluation as "<pid> <trialId>" to $EVAL_LOG when set, waits while the file $EVAL_GATE exists,
 * sleeps $EVAL_SLEEP_MS); job.py (a command objective using the bundled Python helper).
 */
export async function writeFixtures(dir: string): Promise<void> {
  await writeFile(join(dir, 'space.json'), JSON.stringify(SPACE));
  await writeFile(
    join(dir, 'objective.mjs'),
    `import { appendFileSync, existsSync } from 'node:fs';
export async function objective(config, fidelity, ctx) {
  if (process.env.EVAL_LOG) appendFileSync(process.env.EVAL_LOG, process.pid + ' ' + ctx.trialId + '\\n');
  while (process.env.EVAL_GATE && existsSync(process.env.EVAL_GATE)) await new Promise((r) => setTimeout(r, 20));
  const ms = Number(process.env.EVAL_SLEEP_MS ?? 5);
  await new Promise((r) => setTimeout(r, ms));
  ctx.report(1, config.x);
  return { fitness: (config.x - 0.3) ** 2 + (config.act === 'relu' ? 0 : 0.1) + 1 / fidelity, cost: fidelity };
}
`,
  );
  await writeFile(
    join(dir, 'job.py'),
    `from dehb_objective import run

def train(config, fidelity, ctx):
    ctx.report(1, config["x"])
    return (config["x"] - 0.3) ** 2 + 1.0 / fidelity

run(train)
`,
  );
}

/** The evaluations objective.mjs logged to `log` ($EVAL_LOG), as [pid, trialId] pairs. */
export const evalsOf = async (log: string): Promise<Array<[number, number]>> =>
  (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter((l) => l !== '').map((l) => l.split(' ').map(Number) as [number, number]);

/** `dehb study create NAME` on space.json, fidelities 1..9, objective.mjs unless `objective`, seed 7 unless `seed`. */
export async function createStudyByCli(ts: TestStorage, name: string, env: NodeJS.ProcessEnv, opts: { objective?: string; seed?: number } = {}): Promise<void> {
  const c = await runCli(
    ['study', 'create', name, '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', opts.objective ?? join(ts.dir, 'objective.mjs'), '--seed', String(opts.seed ?? 7)],
    { env },
  );
  assert.equal(c.code, 0, c.stderr);
}

/** A study (seed 7 unless `seed`) whose evaluations wait while the file `gate` exists (it does at first); each logs "<pid> <trialId>" to `log`. */
export async function gatedStudy(ts: TestStorage, name: string, seed?: number): Promise<{ log: string; gate: string; env: NodeJS.ProcessEnv }> {
  const log = join(ts.dir, 'evals.log');
  const gate = join(ts.dir, 'gate');
  const env = { DEHB_STORAGE: ts.url, EVAL_LOG: log, EVAL_SLEEP_MS: '20', EVAL_GATE: gate };
  await createStudyByCli(ts, name, env, seed === undefined ? {} : { seed });
  await writeFile(gate, '');
  return { log, gate, env };
}

/**
 * The end of a hand-back test, once the stopped worker gave its running `trial` back: the gate
 * opened, the worker exits 130 and the lead 0; the study's journal then holds `told` results, none
 * twice, the handed-back trial among them, none told by the stopped worker (`workerId`).
 */
export async function assertHandedBackAndToldOnce(
  ts: TestStorage,
  study: string,
  h: { gate: string; worker: { done: Promise<CliResult> }; lead: { done: Promise<CliResult> }; workerId: string; trial: number; told: number },
): Promise<void> {
  await rm(h.gate);
  const rw = await h.worker.done;
  assert.equal(rw.code, 130, rw.stderr);
  const r = await h.lead.done;
  assert.equal(r.code, 0, r.stderr);
  const entries = await toldEachOnce(ts.url, study, h.told);
  assert.ok(toldIds(entries).includes(h.trial), 'the handed-back trial was run elsewhere and told');
  assert.ok(!entries.some((e) => e.type === 'told' && e.worker?.id === h.workerId), 'nothing of the stopped worker is a result');
}

export async function journalOf(url: string, study: string): Promise<StoredEntry[]> {
  const s = await openStorage(url);
  try {
    const j = await s.journal(study);
    try {
      return await j.read(1);
    } finally {
      await j.close();
    }
  } finally {
    await s.close();
  }
}

/** The study's journal entries, after checking that they hold exactly `n` results, none twice. */
export async function toldEachOnce(url: string, study: string, n: number): Promise<StoredEntry[]> {
  const entries = await journalOf(url, study);
  const told = toldIds(entries);
  assert.equal(told.length, n, 'exactly N results');
  assert.equal(new Set(told).size, n, 'no trial told twice');
  return entries;
}

export function toldIds(entries: readonly StoredEntry[]): number[] {
  return entries.filter((e) => e.type === 'told').map((e) => (e as { trialId: number }).trialId);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true (the test's own timeout bounds it). */
export async function until(fn: () => Promise<boolean>, everyMs = 100): Promise<void> {
  while (!(await fn())) await sleep(everyMs);
}

export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI entry (`main` of src/cli/main.ts) in this process with `env` overrides: the
 * same parsing, commands and exit-code mapping as a child process, without a process start per
 * command (multi-process tests spawn real children). The study commands' output goes through
 * studyCliIo; stderr written by main itself (error messages) is captured too. stdout is never
 * patched: node:test's child protocol uses it.
 */
export async function runMain(args: string[], env: Record<string, string> = {}): Promise<MainResult> {
  const { main } = await import('../../src/cli/main.js');
  const { studyCliIo } = await import('../../src/cli/commands/study-cli.js');
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const io = { ...studyCliIo };
  const ew = process.stderr.write.bind(process.stderr);
  studyCliIo.stdout = (t) => {
    stdout += t;
  };
  studyCliIo.stderr = (t) => {
    stderr += t;
  };
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'dehb', ...args]);
    return { code, stdout, stderr };
  } finally {
    Object.assign(studyCliIo, io);
    process.stderr.write = ew;
    process.exitCode = undefined;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A test file's Redis study bed: its own key prefix (storage and queue), a scheduler file for it and a 1-D space. */
export interface RedisStudyBed {
  readonly prefix: string;
  /** The storage URL (its prefix is the queue's). */
  readonly storage: string;
  readonly dir: string;
  readonly file: string;
  readonly space: string;
  /** Starts a CLI process, killed after the file's tests. */
  start(args: string[], env?: NodeJS.ProcessEnv): CliProc;
  /** Kills this process too after the file's tests. */
  track(p: CliProc): CliProc;
}

/** Registers before/after hooks that make the bed and remove it (processes killed, keys and files removed). */
export function redisStudyBed(tag: string, env: NodeJS.ProcessEnv = {}): RedisStudyBed {
  const prefix = uniquePrefix(tag);
  const procs: CliProc[] = [];
  const bed = {
    prefix,
    storage: `${SHARED_REDIS_URL}?prefix=${prefix}:`,
    dir: '',
    file: '',
    space: '',
    start(args: string[], extra: NodeJS.ProcessEnv = {}): CliProc {
      return bed.track(spawnCli(args, { env: { ...env, ...extra } }));
    },
    track(p: CliProc): CliProc {
      procs.push(p);
      return p;
    },
  };
  before(async () => {
    bed.dir = mkdtempSync(join(tmpdir(), `dehb-${tag}-`));
    bed.file = join(bed.dir, 'sched.json');
    bed.space = join(bed.dir, 'space.json');
    writeFileSync(bed.space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    await writeFileFor(bed.file, prefix);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await cleanupPrefix(prefix);
    rmSync(bed.dir, { recursive: true, force: true });
  });
  return bed;
}
