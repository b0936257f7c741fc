/**
 * Owns the coordinator's recovery of trials that events did not (or could not) settle: re-checking
 * entries against what Redis holds for their jobs (an add found the job id taken, an event carried
 * an unusable result, a trial re-attached to a batch job), batched in the next tick into one script
 * call per 500; the periodic sweep over jobs in flight for longer than one interval (events can be
 * trimmed or missed), queueing again a job that vanished without a result; and, when the broker is
 * unusable as the run stops, leaving the submissions in flight for a resume; when it is healthy,
 * settling at once the submissions no worker has taken. The executor hands it
 * its parts as RecoveryParts; outcomes found go through the same JobEvents paths as events.
 */
import type { ResultsStore } from '../../redis/results-store.js';
import { parseStoredOutcome, type Parsed, type WireOutcome } from '../../protocol/wire.js';
import type { BrokerHealth } from '../../redis/health.js';
import type { BatchJobs } from './batch-jobs.js';
import type { JobEvents, RecheckCounter } from './executor-events.js';
import { jobIdOf, type Batch, type Entry, type PendingTable } from './pending.js';
import type { WaitingReport } from './waiting-report.js';

export interface RecoveryParts {
  table: PendingTable;
  batches: BatchJobs;
  store: ResultsStore;
  health: BrokerHealth;
  waiting: WaitingReport;
  events: JobEvents;
  /** The executor's counters (a re-check's result adds to `reattached` or `fromSweep`). */
  stats: Record<RecheckCounter | 'readded', number>;
  reconcileIntervalMs: number;
  /** The broker's address, for the log. */
  where: string;
  /** True once the executor is closing (the sweep stops). */
  closing(): boolean;
  settle(e: Entry, outcome: WireOutcome): void;
  /** Queues the entry again for the next flush. */
  requeue(e: Entry): void;
  log(message: string): void;
}

export class Recovery {
  private readonly table: PendingTable;
  private readonly batches: BatchJobs;
  private readonly store: ResultsStore;
  private readonly health: BrokerHealth;
  /** Entries whose add was a duplicate, to reconcile in the next tick. */
  private readonly recheck = new Set<Entry>();
  /** Entries whose completed event carried an unusable result, to check against their job. */
  private readonly recheckOther = new Set<Entry>();
  private recheckScheduled = false;
  private sweeping = false;
  private leftSome = false;
  private leaving = false;

  constructor(private readonly parts: RecoveryParts) {
    ({ table: this.table, batches: this.batches, store: this.store, health: this.health } = parts);
  }

  /** Some submissions were resolved without their outcome: their stored results must stay for a resume. */
  get leftForResume(): boolean {
    return this.leftSome;
  }

  /** Reconciles the entry with what Redis holds for its job, batched with others in the next tick. */
  recheckSoon(e: Entry, counter: RecheckCounter = 'fromSweep'): void {
    if (e.settled) return;
    (counter === 'reattached' ? this.recheck : this.recheckOther).add(e);
    if (this.recheckScheduled) return;
    this.recheckScheduled = true;
    setImmediate(() => {
      this.recheckScheduled = false;
      for (const [set, c] of [[this.recheck, 'reattached'], [this.recheckOther, 'fromSweep']] as const) {
        const due = [...set];
        set.clear();
        if (due.length > 0) void this.reconcileEntries(due, c).catch((err: unknown) => this.health.noteError(err, 'read'));
      }
    });
  }

  /** Asks Redis where these jobs are (one script call per 500) and acts on what it says. */
  private async reconcileEntries(entries: Entry[], counter: RecheckCounter): Promise<void> {
    const { events, stats } = this.parts;
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const states = await this.store.reconcile([...new Set(chunk.map(jobIdOf))]);
      const seen = new Set<Batch>();
      for (const e of chunk) {
        const b = e.batch;
        const st = states.get(jobIdOf(e));
        if (e.settled || st === undefined || e.phase === 'queued' || e.phase === 'requeueing') continue;
        if (b !== undefined && seen.has(b)) continue; // one batch job answers for all its members
        if (b !== undefined) seen.add(b);
        if (st.state === 'result') {
          stats[counter]++;
          if (b !== undefined) this.batches.onResult(b, parseStoredOutcome(st.text, true));
          else events.onResult(e, parseStoredOutcome(st.text, false) as Parsed<WireOutcome>);
        } else if (st.state === 'failed') {
          await events.onFailed(jobIdOf(e), st.reason);
        } else if (st.state === 'missing' && e.phase === 'added') {
          stats.readded++;
          this.parts.log(`job ${jobIdOf(e)} vanished from Redis without a result (restart without persistence?); queued again`);
          if (b === undefined) this.parts.requeue(e);
          else for (const m of [...b.members.values()]) if (!m.settled) this.batches.requeueSingly(m);
        }
      }
    }
  }

  /** Reconciles jobs in flight for longer than one interval against the results hash and job state. */
  async sweep(): Promise<void> {
    if (this.sweeping || this.parts.closing()) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      const due = this.table.all().filter((e) => e.phase === 'added' && now - e.addedAt >= this.parts.reconcileIntervalMs);
      await this.reconcileEntries(due, 'fromSweep');
      this.health.commandOk('read');
      this.table.pruneAbandoned(now - 3_600_000);
      await this.parts.waiting.check(this.table.all(), now);
    } catch (err) {
      this.health.noteError(err, 'read');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * The run stops with a healthy broker: a submission whose job no worker holds yet (queued here,
   * or waiting on the queue) will not run before the stop, so it goes to `leave` now (cancelled:
   * the trial stays pending); running jobs finish as usual. Called at the stop and on each tick
   * after it (an add in progress, a dead worker's lock that has not expired yet). `cancel` given
   * (a run that cancels on close): it takes such a submission instead, removing its job.
   */
  async leaveUnstarted(cancel?: (e: Entry) => void): Promise<void> {
    const leave = cancel ?? ((e: Entry) => this.leave(e, 'stopped before a worker took it (job left queued for the next lease holder)'));
    if (this.leaving) return;
    this.leaving = true;
    try {
      const open = this.table.all().filter((e) => !e.settled);
      for (const e of open) if (e.phase === 'queued') leave(e);
      const added = open.filter((e) => e.phase === 'added');
      if (added.length === 0) return;
      const states = await this.store.reconcile([...new Set(added.map(jobIdOf))]);
      for (const e of added) {
        const st = states.get(jobIdOf(e));
        if (!e.settled && st?.state === 'pending' && !st.running) leave(e);
      }
    } catch (err) {
      this.health.noteError(err, 'read');
    } finally {
      this.leaving = false;
    }
  }

  /** The broker is unusable as the run stops: every submission in flight resolves as cancelled, its job left for a resume. */
  leaveForResume(): void {
    const entries = this.table.all();
    if (entries.length === 0) return;
    this.parts.log(`Redis is not usable (${this.parts.where}); ${entries.length} trial(s) in flight stay pending for a resume`);
    for (const e of entries) this.leave(e, 'broker unavailable (job left for a resume)');
  }

  /** Resolves the submission as cancelled, its job left where it is: its stored result must stay for whoever resumes. */
  private leave(e: Entry, reason: string): void {
    this.leftSome = true;
    this.parts.settle(e, { status: 'cancelled', reason });
  }
}
