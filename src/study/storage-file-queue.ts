/**
 * Where a directory study keeps its trial work queue: `queue.json` (`{tasks: {<trialId>: {...}}}`),
 * read, changed and replaced (temp file + fsync + rename) while holding `queue.json.lock`. Every
 * change is one locked read-modify-write, so claims are atomic across processes; reads (the lease
 * holder's look at the results, stats) take no lock: the file is only ever replaced whole. The
 * queue holds queued, claimed and done tasks (a few per worker); a done task leaves once its
 * result is journaled. Lost, it is rebuilt from the journal (pending = asked, not told) by the
 * next lease holder. The queue rules themselves are queue-ops.ts.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { DehbError } from '../errors.js';
import { FileLock } from './storage-file-lock.js';
import type { QueuePlace, QueueState } from './queue-ops.js';

export class FileQueuePlace implements QueuePlace {
  /** `dirOf` resolves a study's directory (E_STUDY for a study that does not exist). */
  constructor(private readonly dirOf: (name: string) => Promise<string>) {}

  async update<T>(name: string, change: (q: QueueState) => T): Promise<T> {
    const path = join(await this.dirOf(name), 'queue.json');
    return FileLock.with(`${path}.lock`, async () => {
      const q = await load(path);
      const before = JSON.stringify(q);
      const out = change(q);
      const after = JSON.stringify(q);
      if (after === before) return out; // nothing changed (e.g. an empty claim): no write
      const tmp = `${path}.${randomUUID()}.tmp`;
      const fh = await fsp.open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(after);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, path);
      return out;
    });
  }

  async load(name: string): Promise<QueueState> {
    return load(join(await this.dirOf(name), 'queue.json'));
  }
}

async function load(path: string): Promise<QueueState> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tasks: {} };
    throw err;
  }
  try {
    const v = JSON.parse(text) as QueueState;
    if (v === null || typeof v !== 'object' || typeof v.tasks !== 'object' || v.tasks === null) throw new Error('no "tasks" object');
    return v;
  } catch (err) {
    throw new DehbError('E_STUDY', `${path}: unreadable work queue (${(err as Error).message}); delete it — the next leader rebuilds it from the journal`);
  }
}
