/**
 * The trial work queue of a directory study: `queue.json` (`{tasks: {<trialId>: {...}}}`), read,
 * changed and replaced (temp file + fsync + rename) while holding `queue.json.lock`. Every
 * operation is one locked read-modify-write, so claims are atomic across processes; the lease
 * holder's look at the results reads without the lock (the file is only ever replaced whole). The
 * queue holds queued, claimed and done tasks (a few per worker); a done task leaves once its result
 * is journaled. Lost, it is rebuilt from the journal (pending = asked, not told) by the next lease
 * holder. The queue rules themselves are queue-ops.ts.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { DehbError } from '../errors.js';
import { FileLock } from './storage-file-lock.js';
import type { ClaimedTask, QueueResults, QueueStats, QueueTask } from './storage.js';
import { claimTask, completeTask, enqueueTasks, heartbeatTask, queueStatsOf, removeTasks, resultsOf, unclaimTask, type QueueState } from './queue-ops.js';

export class FileQueue {
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'queue.json');
  }

  enqueue(tasks: QueueTask[]): Promise<number> {
    return this.update((q) => enqueueTasks(q, tasks));
  }

  claim(workerId: string, ttlMs: number): Promise<ClaimedTask | null> {
    return this.update((q) => claimTask(q, workerId, ttlMs));
  }

  heartbeat(trialId: number, workerId: string, ttlMs: number): Promise<boolean> {
    return this.update((q) => heartbeatTask(q, trialId, workerId, ttlMs));
  }

  complete(trialId: number, workerId: string, outcome: unknown): Promise<boolean> {
    return this.update((q) => completeTask(q, trialId, workerId, outcome));
  }

  remove(trialIds: number[]): Promise<void> {
    return this.update((q) => removeTasks(q, trialIds));
  }

  async results(): Promise<QueueResults> {
    return resultsOf(await this.load());
  }

  unclaim(trialId: number, workerId: string): Promise<void> {
    return this.update((q) => unclaimTask(q, trialId, workerId));
  }

  async stats(): Promise<QueueStats> {
    return queueStatsOf(await this.load());
  }

  private async update<T>(fn: (q: QueueState) => T): Promise<T> {
    return FileLock.with(`${this.path}.lock`, async () => {
      const q = await this.load();
      const before = JSON.stringify(q);
      const out = fn(q);
      const after = JSON.stringify(q);
      if (after === before) return out; // nothing changed (e.g. an empty claim): no write
      const tmp = `${this.path}.${randomUUID()}.tmp`;
      const fh = await fsp.open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(after);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, this.path);
      return out;
    });
  }

  private async load(): Promise<QueueState> {
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tasks: {} };
      throw err;
    }
    try {
      const v = JSON.parse(text) as QueueState;
      if (v === null || typeof v !== 'object' || typeof v.tasks !== 'object' || v.tasks === null) throw new Error('no "tasks" object');
      return v;
    } catch (err) {
      throw new DehbError('E_STUDY', `${this.path}: unreadable work queue (${(err as Error).message}); delete it — the next leader rebuilds it from the journal`);
    }
  }
}
