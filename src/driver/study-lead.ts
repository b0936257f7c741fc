/**
 * What a study's lease holder does: replay the journal into a RunSession whose appends are fenced
 * by the lease (study/leader-journal.ts), record the budget, and drive the same run loop as
 * `dehb run` — through the local study queue of a directory storage
 * (study/study-queue-executor.ts: this process's and other processes' StudyWorkers evaluate and
 * leave the outcomes in the queue), or through an executor the caller gives (a Redis study's
 * BullMQ executor, or `--cluster`). Either way workers only evaluate and this holder journals
 * every result, fenced by the lease, with the run loop's one retry policy. The lease is renewed every third of its TTL; a holder that loses it stops asking at once
 * (its trials stay queued for the next holder, which re-submits them) and reports `lost`.
 */
import { DehbError, isDehbError } from '../errors.js';
import type { Executor } from '../protocol/executor.js';
import type { TrialRecord } from '../study/journal-types.js';
import { openSession } from '../study/session-open.js';
import { studyRunId, type StudyStorage } from '../study/storage.js';
import { StudyQueueExecutor } from '../study/study-queue-executor.js';
import type { StatedBudget } from './budget.js';
import { drive } from './drive.js';

export interface LeadOptions {
  storage: StudyStorage;
  study: string;
  holder: string;
  budget: StatedBudget;
  /** When this invocation started (a runtime budget counts from here). */
  started: number;
  leaseTtlMs: number;
  /** Evaluate through this executor instead of the study queue (`--cluster`). */
  executor?: Executor | undefined;
  /** Devices per trial the executor pins (cluster tasks carry it). */
  gpusPerTrial: number;
  /** Overrides the study's per-trial timeout in the tasks. */
  trialTimeoutMs?: number | undefined;
  queue: { queueAhead: number; busySlots: () => number; idleSlots: () => number; onQueued: () => void; onReady: (q: StudyQueueExecutor | null) => void };
  signal?: AbortSignal | undefined;
  killSignal?: AbortSignal | undefined;
  log?: (msg: string) => void | undefined;
  onTrialEnd?: (record: TrialRecord) => void | undefined;
}

export type LeadResult = { reason: 'budget' | 'no-work' | 'stopped'; told: number } | { reason: 'lost' };

export async function leadStudy(o: LeadOptions): Promise<LeadResult> {
  const { storage, study, holder } = o;
  const reader = await storage.journal(study);
  const viaQueue = o.executor === undefined;
  const lost = new AbortController();
  const stop = o.signal === undefined ? lost.signal : AbortSignal.any([o.signal, lost.signal]);
  let queue: StudyQueueExecutor | null = null;
  let renew: NodeJS.Timeout | null = null;
  try {
    // a queue's workers journal `started` and `report` themselves; this holder journals every `told`
    const { session, journal: fenced } = await openSession({ kind: 'study', storage, study, holder, reader, writtenElsewhere: (e) => viaQueue && e.type !== 'told' });
    if (session.state.options.kind === 'random' && 'brackets' in o.budget) {
      throw new DehbError('E_USAGE', 'random studies have no brackets: give --fevals or --runtime');
    }
    const pending = session.resumedPending.length;
    o.log?.(`leader ${holder}: leading (replayed ${fenced.lastReadSeq} entries, ${pending} pending trials)`);
    if (viaQueue) {
      queue = new StudyQueueExecutor({
        session,
        storage,
        study,
        journal: reader,
        fromSeq: fenced.lastReadSeq,
        queueAhead: o.queue.queueAhead,
        workerId: holder,
        busySlots: o.queue.busySlots,
        idleSlots: o.queue.idleSlots,
        stopSignal: stop,
        onQueued: o.queue.onQueued,
        ...(o.log === undefined ? {} : { log: o.log }),
      });
    }
    o.queue.onReady(queue);
    renew = setInterval(() => {
      storage.renewLease(study, holder, o.leaseTtlMs).then(
        (ok) => {
          if (!ok) stepDown('the lease could not be renewed');
        },
        () => undefined, // a storage hiccup: the next renewal (or a fenced append) decides
      );
    }, Math.max(50, Math.floor(o.leaseTtlMs / 3)));
    const stepDown = (why: string): void => {
      if (lost.signal.aborted) return;
      o.log?.(`leader ${holder}: stepping down (${why})`);
      lost.abort();
      queue?.abandon();
    };
    const meta = session.meta;
    let summary;
    try {
      summary = await drive({
        session,
        executor: queue ?? (o.executor as Executor),
        budget: { ...o.budget, total: true },
        started: o.started,
        task: {
          runId: studyRunId(study),
          objective: meta.objective ?? { kind: 'function' },
          trialTimeoutMs: o.trialTimeoutMs ?? meta.trialTimeoutMs,
          gpus: viaQueue ? 0 : o.gpusPerTrial,
          // shipped input files: only workers that open the study storage can run the trial (cluster/bullmq/worker-job.ts)
          extra: (job) => ({ study, manual: job.source === 'manual', ...((meta.inputFiles ?? []).length > 0 ? { inputFiles: true } : {}) }),
        },
        stopSignal: stop,
        ...(o.killSignal === undefined ? {} : { killSignal: o.killSignal }),
        ...(queue === null ? {} : { subscribe: (wake: () => void) => (queue as StudyQueueExecutor).onChange(wake) }),
        events: { onTrialEnd: (record) => o.onTrialEnd?.(record) },
      });
    } catch (err) {
      if (lost.signal.aborted || (isDehbError(err, 'E_STUDY') && err.details?.reason === 'lease-lost')) {
        stepDown('another process took the lease');
        return { reason: 'lost' };
      }
      throw err;
    }
    if (lost.signal.aborted) return { reason: 'lost' };
    if (summary.reason === 'stopped') return { reason: 'stopped', told: summary.told };
    const reason = summary.reason === 'no-work' ? 'no-work' : 'budget';
    session.recordFinished(reason);
    await session.flush();
    return { reason, told: summary.told };
  } finally {
    if (renew !== null) clearInterval(renew);
    o.queue.onReady(null);
    await queue?.close();
    await reader.close();
    await storage.releaseLease(study, holder).catch(() => undefined);
  }
}
