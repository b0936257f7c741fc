/**
 * A cross-process mutex on a local or NFSv3+ filesystem: an O_EXCL lock file holding
 * `{pid, host, token, at}`. A lock is stale when its holder ran on this host and that pid is gone,
 * or when its mtime is older than `staleMs` (holders keep a lock for milliseconds, so the default
 * 30 s — Optuna's grace period — only matters for holders on other hosts that died). A stale lock is
 * broken by renaming it to a unique name and checking that what we moved is the lock we judged
 * stale; if a live lock was moved by a racing breaker it is linked back. Fairness: a process that
 * failed twice announces itself in `<path>.want` (O_EXCL, refreshed while it waits); others leave
 * the lock to it, so a writer in a tight append loop cannot starve the rest. Used by the file journal
 * (seq assignment, torn-tail repair) and the file storage (queue claims, leases).
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { DehbError } from '../errors.js';
import { sleep } from '../util/sleep.js';

export interface FileLockOptions {
  /** Give up after this many ms (E_JOURNAL). Default 60_000. */
  timeoutMs?: number;
  /** A lock older than this (by mtime) is stale. Default 30_000. */
  staleMs?: number;
}

export interface LockContent {
  pid: number;
  host: string;
  token: string;
  at: number;
}

const HOST = hostname();

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readLock(path: string): Promise<{ content: LockContent | null; mtimeMs: number } | null> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(path, 'utf8'), fsp.stat(path)]);
    let content: LockContent | null = null;
    try {
      const v = JSON.parse(text) as Partial<LockContent>;
      if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.token === 'string') {
        content = { pid: v.pid, host: v.host, token: v.token, at: Number(v.at ?? 0) };
      }
    } catch {
      content = null; // being written right now, or garbage; judged by mtime
    }
    return { content, mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function isStale(lock: { content: LockContent | null; mtimeMs: number }, staleMs: number): boolean {
  const c = lock.content;
  if (c !== null && c.host === HOST && c.pid !== process.pid && !pidAlive(c.pid)) return true;
  return Date.now() - lock.mtimeMs > staleMs;
}

/** Tries to remove a lock judged stale; returns when done (whether or not we were the breaker). */
export async function breakLock(path: string, seen: LockContent | null): Promise<void> {
  const aside = `${path}.${randomUUID()}.stale`;
  try {
    await fsp.rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readLock(aside);
  const movedToken = moved?.content?.token ?? null;
  if (seen !== null && movedToken !== null && movedToken !== seen.token) {
    // We moved a fresh lock taken after our check: put it back unless someone locked meanwhile.
    await fsp.link(aside, path).catch(() => undefined);
  }
  await fsp.unlink(aside).catch(() => undefined);
}

/** A waiter's announcement is stale when not refreshed for this long (waiters refresh it often). */
const WANT_STALE_MS = 2_000;

/** Creates the lock file with `body` (O_EXCL); false when it exists. */
export async function tryCreate(path: string, body: string): Promise<boolean> {
  try {
    const fh = await fsp.open(path, 'wx', 0o644);
    try {
      await fh.writeFile(body);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'ENOENT') {
      throw new DehbError('E_JOURNAL', `cannot create lock file ${path}: its directory is missing`, { cause: err });
    }
    throw err;
  }
}

export async function unlinkIfOurs(path: string, token: string): Promise<void> {
  const lock = await readLock(path);
  if (lock?.content?.token === token) await fsp.unlink(path).catch(() => undefined);
}

/** A fresh holder token of this process and the lock file's content for it. */
export function newLockContent(): { token: string; body: string } {
  const token = `${HOST}:${process.pid}:${randomUUID()}`;
  return { token, body: JSON.stringify({ pid: process.pid, host: HOST, token, at: Date.now() }) };
}

export class FileLock {
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Acquires `path` (the lock file itself, e.g. `journal.jsonl.lock`). */
  static async acquire(path: string, opts: FileLockOptions = {}): Promise<FileLock> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const staleMs = opts.staleMs ?? 30_000;
    const { token, body } = newLockContent();
    const wantPath = `${path}.want`;
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    let failures = 0;
    let wanter = false;
    for (;;) {
      // Fairness: while another waiter has announced itself, leave the lock to it.
      const want = wanter ? null : await readLock(wantPath);
      const yieldToWanter = want !== null && !isStale(want, WANT_STALE_MS);
      if (want !== null && !yieldToWanter) await breakLock(wantPath, want.content);
      if (!yieldToWanter && (await tryCreate(path, body))) {
        if (wanter) await unlinkIfOurs(wantPath, token);
        return new FileLock(path, token);
      }
      failures += 1;
      if (!yieldToWanter) {
        const lock = await readLock(path);
        if (lock !== null && isStale(lock, staleMs)) {
          await breakLock(path, lock.content);
          continue;
        }
        if (!wanter && failures >= 2) wanter = await tryCreate(wantPath, body);
      }
      if (wanter) await fsp.utimes(wantPath, new Date(), new Date()).catch(() => undefined);
      if (Date.now() > deadline) {
        if (wanter) await unlinkIfOurs(wantPath, token);
        const lock = await readLock(path);
        const who = lock?.content ? ` (held by pid ${lock.content.pid} on ${lock.content.host})` : '';
        throw new DehbError(
          'E_JOURNAL',
          `could not lock ${path} within ${timeoutMs} ms${who}; if no dehb process uses it, delete the lock file`,
        );
      }
      const d = wanter ? 1 : delay;
      await sleep(d + Math.random() * d);
      delay = Math.min(delay * 2, 25);
    }
  }

  /** Runs `fn` while holding the lock at `path`. */
  static async with<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
    const lock = await FileLock.acquire(path, opts);
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    await unlinkIfOurs(this.path, this.token);
  }
}
