/**
 * Owns the coordinator's side of batch jobs between the executor and Redis (the rules are in
 * batches.ts): the jobs a flush adds for its packed trials and the batch map written before them,
 * re-attaching a resumed trial to its batch job, what a batch job's completion or failure does to
 * each member, removing a batch job (and its map fields) once every member is recorded, and
 * reading the workers' slots for the auto rule. The executor hands it its primitives (settle,
 * queue again, remove a job) as a BatchJobsHost.
 */
import type { Redis, ClusterKeys } from '../../redis/connection.js';
import type { ResultsStore } from '../../redis/results-store.js';
import { readHostFacts } from '../../redis/host-facts-store.js';
import { isServerError } from '../../redis/health.js';
import { batchJobData, invalidOutcome, workerFailure, type BatchOutcome, type Parsed, type WireOutcome } from '../../protocol/wire.js';
import { BatchBook, BatchSizer, memberVerdicts } from './batches.js';
import type { Batch, Entry } from './pending.js';
import type { FairShare } from './fair-share.js';

export interface BatchJobsHost {
  settle(e: Entry, outcome: WireOutcome): void;
  /** Queues the entry again for the next flush. */
  requeue(e: Entry): void;
  removeJob(jobId: string): Promise<void>;
  /** Looks the entry's job up in Redis soon (re-attach). */
  recheck(e: Entry): void;
  noteServerError(reason: string): void;
  log(message: string): void;
}

export interface BullJob {
  name: string;
  data: unknown;
  opts: Record<string, unknown>;
}

export class BatchJobs {
  readonly book: BatchBook;
  readonly sizer: BatchSizer;
  private slotsReadAt = 0;

  constructor(
    private readonly runId: string,
    setting: number | 'auto',
    private readonly store: ResultsStore,
    private readonly fair: FairShare,
    private readonly host: BatchJobsHost,
  ) {
    this.book = new BatchBook(runId);
    this.sizer = new BatchSizer(setting);
  }

  /** Loads what an earlier coordinator of the run left in the batch map (at start). */
  async loadResumeMap(): Promise<void> {
    this.book.setResumeMap(await this.store.loadBatchMap(this.runId));
  }

  /** A trial an earlier coordinator of the run put in a batch job (the batch map says which): re-attach to that job. */
  reattach(e: Entry): boolean {
    if (e.batch !== undefined || e.single === true) return false;
    const b = this.book.resumed(e.jobId);
    if (b === undefined) return false;
    e.batch = b;
    b.members.set(e.task.trialId, e);
    e.phase = 'added';
    e.addedAt = Date.now();
    this.host.recheck(e);
    return true;
  }

  /** Packs a flush's entries: the singles (the caller adds them), the batch jobs, and the batch map fields. */
  plan(entries: Entry[], inFlight: number, jobOptions: (e: { jobId: string; priority?: number | undefined }) => Record<string, unknown>): { singles: Entry[]; batches: Batch[]; jobs: BullJob[]; mapped: Record<string, string> } {
    const { singles, batches } = this.book.pack(entries, this.sizer.k(inFlight));
    const jobs: BullJob[] = [];
    const mapped: Record<string, string> = {};
    for (const b of batches) {
      b.priority ??= this.fair.next(b.members.size);
      const members = [...b.members.values()];
      for (const e of members) mapped[e.jobId] = b.id;
      jobs.push({ name: this.runId, data: batchJobData(this.runId, members.map((e) => e.task)), opts: jobOptions({ jobId: b.id, priority: b.priority }) });
    }
    return { singles, batches, jobs, mapped };
  }

  /** A batch job's returnvalue: each member settles, or goes again singly (batches.ts memberVerdicts). */
  onResult(b: Batch, p: Parsed<BatchOutcome | WireOutcome>): void {
    const { verdicts, runMs, ran } = memberVerdicts(b, p);
    for (const [e, v] of verdicts) {
      if (v === 'again') {
        this.requeueSingly(e);
        continue;
      }
      this.fair.finished(b.priority);
      this.host.settle(e, v.ok ? v.value : invalidOutcome(b.id, v.message));
    }
    if (!b.resumed && ran > 0) this.sizer.observe(Date.now() - b.addedAt, runMs, ran);
    // the fallback removal (the run acknowledges recorded trials first); a resumed batch's job
    // also holds outcomes of members not submitted again yet, so it waits for them
    if (!b.resumed) this.store.deleteLater(b.id);
  }

  /** BullMQ failed a batch job (stalled too often, attempts used up): each member as a single job would. */
  async onFailed(b: Batch, reason: string): Promise<void> {
    const members = [...b.members.values()].filter((m) => !m.settled);
    if (isServerError({ message: reason })) {
      this.host.noteServerError(reason);
      this.host.log(`job ${b.id} failed on a Redis error (${reason}); its ${members.length} trial(s) are queued again, not recorded`);
      await this.host.removeJob(b.id);
      for (const e of members) this.requeueSingly(e);
      return;
    }
    for (const e of members) this.host.settle(e, workerFailure(b.id, reason));
    await this.host.removeJob(b.id);
  }

  /** A batch member goes again as a job of its own (its trial job id was never used). */
  requeueSingly(e: Entry): void {
    const b = e.batch;
    if (this.book.detach(e) && b !== undefined) this.forget(b);
    e.phase = 'queued';
    this.host.requeue(e);
  }

  /** The run recorded this trial job; false when it is no batch member (its own job goes then). */
  recorded(jobId: string): boolean {
    const r = this.book.recorded(jobId);
    if (r?.done === true) this.forget(r.batch);
    return r !== undefined;
  }

  /** Every member of the batch is recorded or goes singly: its job and its batch map fields go. */
  private forget(b: Batch): void {
    this.store.deleteSoon(b.id);
    this.store.forgetBatch(this.runId, [...b.members.values()].map((m) => m.jobId));
  }

  /** The last member wanted was cancelled: the batch is given up (its late completion is cleaned up). */
  giveUp(b: Batch): void {
    this.book.drop(b);
    this.store.forgetBatch(this.runId, [...b.members.values()].map((m) => m.jobId));
  }

  /** Reads the workers' slots for the auto rule from their host facts: each tick while none are known, else every 5 s. */
  async readSlots(redis: Redis, keys: ClusterKeys, noteError: (err: unknown) => void): Promise<void> {
    const now = Date.now();
    if (this.sizer.setting !== 'auto' || now - this.slotsReadAt < (this.sizer.slots === undefined ? 0 : 5_000)) return;
    this.slotsReadAt = now;
    try {
      const { hosts } = await readHostFacts(redis, keys);
      this.sizer.slots = hosts.length === 0 ? undefined : hosts.reduce((n, h) => n + Math.min(h.concurrency, Math.max(1, h.cores)) + (h.prefetch ?? 0), 0);
    } catch (err) {
      noteError(err);
    }
  }
}
