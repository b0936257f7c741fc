/**
 * Helpers for the SLURM integration tests (test/integration/slurm*.test.ts): check the one-node
 * cluster from .ci/slurm-setup.sh answers, submit batch scripts with `sbatch`, poll `squeue` (no
 * accounting, so no sacct) until jobs end, and cancel what a test submitted.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Job states after which a job will not run again (squeue -t all keeps them MinJobAge seconds). */
const TERMINAL = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);

const SETUP_HINT = 'run `sudo bash .ci/slurm-setup.sh` first (CI\'s .ci/run does this before the tests)';

/** Throws with the setup hint unless sbatch exists and the controller answers with an up node. */
export async function requireSlurm(): Promise<void> {
  try {
    await run('sbatch', ['--version']);
  } catch (err) {
    throw new Error(`SLURM is not installed here (sbatch: ${(err as Error).message}); ${SETUP_HINT}`);
  }
  let states = '';
  try {
    states = (await run('sinfo', ['-h', '-o', '%T'], { timeout: 20_000 })).stdout.trim();
  } catch (err) {
    throw new Error(`SLURM does not answer (sinfo: ${(err as Error).message}); ${SETUP_HINT}`);
  }
  if (!/^(idle|mixed|allocated|completing)$/m.test(states)) {
    throw new Error(`no SLURM node is up (sinfo states: '${states}'); ${SETUP_HINT}`);
  }
}

/** `sbatch --parsable ...args` (the script, if any, last; or `--wrap CMD`); returns the job id. */
export async function sbatch(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  const { stdout } = await run('sbatch', ['--parsable', ...args], {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    timeout: 30_000,
  });
  const id = stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed no job id: '${stdout.trim()}'`);
  return id;
}

/** Map "<id>" or "<id>_<task>" -> state, for the given jobs (array elements listed separately). */
export async function jobStates(ids: string[]): Promise<Map<string, string>> {
  const { stdout } = await run('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i %T'], {
    timeout: 20_000,
  });
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [id, state] = line.trim().split(/\s+/);
    if (id !== undefined && id !== '' && state !== undefined) out.set(id, state);
  }
  return out;
}

/** Poll until every listed job (and array element) is in a terminal state; returns the states. */
export async function waitForJobs(
  ids: string[],
  timeoutMs: number,
  describe: () => Promise<string> = async () => '',
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await jobStates(ids);
    const seen = [...states.keys()].map((k) => k.split('_')[0]);
    const allListed = ids.every((id) => seen.includes(id));
    if (allListed && [...states.values()].every((s) => TERMINAL.has(s))) return states;
    if (Date.now() > deadline) {
      const detail = [...states].map(([k, v]) => `${k}=${v}`).join(' ');
      throw new Error(`SLURM jobs not finished after ${timeoutMs} ms (${detail})\n${await describe()}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Poll until `check()` returns a value other than undefined, or throw after timeoutMs. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** scancel the jobs (ignores jobs that already ended). */
export async function cancelJobs(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await run('scancel', ids, { timeout: 20_000 });
  } catch {
    // already gone
  }
}

/** Text of every *.out / *.err file in dir, for failure messages. */
export async function dumpOutputs(dir: string): Promise<string> {
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.out') || n.endsWith('.err')).sort();
  } catch {
    return `(no ${dir})`;
  }
  const parts: string[] = [];
  for (const n of names) {
    const text = await readFile(join(dir, n), 'utf8').catch(() => '');
    parts.push(`--- ${n} ---\n${text.length > 6000 ? `…${text.slice(-6000)}` : text}`);
  }
  return parts.join('\n');
}
