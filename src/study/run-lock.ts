/**
 * The writer lock of a run directory: one O_EXCL file `<journal>.writer` holding
 * `{pid, host, token, at}`, taken when a run opens its journal for writing and held for the whole
 * run (no lock per append). A second writer gets E_JOURNAL naming the directory and the holder.
 * The lock is stale when its holder ran on this host and that pid is gone, or (a holder on another
 * host sharing the directory) when it was not refreshed for STALE_MS; the holder refreshes its
 * mtime every REFRESH_MS. Readers (`dehb show`) never take it.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { DehbError } from '../errors.js';
import { pidAlive as alive, readLock as readHolder } from './storage-file-lock.js';

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
    const token = `${HOST}:${process.pid}:${randomUUID()}`;
    const body = JSON.stringify({ pid: process.pid, host: HOST, token, at: Date.now() });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fsp.writeFile(path, body, { flag: 'wx', mode: 0o644 });
        const lock = new RunLock(path, token);
        lock.timer = setInterval(() => {
          const now = new Date();
          fsp.utimes(path, now, now).catch(() => undefined);
        }, REFRESH_MS);
        lock.timer.unref();
        return lock;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = await readHolder(path);
      if (seen === null) continue; // released meanwhile
      const h = seen.content;
      const stale =
        (h !== null && h.host === HOST && h.pid !== process.pid && !alive(h.pid)) || Date.now() - seen.mtimeMs > STALE_MS;
      if (!stale) {
        const who = h === null ? 'another process' : `dehb pid ${h.pid} on ${h.host}${h.pid === process.pid && h.host === HOST ? ' (this process)' : ''}`;
        throw new DehbError(
          'E_JOURNAL',
          `run directory ${dirname(journalPath)} is being written by ${who}: one run writes a directory at a time ` +
            `(wait for it to finish, or use another --output; if no such process runs, delete ${path})`,
          { details: { file: path, ...(h === null ? {} : { pid: h.pid, host: h.host }) } },
        );
      }
      // stale: move it aside and check we moved what we judged (a racing opener may have re-taken it)
      const aside = `${path}.${randomUUID()}.stale`;
      try {
        await fsp.rename(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        continue;
      }
      const moved = await readHolder(aside);
      if (moved?.content?.token !== undefined && h !== null && moved.content.token !== h.token) {
        await fsp.link(aside, path).catch(() => undefined);
      }
      await fsp.unlink(aside).catch(() => undefined);
    }
    throw new DehbError('E_JOURNAL', `could not take the writer lock ${path}: other processes keep taking it`);
  }

  /** Removes the lock file if it is still ours. */
  async release(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const seen = await readHolder(this.path).catch(() => null);
    if (seen?.content?.token === this.token) await fsp.unlink(this.path).catch(() => undefined);
  }
}
