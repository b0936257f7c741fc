/**
 * One `node --test` over a set of files, as the leader of its own process group: its output is
 * passed through except node:test's closing summary block, whose counts are added to `totals`
 * (so the runner prints one block for the whole run); past the deadline the group is killed.
 * Also finds the processes a run left behind (by the DEHB_TEST_RUN mark in their environment).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SUMMARY = /^(?:# |ℹ )(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) (\d+(?:\.\d+)?)$/;
export const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo', 'duration_ms'] as const;
export type Totals = Record<(typeof SUMMARY_KEYS)[number], number>;

export function emptyTotals(): Totals {
  return Object.fromEntries(SUMMARY_KEYS.map((k) => [k, 0])) as Totals;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

export interface PhaseOptions {
  root: string;
  files: string[];
  concurrency: number;
  timeoutMs: number;
  deadlineAt: number;
  env: NodeJS.ProcessEnv;
  totals: Totals;
  log: (m: string) => void;
  /** Called with the child as soon as it runs (for signal forwarding). */
  started: (child: ChildProcess) => void;
}

/** Resolves the exit code of `node --test` (1 when it passed the deadline). */
export function runNodeTest(o: PhaseOptions): Promise<number> {
  const reporter = process.stdout.isTTY ? '--test-reporter=spec' : '--test-reporter=tap';
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${o.concurrency}`, `--test-timeout=${o.timeoutMs}`, reporter, ...o.files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: o.root, env: o.env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    o.started(child);
    let late = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = SUMMARY.exec(line);
      if (m !== null) o.totals[m[1] as keyof Totals] += Number(m[2]);
      else process.stdout.write(`${line}\n`);
    });
    const timer = setTimeout(() => {
      late = true;
      o.log('the run passed its deadline (--deadline); still running:');
      const ps = spawnSync('ps', ['-o', 'pid,etimes,args', '-g', String(child.pid)], { encoding: 'utf8' });
      process.stderr.write(ps.stdout ?? '');
      killGroup(child.pid, 'SIGKILL');
    }, Math.max(0, o.deadlineAt - Date.now()));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid, 'SIGKILL'); // whatever the test files left in the group
      resolve(late ? 1 : (code ?? (signal === null ? 1 : 128)));
    });
  });
}

/** Processes carrying DEHB_TEST_RUN=token (also those that left the group with setsid). */
export function markedProcesses(token: string): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`DEHB_TEST_RUN=${token}`)) continue;
      found.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
