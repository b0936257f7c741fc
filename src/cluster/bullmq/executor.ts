/**
 * Owns the coordinator side of the BullMQ backend: an Executor that puts EvalTasks on the queue
 * (job id `<runId>-<trialId>`, batched with addBulk), learns about completions from ONE QueueEvents
 * listener dispatching through a Map, backs that up with a periodic reconciliation sweep over the
 * durable results hash (events can be trimmed or missed), deletes each result once recorded, and
 * re-attaches to queued/running/finished jobs when a trial is submitted again (resume). Trials
 * submitted together may go as one batch job (batches.ts: which, how many, and the batch map a
 * resumed coordinator re-attaches through).
 */
import type { Queue } from '../../redis/bullmq.js';
import type { Redis } from '../../redis/connection.js';
import { DehbError } from '../../errors.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../protocol/executor.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import { ClusterChannel } from '../../redis/channel.js';
import { describeRedisError, withTimeout, type ClusterKeys } from '../../redis/connection.js';
import { TrialJobIds } from './trial-job-ids.js';
import { bullJobOptions, resolveClusterExecutorOptions, type ClusterExecutorOptions, type ResolvedClusterExecutorOptions } from './executor-options.js';
import { PendingTable, type Entry } from './pending.js';
import type { ResultsStore } from '../../redis/results-store.js';
import { CANCEL_REQUEST_REASON, invalidOutcome, jobData, parseBatchOutcome, parseOutcome, parseStoredOutcome, parseTask, workerFailure, type Parsed, type WireOutcome } from '../../protocol/wire.js';
import { BatchJobs } from './batch-jobs.js';
import type { Batch } from './pending.js';
import { BrokerHealth, isServerError } from '../../redis/health.js';
import { claimRun, releaseRun, type RunOwner } from '../../redis/run-claim.js';
import { WaitingReport } from './waiting-report.js';
import { FairShare, checkWeight, fairShareKey } from './fair-share.js';

export type { ClusterExecutorOptions } from './executor-options.js';

export class BullmqExecutor implements Executor {
  readonly capacity: number;
  readonly runId: string;
  private readonly channel: ClusterChannel;
  private readonly keys: ClusterKeys;
  private readonly queue: Queue;
  private readonly redis: Redis;
  private readonly store: ResultsStore;
  private readonly cancelling = new Set<Promise<void>>();
  private readonly table: PendingTable;
  private readonly opts: ResolvedClusterExecutorOptions;
  private readonly where: string;
  private readonly health: BrokerHealth;
  private readonly owner: RunOwner | undefined;
  private readonly waiting: WaitingReport;
  private readonly fair: FairShare;
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly jobIds: TrialJobIds;
  private readonly batches: BatchJobs;
  /** Entries whose add was a duplicate, to reconcile in the next tick. */
  private readonly recheck = new Set<Entry>();
  /** Entries whose completed event carried an unusable result, to check against their job. */
  private readonly recheckOther = new Set<Entry>();
  private recheckScheduled = false;
  private saidEnvCwd = false;
  private stopRequested = false;
  /** Some submissions were resolved without their outcome: their stored results must stay for a resume. */
  private leftForResume = false;
  private closing: Promise<void> | undefined;
  /** Settles when the queue and the event listener are connected (rejects with E_BROKER). */
  readonly ready: Promise<void>;
  /** Counters for tests and benchmarks. */
  readonly stats = { added: 0, reattached: 0, readded: 0, fromEvents: 0, fromSweep: 0, cancelled: 0, batchJobs: 0, batchedTrials: 0 };

  constructor(
    conn: ClusterConnection,
    runId: string,
    o: ClusterExecutorOptions,
    private readonly log: (message: string) => void,
  ) {
    this.runId = runId;
    this.jobIds = new TrialJobIds(runId);
    this.owner = o.owner;
    this.opts = resolveClusterExecutorOptions(o, conn);
    this.capacity = this.opts.capacity;
    this.channel = new ClusterChannel(conn, `dehb:coordinator:${runId}`, this.opts.eventsMaxLen, {
      completed: (id, rv) => this.onCompleted(id, rv),
      duplicated: (id) => this.onDuplicated(id),
      failed: (id, reason) => void this.onFailed(id, reason),
      progress: (id, data) => this.onProgress(id, data),
      error: (err) => this.health.noteError(err),
    });
    ({ keys: this.keys, queue: this.queue, redis: this.redis, store: this.store, where: this.where } = this.channel);
    this.health = new BrokerHealth(this.where, this.opts.brokerTimeoutMs, log);
    this.health.watch(this.redis);
    this.waiting = new WaitingReport(this.queue, this.health, this.opts.noWorkerWarnMs, log);
    this.table = new PendingTable();
    this.fair = new FairShare(this.redis, fairShareKey(this.keys.base), checkWeight(o.weight));
    this.batches = new BatchJobs(runId, this.opts.trialsPerJob, this.store, this.fair, {
      settle: (e, outcome) => this.settle(e, outcome),
      requeue: (e) => this.table.requeue(e, () => void this.flush()),
      removeJob: (id) => this.removeJob(id),
      recheck: (e) => this.recheckSoon(e, 'reattached'),
      noteServerError: (reason) => this.health.noteError(new Error(reason), 'write'),
      log,
    });
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  /** Connects the queue and the event listener, then starts the sweep. */
  private async start(): Promise<void> {
    await this.channel.open(this.opts.connectTimeoutMs);
    if (this.owner !== undefined) {
      try {
        await claimRun(this.redis, this.keys, this.runId, this.owner);
      } catch (err) {
        await this.channel.close(1_000);
        throw err instanceof DehbError ? err : new DehbError('E_BROKER', describeRedisError(err, this.where), { cause: err });
      }
    }
    // trials an earlier coordinator of this run put in batch jobs (resume): re-attached through the map
    await this.batches.loadResumeMap();
    await this.syncFairShare(); // the first jobs start at the queue's current round
    void this.readSlots();

    if (this.fair.weight !== 1) this.log(`run ${this.runId}: fair-share weight ${this.fair.weight} (${this.fair.weight}x the share of a run with weight 1)`);
    this.timer = setInterval(() => this.tick(), this.opts.reconcileIntervalMs);
    this.timer.unref();
  }

  /** Fair share is best effort: a failed sync keeps the last known round. */
  private syncFairShare(): Promise<void> {
    return this.fair.sync().catch((err: unknown) => this.health.noteError(err));
  }

  submit(task: EvalTask, opts: SubmitOptions = {}): Promise<EvalOutcome> {
    if (this.closing !== undefined) {
      return Promise.reject(new DehbError('E_EXECUTOR', 'the cluster executor is closed; create a new one'));
    }
    const parsed = parseTask(task);
    if (!parsed.ok) {
      return Promise.reject(new DehbError('E_EXECUTOR', `cannot submit trial ${String(task?.trialId)}: ${parsed.message}`));
    }
    if (task.runId !== this.runId) {
      return Promise.reject(
        new DehbError('E_EXECUTOR', `task.runId "${task.runId}" differs from the executor's runId "${this.runId}"`),
      );
    }
    if (task.objective.kind === 'function') {
      return Promise.reject(
        new DehbError('E_CONFIG', 'function objectives run in-process only; give cluster workers a module or command objective'),
      );
    }
    if (this.health.downTooLong()) return Promise.reject(this.health.error());
    const jobId = this.jobIds.next(task.trialId);
    const existing = this.table.get(jobId);
    if (existing !== undefined) return existing.promise;
    if (opts.signal?.aborted === true) return Promise.resolve({ status: 'cancelled', reason: 'aborted before submit' });
    const ref = task.objective;
    if (ref.kind === 'command' && (ref.cwd !== undefined || ref.env !== undefined) && !this.saidEnvCwd) {
      this.saidEnvCwd = true;
      this.log(
        'objective cwd/env are not sent to cluster workers (a job carries data, not instructions): workers run the command in their own working directory and environment',
      );
    }
    const entry = this.table.create(jobId, jobData(task), opts);
    if (opts.signal !== undefined) {
      const signal = opts.signal;
      const onAbort = (): void => this.abort(entry, 'cancelled by the coordinator');
      signal.addEventListener('abort', onAbort, { once: true });
      entry.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.table.enqueue(entry, () => void this.flush());
    return entry.promise;
  }

  /**
   * Adds queued entries in batches: one addBulk (or add) per batch, nothing read first. A trial an
   * earlier coordinator of this run already queued or finished is a duplicate job id: BullMQ keeps
   * the job it has and emits `duplicated`, and onDuplicated re-attaches to it.
   */
  private async flush(): Promise<void> {
    for (;;) {
      const batch = this.table.takeBatch(this.opts.maxBatch);
      if (batch.length === 0) return;
      try {
        await this.ready;
        const rest = batch.filter((e) => !e.settled && !this.batches.reattach(e));
        const { singles, batches, jobs: batchJobs, mapped } = this.batches.plan(rest, this.table.size, (e) => bullJobOptions(e, this.opts));
        for (const e of singles) e.priority ??= this.fair.next();
        const jobs = [...singles.map((e) => ({ name: this.runId, data: e.task as unknown, opts: bullJobOptions(e, this.opts) })), ...batchJobs];
        // the batch map first, on the queue's own connection (so Redis has it before the jobs: a
        // coordinator killed after the add is resumed through it), in the same round trip
        const client = batches.length > 0 ? await this.queue.getBackend().client : undefined;
        const map = client?.hset(this.store.batchMapKey(this.runId), mapped);
        if (jobs.length === 1) {
          const j = jobs[0] as (typeof jobs)[number];
          await Promise.all([map, this.queue.add(j.name, j.data, j.opts)]);
        } else if (jobs.length > 1) {
          await Promise.all([map, this.queue.addBulk(jobs)]);
        }
        this.stats.added += jobs.length;
        this.stats.batchJobs += batches.length;
        const now = Date.now();
        for (const b of batches) {
          b.addedAt = now;
          this.stats.batchedTrials += b.members.size;
        }
        for (const e of rest) {
          if (e.phase === 'adding') e.phase = 'added';
          e.addedAt = now;
          if (e.cancelAfterAdd) this.cancelRemoteTracked(e);
        }
        this.health.commandOk('write');
      } catch (err) {
        if (err instanceof DehbError || this.health.downTooLong()) {
          const error = err instanceof DehbError ? err : this.health.error();
          for (const e of batch) {
            if (e.settled) continue;
            this.table.abandon(e.jobId);
            this.table.fail(e, error);
          }
        } else {
          // Redis refused or is unreachable: an infrastructure fault, not the trials'. They stay
          // queued here and are added again until the broker timeout says otherwise.
          this.health.noteError(err, 'write');
          this.retryLater(batch);
        }
      }
    }
  }

  private retryLater(batch: Entry[]): void {
    const t = setTimeout(() => {
      for (const e of batch) if (!e.settled && e.phase === 'adding') this.table.requeue(e, () => void this.flush());
    }, 1_000);
    t.unref();
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    this.health.completed();
    const b = this.batches.book.get(jobId);
    if (b !== undefined) {
      const p = parseBatchOutcome(returnvalue);
      const some = [...b.members.values()].find((m) => !m.settled);
      // as below: an unusable event is checked against the job itself
      if (!p.ok) {
        if (some !== undefined) this.recheckSoon(some);
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
      this.recheckSoon(e);
      return;
    }
    this.stats.fromEvents++;
    // measures the per-job overhead for the auto trials-per-job rule (batches.ts)
    if (e.phase === 'added' && !e.settled) this.batches.sizer.observe(Date.now() - e.addedAt, p.value.durationMs ?? 0, 1);
    this.onResult(e, p);
  }

  /** The job's returnvalue, validated (anything from Redis is untrusted): settle, or queue again. */
  private onResult(e: Entry, p: Parsed<WireOutcome>): void {
    if (e.settled) return;
    if (p.ok && p.value.status === 'cancelled' && p.value.reason === CANCEL_REQUEST_REASON) {
      // an earlier coordinator cancelled this job id; we still want the trial: drop the finished
      // job (kept on completion) and queue it again
      e.phase = 'requeueing';
      void this.store
        .removeFinished([e.jobId])
        .catch((err: unknown) => this.health.noteError(err))
        .finally(() => {
          if (!e.settled) this.table.requeue(e, () => void this.flush());
        });
      return;
    }
    this.fair.finished(e.priority);
    this.settle(e, p.ok ? p.value : invalidOutcome(e.jobId, p.message));
    this.store.deleteLater(e.jobId);
  }

  /** Our add found the job id taken (an earlier coordinator's job): find out now where it is. */
  private onDuplicated(jobId: string): void {
    const b = this.batches.book.get(jobId);
    const some = b === undefined ? undefined : [...b.members.values()].find((m) => !m.settled);
    if (some !== undefined) return this.recheckSoon(some, 'reattached');
    const e = this.table.get(jobId);
    if (e !== undefined) this.recheckSoon(e, 'reattached');
  }

  /** Reconciles the entry with what Redis holds for its job, batched with others in the next tick. */
  private recheckSoon(e: Entry, counter: 'reattached' | 'fromSweep' = 'fromSweep'): void {
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

  private async onFailed(jobId: string, reason: string): Promise<void> {
    const b = this.batches.book.get(jobId);
    if (b !== undefined) return this.batches.onFailed(b, reason);
    const e = this.table.get(jobId);
    if (e === undefined) {
      if (this.table.unabandon(jobId)) await this.removeJob(jobId);
      return;
    }
    if (isServerError({ message: reason })) {
      // the job failed because Redis refused a command (OOM, READONLY...): not a trial result
      this.health.noteError(new Error(reason), 'write');
      this.log(`job ${jobId} failed on a Redis error (${reason}); the trial is queued again, not recorded`);
      await this.removeJob(jobId);
      this.table.requeue(e, () => void this.flush());
      return;
    }
    this.settle(e, workerFailure(jobId, reason));
    await this.removeJob(jobId);
  }

  private onProgress(jobId: string, data: unknown): void {
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

  private async removeJob(jobId: string): Promise<void> {
    await this.queue.remove(jobId).catch(() => 0);
  }

  /** Abort of one submission: resolve cancelled now; remove the job if waiting, else ask its worker to stop. */
  private abort(e: Entry, reason: string): void {
    if (e.settled) return;
    this.stats.cancelled++;
    const phase = e.phase; // a queued entry has no job yet: nothing to abandon or cancel remotely
    if (phase !== 'queued') this.table.abandon(e.jobId);
    this.settle(e, { status: 'cancelled', reason });
    if (phase === 'adding') e.cancelAfterAdd = true;
    else if (phase !== 'queued') this.cancelRemoteTracked(e);
  }

  private cancelRemoteTracked(e: Entry): void {
    const p = this.cancelRemote(e).finally(() => this.cancelling.delete(p));
    this.cancelling.add(p);
  }

  /**
   * A single job waiting is removed, else its worker is asked to stop it. A batch member: while
   * other members are wanted the worker is asked to skip or stop this one (cancel by trial job
   * id); the last one wanted removes the waiting batch job, or stops it likewise.
   */
  private async cancelRemote(e: Entry): Promise<void> {
    const b = e.batch;
    const jobId = b?.id ?? e.jobId;
    try {
      const last = b === undefined || [...b.members.values()].every((m) => m.settled);
      if (b !== undefined && last) {
        this.table.abandon(b.id);
        this.batches.giveUp(b);
      }
      const removed = last ? await this.queue.remove(jobId) : 0;
      if (removed === 1) {
        this.table.unabandon(jobId);
        return;
      }
      await this.redis.publish(this.keys.cancelChannel, JSON.stringify({ jobId: e.jobId, at: Date.now() }));
    } catch (err) {
      this.health.noteError(err);
    }
  }

  private tick(): void {
    if (this.health.downTooLong()) {
      const err = this.health.error();
      for (const e of this.table.all()) {
        this.table.abandon(e.jobId);
        this.table.fail(e, err);
      }
      return;
    }
    if ((this.stopRequested || this.closing !== undefined) && this.health.isDown) this.leaveForResume();
    if (!this.health.connected) return;
    void this.sweep();
    void this.syncFairShare();
    void this.readSlots();
    if (this.health.writesFailing) void this.probeWrites();
  }

  private readSlots(): Promise<void> {
    return this.batches.readSlots(this.redis, this.keys, (err) => this.health.noteError(err, 'read'));
  }

  /** While writes fail: one tiny expiring write per tick tells when Redis accepts them again. */
  private async probeWrites(): Promise<void> {
    try {
      await this.redis.set(`${this.keys.base}:dehb:health`, String(Date.now()), 'PX', 1_000);
      this.health.commandOk('write');
    } catch (err) {
      this.health.noteError(err, 'write');
    }
  }

  /**
   * The run stops: with the broker down or failing, outcomes cannot arrive, so every submission
   * resolves as cancelled now (its job stays on the queue and a resume re-attaches to it). With a
   * healthy broker running trials finish as usual; should it fail meanwhile, the next tick does this.
   */
  interrupt(): void {
    this.stopRequested = true;
    if (this.health.isDown) this.leaveForResume();
  }

  private leaveForResume(): void {
    const entries = this.table.all();
    if (entries.length === 0) return;
    this.leftForResume = true;
    this.log(`Redis is not usable (${this.where}); ${entries.length} trial(s) in flight stay pending for a resume`);
    for (const e of entries) this.settle(e, { status: 'cancelled', reason: 'broker unavailable (job left for a resume)' });
  }

  /** Asks Redis where these jobs are (one script call per 500) and acts on what it says. */
  private async reconcileEntries(entries: Entry[], counter: 'reattached' | 'fromSweep'): Promise<void> {
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const idOf = (e: Entry): string => e.batch?.id ?? e.jobId;
      const states = await this.store.reconcile([...new Set(chunk.map(idOf))]);
      const seen = new Set<Batch>();
      for (const e of chunk) {
        const b = e.batch;
        const st = states.get(idOf(e));
        if (e.settled || st === undefined || e.phase === 'queued' || e.phase === 'requeueing') continue;
        if (b !== undefined && seen.has(b)) continue; // one batch job answers for all its members
        if (b !== undefined) seen.add(b);
        if (st.state === 'result') {
          this.stats[counter]++;
          if (b !== undefined) this.batches.onResult(b, parseStoredOutcome(st.text, true));
          else this.onResult(e, parseStoredOutcome(st.text, false) as Parsed<WireOutcome>);
        } else if (st.state === 'failed') {
          await this.onFailed(idOf(e), st.reason);
        } else if (st.state === 'missing' && e.phase === 'added') {
          this.stats.readded++;
          this.log(`job ${idOf(e)} vanished from Redis without a result (restart without persistence?); queued again`);
          if (b === undefined) this.table.requeue(e, () => void this.flush());
          else for (const m of [...b.members.values()]) if (!m.settled) this.batches.requeueSingly(m);
        }
      }
    }
  }

  /** Reconciles jobs in flight for longer than one interval against the results hash and job state. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closing !== undefined) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      const due = this.table.all().filter((e) => e.phase === 'added' && now - e.addedAt >= this.opts.reconcileIntervalMs);
      await this.reconcileEntries(due, 'fromSweep');
      this.health.commandOk('read');
      this.table.pruneAbandoned(now - 3_600_000);
      await this.waiting.check(this.table.all(), now);
    } catch (err) {
      this.health.noteError(err, 'read');
    } finally {
      this.sweeping = false;
    }
  }

  /** Settles an entry's promise and counts the evaluation (a later submit of the trial is a retry). */
  private settle(e: Entry, outcome: WireOutcome): void {
    if (e.settled) return;
    this.jobIds.settle(e.task.trialId);
    this.table.settle(e, outcome);
  }

  /** The run has recorded this trial's outcome durably: its stored result can go now. */
  recorded(task: EvalTask): void {
    const jobId = this.jobIds.recorded(task.trialId);
    if (!this.batches.recorded(jobId)) this.store.deleteSoon(jobId);
  }

  close(opts: { force?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      // with the broker gone nothing below can succeed: every step gets a short bound instead
      const bound = (): number => (this.health.isDown ? 1_000 : this.opts.closeTimeoutMs);
      if (opts.force === true) {
        for (const e of this.table.all()) {
          if (this.opts.cancelOnClose && !this.health.isDown) this.abort(e, 'executor closed');
          else this.settle(e, { status: 'cancelled', reason: 'executor closed (job left for a resume)' });
        }
        await withTimeout(Promise.allSettled([...this.cancelling]), bound(), () => undefined);
      } else {
        if (this.health.isDown) this.leaveForResume();
        await this.table.drained();
        // everything submitted is recorded: no stored result of this run is needed any more
        if (!this.leftForResume && !this.health.isDown) await withTimeout(this.release().catch(() => undefined), bound(), () => undefined);
      }
      if (this.timer !== undefined) clearInterval(this.timer);
      await this.channel.close(bound());
    })();
    return this.closing;
  }

  /** Deletes the run's stored results and gives its id back. */
  private async release(): Promise<void> {
    await this.channel.store.purgeRun(this.runId);
    if (this.owner !== undefined) await releaseRun(this.redis, this.keys, this.runId, this.owner.instance);
  }
}
