/**
 * The work-queue rules of a study storage kept in a plain JSON object (`{tasks: {<trialId>:
 * slot}}`), and `queueOn`, the LocalStudyQueue over any place that keeps one such object per
 * study: the directory storage's `queue.json` changed under its file lock (storage-file-queue.ts),
 * the in-memory storage's JSON text (storage-memory.ts).
 * Idempotent by trial id; lower priority first, then lower trial id; expired claims go back to the
 * queue before a claim looks for work; a claim's holder leaves the outcome in its slot (`done`),
 * which stays until the lease holder removes it, so a result outlives a lease holder that died
 * before journaling it. The state comes from a file other processes write: reads of it never
 * trust a slot's shape (`results`), outcomes are validated by the reader, and a task is validated
 * (the one protocol, wire.ts) before it is claimed: a garbled one is not handed to a worker but
 * left done with a retryable failure naming the problem, once, so the lease holder's retry
 * policy queues the trial again from its own record (never retried forever by claim expiries).
 */
import { DehbError, serializeError } from '../errors.js';
import type { Parsed, QueuedTask } from '../protocol/wire.js';
import type { ClaimedTask, LocalStudyQueue, QueueResults, QueueStats, QueueTask } from './storage.js';

type TaskCheck = (value: unknown) => Parsed<QueuedTask>;

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

/** Where the queue state of each study lives: `update` applies a change atomically, `load` reads. */
export interface QueuePlace {
  update<T>(name: string, change: (q: QueueState) => T): Promise<T>;
  load(name: string): Promise<QueueState>;
}

export function queueOn(place: QueuePlace): LocalStudyQueue {
  const slotOf = (q: QueueState, trialId: number, workerId: string): QueueSlot | undefined => {
    const slot = q.tasks[String(trialId)];
    return slot !== undefined && slot.state === 'claimed' && slot.workerId === workerId ? slot : undefined;
  };
  return {
    enqueue: (name, tasks, drop = []) =>
      place.update(name, (q) => {
        for (const id of drop) delete q.tasks[String(id)];
        const fresh = tasks.filter((t) => q.tasks[String(t.trialId)] === undefined);
        for (const t of fresh) q.tasks[String(t.trialId)] = { task: t, state: 'queued', attempts: 0 };
        return fresh.length;
      }),
    claim: async (name, workerId, ttlMs) => {
      // the schema (zod) loads with the first claim, not with every CLI command that opens a storage
      const { parseQueueTask } = await import('../protocol/wire.js');
      return place.update(name, (q) => claimTask(q, workerId, ttlMs, parseQueueTask));
    },
    heartbeat: (name, trialId, workerId, ttlMs) =>
      place.update(name, (q) => {
        const slot = slotOf(q, trialId, workerId);
        if (slot !== undefined) slot.expiresAt = Date.now() + ttlMs;
        return slot !== undefined;
      }),
    complete: (name, trialId, workerId, outcome) =>
      place.update(name, (q) => {
        const slot = slotOf(q, trialId, workerId);
        if (slot === undefined) return false;
        Object.assign(slot, { state: 'done', outcome });
        delete slot.expiresAt;
        return true;
      }),
    unclaim: (name, trialId, workerId) =>
      place.update(name, (q) => {
        const slot = slotOf(q, trialId, workerId);
        if (slot !== undefined) release(slot);
      }),
    results: async (name) => resultsOf(await place.load(name)),
    queueStats: async (name) => statsOf(await place.load(name)),
  };
}

function claimTask(q: QueueState, workerId: string, ttlMs: number, check: TaskCheck, now = Date.now()): ClaimedTask | null {
  let best: QueueSlot | null = null;
  for (const [key, slot] of Object.entries(q.tasks)) {
    if (slot === null || typeof slot !== 'object') continue;
    if (slot.state === 'claimed' && (slot.expiresAt ?? 0) <= now) release(slot); // the claimer stopped heart-beating
    if (slot.state !== 'queued') continue;
    if (!refuseGarbled(key, slot, workerId, check)) continue;
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

/** True when the slot's task is usable (then it is the parsed task); else the slot is left done with a refusal. */
function refuseGarbled(key: string, slot: QueueSlot, workerId: string, check: TaskCheck): boolean {
  const p = check(slot.task);
  if (p.ok && String(p.value.trialId) === key) {
    slot.task = p.value;
    return true;
  }
  const why = p.ok ? `its trialId ${p.value.trialId} is not its key` : p.message;
  const error = new DehbError('E_STUDY', `queue.json: the queued task of trial ${key} is garbled (${why}); refused unrun, the lease holder queues the trial again from its own record`);
  Object.assign(slot, { state: 'done', workerId, outcome: { status: 'failed', retryable: true, error: serializeError(error) } });
  delete slot.expiresAt;
  return false;
}

function statsOf(q: QueueState, now = Date.now()): QueueStats {
  let queued = 0;
  let claimed = 0;
  for (const s of Object.values(q.tasks)) {
    if (s.state === 'done') continue;
    if (s.state === 'claimed' && (s.expiresAt ?? 0) > now) claimed++;
    else queued++;
  }
  return { queued, claimed };
}

/** Done and claimed slots, read defensively (the trial id is the slot's key). */
function resultsOf(q: QueueState): QueueResults {
  const out: QueueResults = { done: [], claimed: [] };
  for (const [key, s] of Object.entries(q.tasks)) {
    const trialId = Number(key);
    if (!Number.isInteger(trialId) || trialId < 0 || s === null || typeof s !== 'object') continue;
    if (s.state === 'done') out.done.push({ trialId, workerId: String(s.workerId), outcome: s.outcome });
    else if (s.state === 'claimed') out.claimed.push({ trialId, workerId: String(s.workerId) });
  }
  return out;
}

function release(slot: QueueSlot): void {
  slot.state = 'queued';
  delete slot.workerId;
  delete slot.expiresAt;
}
