/**
 * Owns one cluster worker process's job runtime (WorkerRuntime, started by worker-runtime.ts):
 * start the BullMQ worker (concurrency + prefetch, lock and stall settings) and the cancel
 * subscription, give each job a slot (slots.ts) and hand it to worker-job.ts, which validates and
 * evaluates it (its trials: worker-trial.ts; the --max-trials quota: worker-quota.ts); abort
 * trials whose lock renewal failed or that the coordinator cancelled; say what BullMQ reports
 * (a completion refused for the lock drops that result); what becomes of a job not finished here
 * (handed back to wait, left delayed for other workers, dropped for a lost lock); and stop
 * gracefully (finish within a grace period, hand the rest back) without hanging while Redis is
 * gone.
 */
import { hostname } from 'node:os';
import { DelayedError, Worker, WaitingError, type ConnectionOptions, type Job } from '../../redis/bullmq.js';
import type { Redis } from '../../redis/connection.js';
import type { GpuAllocator } from '../../gpu/allocator.js';
import type { WorkerInfo } from '../../protocol/executor.js';
import { runTask } from '../run-task.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import type { ObjectivePolicy } from './allow-list.js';
import { bullConnection, closeBullConnection, closeRedis, clusterKeys, createRedis, withTimeout, type ClusterKeys } from '../../redis/connection.js';
import { leaveDelayMs } from './job-verdicts.js';
import { CANCEL_REQUEST_REASON } from '../../protocol/wire.js';
import { runJob, type JobHost } from './worker-job.js';
import { TrialEvaluator } from './worker-trial.js';
import type { TrialDirs } from './trial-dirs.js';
import { Slots } from './slots.js';
import { QuotaGate } from './worker-quota.js';
import { waitForGrace } from '../grace.js';
import type { ClusterWorker, ClusterWorkerOptions } from './worker-options.js';

export class WorkerRuntime implements ClusterWorker, JobHost {
  readonly id: string;
  readonly stats = { started: 0, stored: 0, refused: 0, handedBack: 0, lostLock: 0, cancelled: 0 };
  private readonly keys: ClusterKeys;
  private readonly redis: Redis;
  private readonly sub: Redis;
  /** Jobs whose lost lock was said already (BullMQ reports it for the completion and the failure). */
  private readonly lockLostSaid = new Set<string>();
  /** Ignored job fields said already. */
  private readonly ignoredSaid = new Set<string>();
  /** job id -> times this worker refused it */
  private readonly refusals = new Map<string, number>();
  readonly info: WorkerInfo;
  readonly trials: TrialEvaluator;
  private worker: Worker | undefined;
  /** BullMQ's connection (a Cluster client on a Redis Cluster, closed here after the worker). */
  private bull: ConnectionOptions | undefined;
  private stopping: Promise<void> | undefined;
  private shuttingDown = false;
  private readonly graceCut = new AbortController();
  private readonly slots: Slots;
  private readonly quota: QuotaGate;
  private lastErrorLogAt = 0;

  constructor(
    readonly connection: ClusterConnection,
    readonly options: ClusterWorkerOptions,
    readonly policy: ObjectivePolicy,
    private readonly allocator: GpuAllocator,
    dirs: TrialDirs,
    readonly concurrency: number,
    private readonly log: (m: string) => void,
  ) {
    this.id = options.id ?? `${hostname()}:${process.pid}`;
    this.info = { id: this.id, host: hostname(), pid: process.pid };
    this.keys = clusterKeys(connection);
    this.redis = createRedis(connection.endpoint, `dehb:worker:${this.id}`);
    this.sub = createRedis(connection.endpoint, `dehb:worker-sub:${this.id}`);
    this.slots = new Slots(concurrency);
    this.quota = new QuotaGate(options.quota, this, (err) => this.noteError(err));
    this.trials = new TrialEvaluator(this, options, allocator, dirs, options.evaluate ?? runTask, this.quota);
    for (const c of [this.redis, this.sub]) c.on('error', (err: Error) => this.noteError(err));
  }

  async start(): Promise<void> {
    this.sub.on('message', (_channel: string, message: string) => this.onCancel(message));
    await this.sub.subscribe(this.keys.cancelChannel);
    const lockDuration = this.options.lockDurationMs ?? 10_000;
    // Two parameters on purpose: BullMQ then creates no AbortController of its own per job; this
    // runtime aborts evaluations itself (lock lost, coordinator cancel, shutdown).
    const bull = bullConnection(this.connection.endpoint, `dehb:worker-bull:${this.id}`);
    this.bull = bull;
    const worker = new Worker(this.connection.queue, (job: Job, token?: string) => this.process(job, token), {
      connection: bull,
      prefix: this.connection.prefix,
      concurrency: this.concurrency + (this.options.prefetch ?? 0),
      lockDuration,
      stalledInterval: this.options.stalledIntervalMs ?? 5_000,
      maxStalledCount: this.options.maxStalledCount ?? 3,
      // how soon a completion Redis did not take (connection lost) is sent again (BullMQ: 15 s)
      runRetryDelay: 1_000,
      autorun: false,
    });
    this.worker = worker;
    this.quota.attach(worker);
    worker.on('error', (err: Error) => this.onWorkerError(err));
    worker.on('completed', (_job: Job, result: unknown) => {
      // a cancel acknowledged is not a result
      if ((result as { reason?: unknown } | null)?.reason !== CANCEL_REQUEST_REASON) this.stats.stored++;
    });
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) this.trials.abort(id, 'lock');
    });
    void worker.run().catch((err: unknown) => this.noteError(err));
    await worker.waitUntilReady();
  }

  private onCancel(message: string): void {
    let m: { jobId?: unknown; at?: unknown };
    try {
      m = JSON.parse(message) as { jobId?: unknown; at?: unknown };
    } catch {
      return;
    }
    if (typeof m.jobId !== 'string' || typeof m.at !== 'number') return;
    this.trials.cancel(m.jobId, m.at);
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    const jobId = job.id as string;
    const lockToken = token ?? '';
    if (this.shuttingDown) return this.handBack(job, lockToken);
    // a prefetched job waits for a slot (its lock is renewed meanwhile); stopping hands it back
    if (!(await this.slots.acquire())) return this.handBack(job, lockToken);
    try {
      return await runJob(this, job, jobId, lockToken);
    } finally {
      this.slots.release();
    }
  }

  tryTakeSlot(): boolean {
    return this.slots.tryAcquire();
  }

  releaseSlot(): void {
    this.slots.release();
  }

  /** True once the worker stops: a batch starts none of its remaining trials. */
  get isStopping(): boolean {
    return this.shuttingDown;
  }

  /**
   * BullMQ's errors after an evaluation: a completion refused for the lock (the job was handed to
   * another worker while this one was cut off) drops this result; Redis refusing the completion
   * (OOM, READONLY, a lost connection) leaves the job active under our lock, and BullMQ retries
   * or the stall check hands it on: an infrastructure fault, never a failed trial.
   */
  private onWorkerError(err: Error): void {
    const lock = /^(?:Missing lock|Lock mismatch) for job (\S+?)\./.exec(err?.message ?? '');
    if (lock !== null) this.noteLostLock(lock[1] as string);
    else this.noteError(err);
  }

  /**
   * A job this worker may not run goes back to the queue for workers that may (delayed a little, so
   * this worker does not take it straight back: job-verdicts.ts leaveDelayMs); the first refusal
   * is kept in the job's log, which the coordinator reports when the job waits long.
   */
  async leave(job: Job, token: string, why: string): Promise<never> {
    const jobId = job.id as string;
    this.stats.refused++;
    const n = (this.refusals.get(jobId) ?? 0) + 1;
    this.refusals.set(jobId, n);
    if (this.refusals.size > 10_000) this.refusals.clear();
    if (n === 1) this.log(`leaves job ${jobId} for other workers: ${why}`);
    const delay = leaveDelayMs(n);
    await withTimeout(
      (async () => {
        // once per worker and job: a job bounced between filtering workers would fill its log
        if (n === 1) await job.log(`${new Date().toISOString()} worker ${this.id} refused it: ${why}`).catch(() => 0);
        await job.moveToDelayed(Date.now() + delay, token);
      })().catch((err: unknown) => this.noteError(err)),
      2_000,
      () => undefined,
    );
    throw new DelayedError();
  }

  /** Says once per field that a job's instruction was ignored. */
  noteIgnored(jobId: string, fields: string[]): void {
    const fresh = fields.filter((f) => !this.ignoredSaid.has(f));
    if (fresh.length === 0) return;
    for (const f of fresh) this.ignoredSaid.add(f);
    this.log(
      `job ${jobId} carries ${fresh.join(', ')}: ignored (a job carries data, not instructions; this worker uses its own environment, working directory and --trials-dir)`,
    );
  }

  /** Puts the job back in wait at once (other workers take it) and tells BullMQ not to finish it. */
  async handBack(job: Job, token: string): Promise<never> {
    this.stats.handedBack++;
    // With Redis gone the job stays active under our lock; the stall check hands it on later.
    if (this.redis.status === 'ready') await withTimeout(job.moveToWait(token).catch(() => 0), 2_000, () => 0);
    throw new WaitingError();
  }

  lostLock(jobId: string): never {
    this.noteLostLock(jobId);
    throw new Error(`lost the lock for job ${jobId} (it was handed to another worker); this result is dropped`);
  }

  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (opts.graceMs === 0) this.graceCut.abort();
    this.stopping ??= this.shutdown(opts.graceMs ?? this.options.graceMs ?? 30_000);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    this.slots.close();
    const worker = this.worker;
    if (worker !== undefined) await withTimeout(worker.pause(true), 1_000, () => undefined).catch(() => undefined);
    if (this.trials.running > 0) {
      this.log(`stopping: waiting up to ${graceMs} ms for ${this.trials.running} running evaluation(s)`);
      await waitForGrace(this.trials.ended(), graceMs, this.graceCut.signal);
    }
    if (this.trials.running > 0) {
      this.log(`handing back ${this.trials.running} evaluation(s) still running`);
      this.trials.abortAll('shutdown');
      await withTimeout(Promise.all(this.trials.ended()), 5_000, () => undefined);
    }
    // the completions of jobs that just returned (a batch's finished trials, with the rest handed
    // back) are sent before the forced close cuts the connection; bounded, as Redis may be gone
    if (worker !== undefined && this.redis.status === 'ready') await withTimeout((worker as unknown as { whenCurrentJobsFinished(reconnect: boolean): Promise<void> }).whenCurrentJobsFinished(false).catch(() => undefined), 3_000, () => undefined);
    // close(true) does not wait for jobs; raced anyway because closing connections can hang while Redis is down
    if (worker !== undefined) await withTimeout(worker.close(true).catch(() => undefined), 2_000, () => undefined);
    this.allocator.stop();
    await Promise.all([closeRedis(this.sub), closeRedis(this.redis), this.bull === undefined ? undefined : closeBullConnection(this.bull)]);
  }

  /** Counts and says a job's lost lock once (BullMQ reports it for the completion and the failure too). */
  private noteLostLock(jobId: string): void {
    if (this.lockLostSaid.has(jobId)) return;
    this.lockLostSaid.add(jobId);
    if (this.lockLostSaid.size > 10_000) this.lockLostSaid.clear();
    this.stats.lostLock++;
    this.log(`job ${jobId}: lost its lock (this worker was cut off or too slow to renew it); result dropped, another worker runs the trial`);
  }

  private noteError(err: unknown): void {
    const now = Date.now();
    if (this.shuttingDown || now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log(`warning: ${(err as Error)?.message ?? String(err)}`);
  }
}
