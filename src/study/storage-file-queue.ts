/**
 * The trial work queue of a directory study: `queue.json` (`{tasks: {<trialId>: {...}}}`), read,
 * changed and replaced (temp file + fsync + rename) while holding `queue.json.lock`. Every
 * operation is one locked read-modify-write, so claims are atomic across processes. The queue only
 * holds queued and claimed tasks (a few per worker); finished trials leave it. The queue can always
 * be rebuilt from the journal (pending = asked, not told), which a new leader does.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { DehbError } from '../errors.js';
import { FileLock } from './storage-file-lock.js';
import type { ClaimedTask, QueueStats, QueueTask } from './storage.js';

interface Slot {
  task: QueueTask;
  state: 'queued' | 'claimed';
  workerId?: string;
  expiresAt?: number;
  attempts: number;
}

interface QueueFile {
  tasks: Record<string, Slot>;
}

export class FileQueue {
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'queue.json');
  }

  enqueue(tasks: QueueTask[]): Promise<number> {
    return this.update((q) => {
      let added = 0;
      for (const t of tasks) {
        const key = String(t.trialId);
        if (q.tasks[key] !== undefined) continue;
        q.tasks[key] = { task: t, state: 'queued', attempts: 0 };
        added++;
      }
      return added;
    });
  }

  claim(workerId: string, ttlMs: number): Promise<ClaimedTask | null> {
    return this.update((q) => {
      const now = Date.now();
      let best: Slot | null = null;
      for (const slot of Object.values(q.tasks)) {
        if (slot.state === 'claimed' && (slot.expiresAt ?? 0) <= now) {
          slot.state = 'queued'; // the claimer stopped heart-beating: back to the queue
          delete slot.workerId;
          delete slot.expiresAt;
        }
        if (slot.state !== 'queued') continue;
        if (
          best === null ||
          slot.task.priority < best.task.priority ||
          (slot.task.priority === best.task.priority && slot.task.trialId < best.task.trialId)
        ) {
          best = slot;
        }
      }
      if (best === null) return null;
      best.state = 'claimed';
      best.workerId = workerId;
      best.expiresAt = now + ttlMs;
      best.attempts += 1;
      return { ...best.task, workerId, expiresAt: best.expiresAt, attempts: best.attempts };
    });
  }

  heartbeat(trialId: number, workerId: string, ttlMs: number): Promise<boolean> {
    return this.update((q) => {
      const slot = q.tasks[String(trialId)];
      if (slot === undefined || slot.state !== 'claimed' || slot.workerId !== workerId) return false;
      slot.expiresAt = Date.now() + ttlMs;
      return true;
    });
  }

  complete(trialId: number): Promise<void> {
    return this.update((q) => {
      delete q.tasks[String(trialId)];
    });
  }

  unclaim(trialId: number, workerId: string): Promise<void> {
    return this.update((q) => {
      const slot = q.tasks[String(trialId)];
      if (slot === undefined || slot.state !== 'claimed' || slot.workerId !== workerId) return;
      slot.state = 'queued';
      delete slot.workerId;
      delete slot.expiresAt;
    });
  }

  async stats(): Promise<QueueStats> {
    const q = await this.load();
    const now = Date.now();
    let queued = 0;
    let claimed = 0;
    for (const s of Object.values(q.tasks)) {
      if (s.state === 'claimed' && (s.expiresAt ?? 0) > now) claimed++;
      else queued++;
    }
    return { queued, claimed };
  }

  private async update<T>(fn: (q: QueueFile) => T): Promise<T> {
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

  private async load(): Promise<QueueFile> {
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { tasks: {} };
      throw err;
    }
    try {
      const v = JSON.parse(text) as QueueFile;
      if (v === null || typeof v !== 'object' || typeof v.tasks !== 'object' || v.tasks === null) throw new Error('no "tasks" object');
      return v;
    } catch (err) {
      throw new DehbError('E_STUDY', `${this.path}: unreadable work queue (${(err as Error).message}); delete it — the next leader rebuilds it from the journal`);
    }
  }
}
