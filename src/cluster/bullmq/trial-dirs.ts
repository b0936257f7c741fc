/**
 * Owns where a cluster worker puts trial directories: `<root>/<run id>/<trial id>` under the
 * worker's own `--trials-dir` (default: a temporary folder of this worker). The names come from
 * sanitised job data, never from a path a job carries; a directory on the way that is a symlink
 * is refused, so nothing is created or written outside the root. A run's directory is checked
 * once; a fresh trial directory (mkdir did not find one) needs no check. A module objective's
 * temporary trial directory is made only if the objective reads it (path(): lazy-trial-dir.ts).
 */
import { lstat, mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { EvalTask } from '../../protocol/executor.js';

/** A path segment from any text: letters, digits, `_ . -` only; never `.`/`..`; at most 100 chars. */
export function safeSegment(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return s === '' || /^\.+$/.test(s) ? `_${s}` : s;
}

export class TrialDirs {
  /** Run directories made or checked already (each trial then costs one mkdir). */
  private readonly runDirs = new Set<string>();

  private constructor(
    readonly root: string,
    /** Remove a trial's directory once the trial is over (the default temporary root). */
    readonly temporary: boolean,
  ) {}

  /** `trialsDir` given: kept trial directories under it; otherwise a fresh temporary root. */
  static async create(trialsDir?: string): Promise<TrialDirs> {
    if (trialsDir !== undefined) {
      const root = resolve(trialsDir);
      await mkdir(root, { recursive: true });
      return new TrialDirs(root, false);
    }
    return new TrialDirs(await mkdtemp(join(tmpdir(), 'dehb-worker-')), true);
  }

  /** Creates (or reuses) the directory of one trial and returns its path. */
  async create(task: Pick<EvalTask, 'runId' | 'trialId'>): Promise<string> {
    const dir = await this.path(task);
    const runDir = dirname(dir);
    try {
      await ensureDir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // the run directory went (cleaned up meanwhile): made again, checked again
      this.runDirs.delete(runDir);
      await ensureDir(runDir);
      this.runDirs.add(runDir);
      await ensureDir(dir);
    }
    return dir;
  }

  /**
   * The path of one trial's directory, its run's directory made or checked (a lazy trial directory,
   * lazy-trial-dir.ts, is then one mkdir in it when the objective reads it).
   */
  async path(task: Pick<EvalTask, 'runId' | 'trialId'>): Promise<string> {
    const runDir = join(this.root, safeSegment(task.runId));
    if (!this.runDirs.has(runDir)) {
      await ensureDir(runDir);
      if (this.runDirs.size > 1_000) this.runDirs.clear();
      this.runDirs.add(runDir);
    }
    return join(runDir, String(task.trialId));
  }

  /** The worker stops: a temporary root goes. */
  async close(): Promise<void> {
    if (this.temporary) await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }

  /** A trial is over: its directory goes when the root is temporary. */
  async done(dir: string): Promise<void> {
    if (!this.temporary) return;
    // most trials leave their directory empty: one rmdir, the recursive removal otherwise
    await rmdir(dir).catch(() => rm(dir, { recursive: true, force: true }).catch(() => undefined));
  }
}

/** Makes `d`, or checks that what is there is a directory (not a symlink or file). */
async function ensureDir(d: string): Promise<void> {
  try {
    await mkdir(d);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = await lstat(d);
  if (!st.isDirectory()) throw new Error(`${d} is not a directory (a symlink or file is in the way); remove it`);
}
