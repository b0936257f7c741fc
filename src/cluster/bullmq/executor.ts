/**
 * Owns the coordinator side of the BullMQ backend: an Executor that puts EvalTasks on the queue
 * (job id `<runId>-<trialId>`, batched with addBulk), learns about completions from ONE QueueEvents
 * listener (what each event does: executor-events.ts), backs that up with a periodic reconciliation
 * sweep over the durable results hash (events can be trimmed or missed; executor-recovery.ts),
 * cancels submissions, deletes each result once recorded, and re-attaches to queued/running/finished
 * jobs when a trial is submitted again (resume). Trials submitted together may go as one batch job
 * (batches.ts: which, how many, and the batch map a resumed coordinator re-attaches through). This
 * file owns the life cycle (start, tick, interrupt, close) and wires those parts together.
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
import { jobIdOf, PendingTable, type Entry } from './pending.js';
import type { ResultsStore } from '../../redis/results-store.js';
import { jobData, parseTask, type WireOutcome } from '../../protocol/wire.js';
import { BatchJobs } from './batch-jobs.js';
import { JobEvents } from './executor-events.js';
import { Recovery } from './executor-recovery.js';
import { BrokerHealth } from '../../redis/health.js';
import { claimRun, releaseRun, type RunOwner } from '../../redis/run-claim.js';
import { coordinatorClientName } from '../../redis/run-list.js';
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
  private readonly jobIds: TrialJobIds;
  private readonly batches: BatchJobs;
  private readonly events: JobEvents;
  private readonly recovery: Recovery;
  private saidEnvCwd = false;
  private stopRequested = false;
  private closing: Promise<void> | undefined;
  /** Settles when the queue and the event listener are connected (rejects with E_BROKER). */
  readonly ready: Promise<void>;
  /** Where the connection came from (a scheduler file's path): named in messages. */
  private readonly source: string | undefined;
  /** Counters for tests and benchmarks. */
  readonly stats = { added: 0, reattached: 0, readded: 0, fromEvents: 0, fromSweep: 0, cancelled: 0, batchJobs: 0, batchedTrials: 0 };

  constructor(
    conn: ClusterConnection,
    runId: string,
    o: ClusterExecutorOptions,
    private readonly log: (message: string) => void,
  ) {
    this.runId = runId;
    this.source = conn.source;
    this.jobIds = new TrialJobIds(runId);
    this.owner = o.owner;
    this.opts = resolveClusterExecutorOptions(o, conn);
    this.capacity = this.opts.capacity;
    this.channel = new ClusterChannel(conn, coordinatorClientName(runId), this.opts.eventsMaxLen, {
      completed: (id, rv) => this.events.onCompleted(id, rv),
      duplicated: (id) => this.events.onDuplicated(id),
      failed: (id, reason) => void this.events.onFailed(id, reason),
      progress: (id, data) => this.events.onProgress(id, data),
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
      requeue: (e) => this.requeue(e),
      removeJob: (id) => this.removeJob(id),
      recheck: (e) => this.recovery.recheckSoon(e, 'reattached'),
      noteServerError: (reason) => this.health.noteError(new Error(reason), 'write'),
      log,
    });
    const common = {
      table: this.table,
      batches: this.batches,
      store: this.store,
      health: this.health,
      stats: this.stats,
      settle: (e: Entry, outcome: WireOutcome) => this.settle(e, outcome),
      requeue: (e: Entry) => this.requeue(e),
      log,
    };
    this.events = new JobEvents({
      ...common,
      fair: this.fair,
      removeJob: (id) => this.removeJob(id),
      recheck: (e, counter) => this.recovery.recheckSoon(e, counter),
    });
    this.recovery = new Recovery({
      ...common,
      waiting: this.waiting,
      events: this.events,
      reconcileIntervalMs: this.opts.reconcileIntervalMs,
      where: this.where,
      closing: () => this.closing !== undefined,
    });
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  /** Connects the queue and the event listener, then starts the sweep. */
  private async start(): Promise<void> {
    await this.channel.open(this.opts.connectTimeoutMs);
    if (this.owner !== undefined) {
      try {
        await claimRun(this.redis, this.keys, this.runId, this.owner, this.source);
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
   * the job it has and emits `duplicated`, and JobEvents.onDuplicated re-attaches to it.
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

  /** Queues the entry again for the next flush. */
  private requeue(e: Entry): void {
    this.table.requeue(e, () => void this.flush());
  }

  private retryLater(batch: Entry[]): void {
    const t = setTimeout(() => {
      for (const e of batch) if (!e.settled && e.phase === 'adding') this.requeue(e);
    }, 1_000);
    t.unref();
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
    const jobId = jobIdOf(e);
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
    if ((this.stopRequested || this.closing !== undefined) && this.health.isDown) this.recovery.leaveForResume();
    if (!this.health.connected) return;
    if (this.stopRequested) void this.leaveUnstarted();
    void this.recovery.sweep();
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
   * Trials no worker has taken resolve as cancelled now (they may never be taken: no worker, or
   * only ones that stopped taking work): a run's waiting jobs are removed, a study's
   * (cancelOnClose false) stay queued for the next lease holder, which re-attaches to them.
   */
  interrupt(): void {
    this.stopRequested = true;
    if (this.health.isDown) this.recovery.leaveForResume();
    else void this.leaveUnstarted();
  }

  private leaveUnstarted(): Promise<void> {
    return this.recovery.leaveUnstarted(this.opts.cancelOnClose ? (e) => this.abort(e, 'the run stopped before a worker took it') : undefined);
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
        if (this.health.isDown) this.recovery.leaveForResume();
        await this.table.drained();
        // everything submitted is recorded: no stored result of this run is needed any more
        if (!this.recovery.leftForResume && !this.health.isDown) await withTimeout(this.release().catch(() => undefined), bound(), () => undefined);
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
