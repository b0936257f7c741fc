/**
 * Owns the coordinator side of the BullMQ backend: an Executor that puts EvalTasks on the queue
 * (job id `<runId>-<trialId>`, batched with addBulk), learns about completions from ONE QueueEvents
 * listener dispatching through a Map, backs that up with a periodic reconciliation sweep over the
 * durable results hash (events can be trimmed or missed), deletes each result once recorded, and
 * re-attaches to queued/running/finished jobs when a trial is submitted again (resume).
 */
import type { Queue } from '../../redis/bullmq.js';
import type { Redis } from '../../redis/connection.js';
import { DehbError } from '../../errors.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../protocol/executor.js';
import { loadClusterConnection, type ClusterConnection } from '../../protocol/scheduler-file.js';
import { ClusterChannel } from '../../redis/channel.js';
import { checkRunId, describeRedisError, jobIdFor, withTimeout, type ClusterKeys } from '../../redis/connection.js';
import { CLUSTER_EXECUTOR_OPTION_KEYS, resolveClusterExecutorOptions, type ClusterExecutorOptions, type ResolvedClusterExecutorOptions } from './executor-options.js';
import { rejectUnknownKeys } from '../../unknown-keys.js';
import { PendingTable, type Entry } from './pending.js';
import { assessRedis, probeRedis } from '../../redis/probe.js';
import type { ResultsStore } from '../../redis/results-store.js';
import { CANCEL_REQUEST_REASON, invalidOutcome, parseOutcome, parseTask, workerFailure, type Parsed } from '../../protocol/wire.js';
import { BrokerHealth } from '../../redis/health.js';

export type { ClusterExecutorOptions } from './executor-options.js';

function defaultLog(message: string): void {
  process.stderr.write(`dehb: ${message}\n`);
}

/** Creates a connected cluster executor. Throws E_BROKER when Redis cannot be reached. */
export async function createClusterExecutor(opts: ClusterExecutorOptions): Promise<BullmqExecutor> {
  rejectUnknownKeys(opts, CLUSTER_EXECUTOR_OPTION_KEYS, 'createClusterExecutor(options)');
  const runId = checkRunId(opts.runId);
  let conn = opts.connection;
  if (conn === undefined) {
    if (opts.schedulerFile === undefined) {
      throw new DehbError('E_CONFIG', 'createClusterExecutor needs schedulerFile or connection');
    }
    conn = await loadClusterConnection(opts.schedulerFile);
  }
  const log = opts.log ?? defaultLog;
  const facts = await probeRedis(conn.endpoint, { timeoutMs: opts.connectTimeoutMs ?? 10_000 });
  for (const f of assessRedis(facts)) {
    if (f.level === 'error' && f.what === 'version') throw new DehbError('E_BROKER', f.message);
    if (f.level !== 'ok' && f.what === 'maxmemory-policy') log(`warning: ${f.message}`);
  }
  const exec = new BullmqExecutor(conn, runId, opts, log);
  await exec.ready;
  return exec;
}

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
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private closing: Promise<void> | undefined;
  /** Settles when the queue and the event listener are connected (rejects with E_BROKER). */
  readonly ready: Promise<void>;
  /** Counters for tests and benchmarks. */
  readonly stats = { added: 0, reattached: 0, readded: 0, fromEvents: 0, fromSweep: 0, cancelled: 0 };

  constructor(
    conn: ClusterConnection,
    runId: string,
    o: ClusterExecutorOptions,
    private readonly log: (message: string) => void,
  ) {
    this.runId = runId;
    this.opts = resolveClusterExecutorOptions(o, conn);
    this.capacity = this.opts.capacity;
    this.channel = new ClusterChannel(conn, `dehb:coordinator:${runId}`, this.opts.eventsMaxLen, {
      completed: (id, rv) => this.onCompleted(id, rv),
      failed: (id, reason) => void this.onFailed(id, reason),
      progress: (id, data) => this.onProgress(id, data),
      error: (err) => this.health.noteError(err),
    });
    ({ keys: this.keys, queue: this.queue, redis: this.redis, store: this.store, where: this.where } = this.channel);
    this.health = new BrokerHealth(this.where, this.opts.brokerTimeoutMs, log);
    this.health.watch(this.redis);
    this.table = new PendingTable();
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  /** Connects the queue and the event listener, then starts the sweep. */
  private async start(): Promise<void> {
    await this.channel.open(this.opts.connectTimeoutMs);
    this.timer = setInterval(() => this.tick(), this.opts.reconcileIntervalMs);
    this.timer.unref();
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
    const jobId = jobIdFor(this.runId, task.trialId);
    const existing = this.table.get(jobId);
    if (existing !== undefined) return existing.promise;
    if (opts.signal?.aborted === true) return Promise.resolve({ status: 'cancelled', reason: 'aborted before submit' });
    const entry = this.table.create(jobId, task, opts);
    if (opts.signal !== undefined) {
      const signal = opts.signal;
      const onAbort = (): void => this.abort(entry, 'cancelled by the coordinator');
      signal.addEventListener('abort', onAbort, { once: true });
      entry.cleanup = () => signal.removeEventListener('abort', onAbort);
    }
    this.table.enqueue(entry, () => void this.flush());
    return entry.promise;
  }

  /** Adds queued entries in batches: stored results first (re-attach), then addBulk for the rest. */
  private async flush(): Promise<void> {
    for (;;) {
      const batch = this.table.takeBatch(this.opts.maxBatch);
      if (batch.length === 0) return;
      try {
        await this.ready;
        const stored = await this.store.getMany(batch.map((e) => e.jobId));
        const rest: Entry[] = [];
        for (const e of batch) {
          const s = stored.get(e.jobId);
          if (s !== undefined && !e.settled) {
            this.stats.reattached++;
            this.settleStored(e, s);
          } else if (!e.settled) rest.push(e);
        }
        if (rest.length === 1) {
          const e = rest[0] as Entry;
          await this.queue.add(this.runId, e.task, this.jobOptions(e.jobId));
        } else if (rest.length > 1) {
          await this.queue.addBulk(rest.map((e) => ({ name: this.runId, data: e.task, opts: this.jobOptions(e.jobId) })));
        }
        this.stats.added += rest.length;
        const now = Date.now();
        for (const e of rest) {
          e.phase = 'added';
          e.addedAt = now;
          if (e.cancelAfterAdd) this.cancelRemoteTracked(e.jobId);
        }
      } catch (err) {
        const error =
          err instanceof DehbError
            ? err
            : new DehbError('E_BROKER', `cannot queue evaluations: ${describeRedisError(err, this.where)}`, { cause: err });
        for (const e of batch) {
          if (e.settled) continue;
          this.table.abandon(e.jobId);
          this.table.fail(e, error);
        }
      }
    }
  }

  private jobOptions(jobId: string): Record<string, unknown> {
    return {
      jobId,
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: this.opts.backoffMs },
      // The worker stores the outcome in the results hash before completing, so the job itself
      // can go at once; failed jobs stay until the coordinator has recorded them (age as backstop).
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
  }

  private settleStored(e: Entry, s: Parsed<EvalOutcome>): void {
    this.table.settle(e, s.ok ? s.value : invalidOutcome(e.jobId, s.message));
    this.store.deleteLater(e.jobId);
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    this.health.completed();
    const e = this.table.get(jobId);
    if (e === undefined) {
      if (this.table.unabandon(jobId)) this.store.deleteLater(jobId);
      return;
    }
    const p = parseOutcome(returnvalue);
    if (p.ok && p.value.status === 'cancelled' && p.value.reason === CANCEL_REQUEST_REASON) {
      // an earlier coordinator cancelled this job id; we still want the trial: queue it again
      this.table.requeue(e, () => void this.flush());
      return;
    }
    this.stats.fromEvents++;
    this.table.settle(e, p.ok ? p.value : invalidOutcome(jobId, p.message));
    this.store.deleteLater(jobId);
  }

  private async onFailed(jobId: string, reason: string): Promise<void> {
    const e = this.table.get(jobId);
    if (e === undefined) {
      if (this.table.unabandon(jobId)) await this.removeJob(jobId);
      return;
    }
    const stored = await this.store.getMany([jobId]).catch(() => new Map<string, Parsed<EvalOutcome>>());
    const s = stored.get(jobId);
    if (s !== undefined) this.settleStored(e, s);
    else this.table.settle(e, workerFailure(jobId, reason));
    await this.removeJob(jobId);
  }

  private onProgress(jobId: string, data: unknown): void {
    const e = this.table.get(jobId);
    if (e?.onReport === undefined || data === null || typeof data !== 'object') return;
    const { step, value } = data as { step?: unknown; value?: unknown };
    if (typeof step === 'number' && typeof value === 'number') {
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
    const phase = e.phase;
    if (phase === 'queued') {
      this.table.settle(e, { status: 'cancelled', reason });
      return;
    }
    this.table.abandon(e.jobId);
    this.table.settle(e, { status: 'cancelled', reason });
    if (phase === 'adding') e.cancelAfterAdd = true;
    else this.cancelRemoteTracked(e.jobId);
  }

  private cancelRemoteTracked(jobId: string): void {
    const p = this.cancelRemote(jobId).finally(() => this.cancelling.delete(p));
    this.cancelling.add(p);
  }

  private async cancelRemote(jobId: string): Promise<void> {
    try {
      const removed = await this.queue.remove(jobId);
      if (removed === 1) {
        this.table.unabandon(jobId);
        return;
      }
      await this.redis.publish(this.keys.cancelChannel, JSON.stringify({ jobId, at: Date.now() }));
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
    if (!this.health.isDown) void this.sweep();
  }

  /** Reconciles jobs in flight for longer than one interval against the results hash and job state. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.closing !== undefined) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      const due = this.table.all().filter((e) => e.phase === 'added' && now - e.addedAt >= this.opts.reconcileIntervalMs);
      for (let i = 0; i < due.length; i += 500) {
        const chunk = due.slice(i, i + 500);
        const states = await this.store.reconcile(chunk.map((e) => e.jobId));
        for (const e of chunk) {
          const st = states.get(e.jobId);
          if (e.settled || st === undefined) continue;
          if (st.state === 'result') {
            this.stats.fromSweep++;
            this.settleStored(e, st.outcome);
          } else if (st.state === 'failed') {
            this.table.settle(e, workerFailure(e.jobId, st.reason));
            await this.removeJob(e.jobId);
          } else if (st.state === 'missing') {
            this.stats.readded++;
            this.log(`job ${e.jobId} vanished from Redis without a result (restart without persistence?); queued again`);
            this.table.requeue(e, () => void this.flush());
          }
        }
      }
      this.table.pruneAbandoned(now - 3_600_000);
      await this.checkWorkers(now);
    } catch (err) {
      this.health.noteError(err);
    } finally {
      this.sweeping = false;
    }
  }

  private async checkWorkers(now: number): Promise<void> {
    if (!this.health.quietFor(this.opts.noWorkerWarnMs, now)) return;
    const waiting = this.table.all().some((e) => e.phase === 'added' && now - e.addedAt >= this.opts.noWorkerWarnMs);
    if (waiting && (await this.queue.getWorkersCount().catch(() => -1)) === 0) this.health.warnNoWorker();
  }

  /** The run has recorded this trial's outcome durably: its stored result can go now. */
  recorded(task: EvalTask): void {
    this.channel.store.deleteSoon(jobIdFor(this.runId, task.trialId));
  }

  close(opts: { force?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      if (opts.force === true) {
        for (const e of this.table.all()) {
          if (this.opts.cancelOnClose) this.abort(e, 'executor closed');
          else this.table.settle(e, { status: 'cancelled', reason: 'executor closed (job left for a resume)' });
        }
        await withTimeout(Promise.allSettled([...this.cancelling]), this.opts.closeTimeoutMs, () => undefined);
      } else {
        await this.table.drained();
        // everything submitted is recorded: no stored result of this run is needed any more
        await withTimeout(this.channel.store.purgeRun(this.runId).catch(() => undefined), this.opts.closeTimeoutMs, () => undefined);
      }
      await this.shutdownConnections();
    })();
    return this.closing;
  }

  private async shutdownConnections(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.channel.close(this.opts.closeTimeoutMs);
  }
}
