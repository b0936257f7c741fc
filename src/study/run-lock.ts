/**
 * The writer lock of a run directory: one O_EXCL file `<journal>.writer` holding
 * `{pid, host, token, at}`, taken when a run opens its journal for writing and held for the whole
 * run (no lock per append). A second writer gets E_JOURNAL naming the directory and the holder.
 * The lock is stale when its holder ran on this host and that pid is gone, or (a holder on another
 * host sharing the directory) when it was not refreshed for STALE_MS; the holder refreshes its
 * mtime every REFRESH_MS. Readers (`dehb show`) never take it. The lock file's content, staleness
 * and breaking are the ones of FileLock (storage-file-lock.ts).
 */
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { DehbError } from '../errors.js';
import { breakLock, isStale, newLockContent, readLock, tryCreate, unlinkIfOurs } from './storage-file-lock.js';

const HOST = hostname();
const REFRESH_MS = 10_000;
const STALE_MS = 60_000;

export class RunLock {
  private timer: NodeJS.Timeout | null = null;

  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Takes the writer lock of the journal at `journalPath`, or throws E_JOURNAL naming the holder. */
  static async acquire(journalPath: string): Promise<RunLock> {
    const path = `${journalPath}.writer`;
    const { token, body } = newLockContent();
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await tryCreate(path, body)) {
        const lock = new RunLock(path, token);
        lock.timer = setInterval(() => {
          const now = new Date();
          fsp.utimes(path, now, now).catch(() => undefined);
        }, REFRESH_MS);
        lock.timer.unref();
        return lock;
      }
      const seen = await readLock(path);
      if (seen === null) continue; // released meanwhile
      if (isStale(seen, STALE_MS)) {
        await breakLock(path, seen.content); // checks it moved what it judged (a racing opener may have re-taken it)
        continue;
      }
      const h = seen.content;
      const who = h === null ? 'another process' : `dehb pid ${h.pid} on ${h.host}${h.pid === process.pid && h.host === HOST ? ' (this process)' : ''}`;
      throw new DehbError(
        'E_JOURNAL',
        `run directory ${dirname(journalPath)} is being written by ${who}: one run writes a directory at a time ` +
          `(wait for it to finish, or use another --output; if no such process runs, delete ${path})`,
        { details: { file: path, ...(h === null ? {} : { pid: h.pid, host: h.host }) } },
      );
    }
    throw new DehbError('E_JOURNAL', `could not take the writer lock ${path}: other processes keep taking it`);
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await unlinkIfOurs(this.path, this.token).catch(() => undefined);
  }
}
