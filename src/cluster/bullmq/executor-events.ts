/**
 * Owns what the coordinator does with the job events of its run (BullMQ `completed`, `duplicated`,
 * `failed`, `progress`, delivered by the executor's one listener) and with a job's returnvalue:
 * validating it (anything from Redis is untrusted), settling the trial or the batch members,
 * queueing a trial again when an earlier coordinator cancelled its job or the job failed on a Redis
 * error, handing what an event cannot tell to a re-check (executor-recovery.ts), cleaning up late
 * results of jobs given up on, and forwarding a trial's intermediate reports. The executor hands it
 * its parts as JobEventsParts.
 */
import type { ResultsStore } from '../../redis/results-store.js';
import { CANCEL_REQUEST_REASON, invalidOutcome, parseBatchOutcome, parseOutcome, workerFailure, type Parsed, type WireOutcome } from '../../protocol/wire.js';
import { isServerError, type BrokerHealth } from '../../redis/health.js';
import type { BatchJobs } from './batch-jobs.js';
import type { FairShare } from './fair-share.js';
import type { Entry, PendingTable } from './pending.js';

/** Which executor counter a re-check that finds a result adds to. */
export type RecheckCounter = 'reattached' | 'fromSweep';

export interface JobEventsParts {
  table: PendingTable;
  batches: BatchJobs;
  store: ResultsStore;
  health: BrokerHealth;
  fair: FairShare;
  /** The executor's counters (`fromEvents`: outcomes taken from events). */
  stats: { fromEvents: number };
  settle(e: Entry, outcome: WireOutcome): void;
  /** Queues the entry again for the next flush. */
  requeue(e: Entry): void;
  removeJob(jobId: string): Promise<void>;
  /** Reconciles the entry with what Redis holds for its job, soon. */
  recheck(e: Entry, counter?: RecheckCounter): void;
  log(message: string): void;
}

export class JobEvents {
  private readonly table: PendingTable;
  private readonly batches: BatchJobs;
  private readonly store: ResultsStore;
  private readonly health: BrokerHealth;
  private readonly fair: FairShare;
  private readonly stats: { fromEvents: number };

  constructor(private readonly parts: JobEventsParts) {
    ({ table: this.table, batches: this.batches, store: this.store, health: this.health, fair: this.fair, stats: this.stats } = parts);
  }

  onCompleted(jobId: string, returnvalue: unknown): void {
    this.health.completed();
    const b = this.batches.book.get(jobId);
    if (b !== undefined) {
      const p = parseBatchOutcome(returnvalue);
      const some = [...b.members.values()].find((m) => !m.settled);
      // as below: an unusable event is checked against the job itself
      if (!p.ok) {
        if (some !== undefined) this.parts.recheck(some);
      } else {
        this.stats.fromEvents++;
        this.batches.onResult(b, p);
      }
      return;
    }
    const e = this.table.get(jobId);
    if (e === undefined) {
      // a job we stopped waiting for: its late result goes; one of this run we have not submitted
      // (an earlier coordinator's, before a resume re-submits it) stays for that submit to find
      if (this.table.unabandon(jobId)) this.store.deleteLater(jobId);
      return;
    }
    const p = parseOutcome(returnvalue);
    if (!p.ok) {
      // the event is untrusted (anyone with access to Redis can add one): the finished job, which
      // only the lock holder's completion writes, says what the worker returned
      this.parts.recheck(e);
      return;
    }
    this.stats.fromEvents++;
    // measures the per-job overhead for the auto trials-per-job rule (batches.ts)
    if (e.phase === 'added' && !e.settled) this.batches.sizer.observe(Date.now() - e.addedAt, p.value.durationMs ?? 0, 1);
    this.onResult(e, p);
  }

  /** The job's returnvalue, validated (anything from Redis is untrusted): settle, or queue again. */
  onResult(e: Entry, p: Parsed<WireOutcome>): void {
    if (e.settled) return;
    if (p.ok && p.value.status === 'cancelled' && p.value.reason === CANCEL_REQUEST_REASON) {
      // an earlier coordinator cancelled this job id; we still want the trial: drop the finished
      // job (kept on completion) and queue it again
      e.phase = 'requeueing';
      void this.store
        .removeFinished([e.jobId])
        .catch((err: unknown) => this.health.noteError(err))
        .finally(() => {
          if (!e.settled) this.parts.requeue(e);
        });
      return;
    }
    this.fair.finished(e.priority);
    this.parts.settle(e, p.ok ? p.value : invalidOutcome(e.jobId, p.message));
    this.store.deleteLater(e.jobId);
  }

  /** Our add found the job id taken (an earlier coordinator's job): find out now where it is. */
  onDuplicated(jobId: string): void {
    const b = this.batches.book.get(jobId);
    const some = b === undefined ? undefined : [...b.members.values()].find((m) => !m.settled);
    if (some !== undefined) return this.parts.recheck(some, 'reattached');
    const e = this.table.get(jobId);
    if (e !== undefined) this.parts.recheck(e, 'reattached');
  }

  async onFailed(jobId: string, reason: string): Promise<void> {
    const b = this.batches.book.get(jobId);
    if (b !== undefined) return this.batches.onFailed(b, reason);
    const e = this.table.get(jobId);
    if (e === undefined) {
      if (this.table.unabandon(jobId)) await this.parts.removeJob(jobId);
      return;
    }
    if (isServerError({ message: reason })) {
      // the job failed because Redis refused a command (OOM, READONLY...): not a trial result
      this.health.noteError(new Error(reason), 'write');
      this.parts.log(`job ${jobId} failed on a Redis error (${reason}); the trial is queued again, not recorded`);
      await this.parts.removeJob(jobId);
      this.parts.requeue(e);
      return;
    }
    this.parts.settle(e, workerFailure(jobId, reason));
    await this.parts.removeJob(jobId);
  }

  onProgress(jobId: string, data: unknown): void {
    if (data === null || typeof data !== 'object') return;
    const { step, value, trialId } = data as { step?: unknown; value?: unknown; trialId?: unknown };
    const b = this.batches.book.get(jobId);
    const e = b === undefined ? this.table.get(jobId) : typeof trialId === 'number' ? b.members.get(trialId) : undefined;
    if (e?.onReport === undefined || e.settled) return;
    if (typeof step === 'number' && typeof value === 'number') {
      e.reportsSeen++;
      try {
        e.onReport(step, value);
      } catch (err) {
        this.health.noteError(err);
      }
    }
  }
}
