/**
 * The work-queue rules of a study storage kept in a plain object (`{tasks: {<trialId>: slot}}`),
 * as pure functions: the directory storage applies them to `queue.json` under its file lock
 * (storage-file-queue.ts), the in-memory storage to an object it holds (storage-memory.ts).
 * Idempotent by trial id; lower priority first, then lower trial id; expired claims go back to the
 * queue before a claim looks for work; a claim's holder leaves the outcome in its slot (`done`),
 * which stays until the lease holder removes it, so a result outlives a lease holder that died
 * before journaling it. The state comes from a file other processes write: reads of it never
 * trust a slot's shape (resultsOf), and outcomes are validated by the reader.
 */
import type { ClaimedTask, QueueResults, QueueStats, QueueTask } from './storage.js';

export interface QueueSlot {
  task: QueueTask;
  state: 'queued' | 'claimed' | 'done';
  workerId?: string;
  expiresAt?: number;
  attempts: number;
  /** A done slot: the outcome its worker left (untrusted). */
  outcome?: unknown;
}

export interface QueueState {
  tasks: Record<string, QueueSlot>;
}

export function enqueueTasks(q: QueueState, tasks: QueueTask[]): number {
  let added = 0;
  for (const t of tasks) {
    const key = String(t.trialId);
    if (q.tasks[key] !== undefined) continue;
    q.tasks[key] = { task: t, state: 'queued', attempts: 0 };
    added++;
  }
  return added;
}

export function claimTask(q: QueueState, workerId: string, ttlMs: number, now = Date.now()): ClaimedTask | null {
  let best: QueueSlot | null = null;
  for (const slot of Object.values(q.tasks)) {
    if (slot.state === 'claimed' && (slot.expiresAt ?? 0) <= now) release(slot); // the claimer stopped heart-beating
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
}

export function heartbeatTask(q: QueueState, trialId: number, workerId: string, ttlMs: number, now = Date.now()): boolean {
  const slot = q.tasks[String(trialId)];
  if (slot === undefined || slot.state !== 'claimed' || slot.workerId !== workerId) return false;
  slot.expiresAt = now + ttlMs;
  return true;
}

export function completeTask(q: QueueState, trialId: number, workerId: string, outcome: unknown): boolean {
  const slot = q.tasks[String(trialId)];
  if (slot === undefined || slot.state !== 'claimed' || slot.workerId !== workerId) return false;
  slot.state = 'done';
  slot.outcome = outcome;
  delete slot.expiresAt;
  return true;
}

export function removeTasks(q: QueueState, trialIds: number[]): void {
  for (const id of trialIds) delete q.tasks[String(id)];
}

export function unclaimTask(q: QueueState, trialId: number, workerId: string): void {
  const slot = q.tasks[String(trialId)];
  if (slot !== undefined && slot.state === 'claimed' && slot.workerId === workerId) release(slot);
}

export function queueStatsOf(q: QueueState, now = Date.now()): QueueStats {
  let queued = 0;
  let claimed = 0;
  for (const s of Object.values(q.tasks)) {
    if (s.state === 'done') continue;
    if (s.state === 'claimed' && (s.expiresAt ?? 0) > now) claimed++;
    else queued++;
  }
  return { queued, claimed };
}

/** Done slots and claimed trial ids, read defensively (the trial id is the slot's key). */
export function resultsOf(q: QueueState): QueueResults {
  const out: QueueResults = { done: [], claimed: [] };
  for (const [key, s] of Object.entries(q.tasks)) {
    const trialId = Number(key);
    if (!Number.isInteger(trialId) || trialId < 0 || s === null || typeof s !== 'object') continue;
    if (s.state === 'done') out.done.push({ trialId, workerId: String(s.workerId), outcome: s.outcome });
    else if (s.state === 'claimed') out.claimed.push(trialId);
  }
  return out;
}

function release(slot: QueueSlot): void {
  slot.state = 'queued';
  delete slot.workerId;
  delete slot.expiresAt;
}
