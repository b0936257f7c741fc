/**
 * Owns a cluster worker process's runtime (`dehb worker`): wait for the scheduler file and Redis,
 * take jobs from the shared queue (any run), refuse objectives outside the allow-list, evaluate
 * through runTask with this node's GPUs, store the outcome durably (lock-checked, first result
 * wins) before completing the job, abort evaluations whose lock was lost or that the coordinator
 * cancelled, and shut down gracefully (stop taking jobs, let running ones finish within a grace
 * period, hand the rest back) without hanging when Redis is gone.
 */
import { hostname } from 'node:os';
import { Worker, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DehbError, serializeError } from '../../errors.js';
import { GpuAllocator } from '../../gpu/allocator.js';
import { resolveGpuPool } from '../../gpu/discover.js';
import type { GpuDevice } from '../../gpu/types.js';
import type { EvalOutcome, EvalTask, WorkerInfo } from '../executor.js';
import { runTask, type RunTaskContext } from '../run-task.js';
import { connectionFromSchedulerFile, waitForSchedulerFile, type ClusterConnection } from '../scheduler-file.js';
import { ObjectivePolicy } from './allow-list.js';
import { bullConnection, closeRedis, clusterKeys, createRedis, withTimeout, type ClusterKeys } from './connection.js';
import { assessRedis, probeRedis } from './probe.js';
import { ResultsStore } from './results-store.js';
import { CANCEL_REQUEST_REASON, parseOutcomeText, parseTask } from './wire.js';

export interface ClusterWorkerOptions {
  schedulerFile?: string;
  connection?: ClusterConnection;
  /** How long to wait for the scheduler file and for Redis to answer, ms. Default 120 000. */
  waitMs?: number;
  /** Evaluations at once. Default: GPUs / gpus-per-trial when the node has GPUs, else 1. */
  concurrency?: number;
  /** `auto`, `none` or `0,1` / UUIDs. Default `auto`. */
  gpus?: string;
  /** The pool itself (tests); overrides `gpus`. */
  gpuDevices?: GpuDevice[];
  /**
   * Devices per evaluation on this node. Default: on a node with GPUs, what the task asks but at
   * least 1 (every evaluation is pinned to its own device); without GPUs, what the task asks (a
   * task that needs GPUs then fails with E_NO_GPU). 0 runs everything without devices.
   */
  gpusPerTrial?: number;
  objective?: string;
  command?: string[];
  allow?: string[];
  /** BullMQ lock TTL, ms (default 10 000; renewed every lockDuration/2). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired, ms (default 5 000). */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails (default 3). */
  maxStalledCount?: number;
  /** On stop: how long running evaluations may finish before they are handed back, ms. Default 30 000. */
  graceMs?: number;
  /** Evaluation function (default runTask); tests inject their own. */
  evaluate?: (task: EvalTask, ctx: RunTaskContext) => Promise<EvalOutcome>;
  log?: (message: string) => void;
  id?: string;
}

export interface ClusterWorker {
  readonly id: string;
  readonly concurrency: number;
  readonly connection: ClusterConnection;
  readonly stats: { started: number; stored: number; refused: number; handedBack: number; lostLock: number; cancelled: number };
  /**
   * Stop taking jobs, let running ones finish within graceMs, hand the rest back, disconnect.
   * Calling it again with graceMs 0 cuts a grace period that is running.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}

interface Active {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
}

type AbortKind = 'shutdown' | 'cancel' | 'lock';

export async function startClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const log = o.log ?? ((m: string) => process.stderr.write(`dehb worker: ${m}\n`));
  const waitMs = o.waitMs ?? 120_000;
  let conn = o.connection;
  if (conn === undefined) {
    if (o.schedulerFile === undefined) throw new DehbError('E_CONFIG', 'a worker needs --scheduler-file');
    let said = false;
    const file = await waitForSchedulerFile(o.schedulerFile, {
      timeoutMs: waitMs,
      onWait: () => {
        if (!said) log(`waiting for scheduler file ${o.schedulerFile} ...`);
        said = true;
      },
    });
    conn = await connectionFromSchedulerFile(file, o.schedulerFile);
  }
  await waitForRedis(conn, waitMs, log);
  const policy = await ObjectivePolicy.create({
    ...(o.objective === undefined ? {} : { objective: o.objective }),
    ...(o.command === undefined ? {} : { command: o.command }),
    ...(o.allow === undefined ? {} : { allow: o.allow }),
  });
  if (policy.allowsNothing) log('warning: no objective is allowed; every trial will fail. Start with --allow DIR, --objective MODULE or --command CMD');
  const devices = o.gpuDevices ?? (await resolveGpuPool(o.gpus ?? 'auto')).devices;
  const allocator = await GpuAllocator.create({ devices, gpusPerTrial: o.gpusPerTrial ?? 1 });
  const perTrial = Math.max(1, o.gpusPerTrial ?? 1);
  const concurrency = o.concurrency ?? (devices.length > 0 ? Math.max(1, Math.floor(devices.length / perTrial)) : 1);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DehbError('E_CONFIG', `concurrency must be an integer >= 1 (got ${concurrency})`);
  }
  const runtime = new WorkerRuntime(conn, o, policy, allocator, concurrency, log);
  await runtime.start();
  return runtime;
}

async function waitForRedis(conn: ClusterConnection, waitMs: number, log: (m: string) => void): Promise<void> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (let said = false; ; ) {
    try {
      const facts = await probeRedis(conn.endpoint, { timeoutMs: 5_000 });
      for (const f of assessRedis(facts)) {
        if (f.level === 'error' && f.what === 'version') throw new DehbError('E_BROKER', f.message);
        if (f.level !== 'ok' && f.what === 'maxmemory-policy') log(`warning: ${f.message}`);
      }
      return;
    } catch (err) {
      const auth = err instanceof DehbError && /credentials/.test(err.message);
      if (auth || Date.now() + delay > deadline) throw err;
      if (!said) log(`waiting for Redis: ${(err as Error).message}`);
      said = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(5_000, delay * 2);
    }
  }
}

class WorkerRuntime implements ClusterWorker {
  readonly id: string;
  readonly stats = { started: 0, stored: 0, refused: 0, handedBack: 0, lostLock: 0, cancelled: 0 };
  private readonly keys: ClusterKeys;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly store: ResultsStore;
  private readonly active = new Map<string, Active>();
  private readonly cancels = new Map<string, number>();
  private readonly info: WorkerInfo;
  private readonly evaluate: (task: EvalTask, ctx: RunTaskContext) => Promise<EvalOutcome>;
  private worker: Worker | undefined;
  private stopping: Promise<void> | undefined;
  private shuttingDown = false;
  private readonly graceCut = new AbortController();
  private lastErrorLogAt = 0;

  constructor(
    readonly connection: ClusterConnection,
    private readonly o: ClusterWorkerOptions,
    private readonly policy: ObjectivePolicy,
    private readonly allocator: GpuAllocator,
    readonly concurrency: number,
    private readonly log: (m: string) => void,
  ) {
    this.id = o.id ?? `${hostname()}:${process.pid}`;
    this.info = { id: this.id, host: hostname(), pid: process.pid };
    this.keys = clusterKeys(connection);
    this.redis = createRedis(connection.endpoint, `dehb:worker:${this.id}`);
    this.sub = createRedis(connection.endpoint, `dehb:worker-sub:${this.id}`);
    this.store = new ResultsStore(this.redis, this.keys);
    this.evaluate = o.evaluate ?? runTask;
    for (const c of [this.redis, this.sub]) c.on('error', (err: Error) => this.noteError(err));
  }

  async start(): Promise<void> {
    this.sub.on('message', (_channel: string, message: string) => this.onCancel(message));
    await this.sub.subscribe(this.keys.cancelChannel);
    const lockDuration = this.o.lockDurationMs ?? 10_000;
    // Two parameters on purpose: BullMQ then creates no AbortController of its own per job; this
    // runtime aborts evaluations itself (lock lost, coordinator cancel, shutdown).
    const worker = new Worker(this.connection.queue, (job: Job, token?: string) => this.process(job, token), {
      connection: bullConnection(this.connection.endpoint),
      prefix: this.connection.prefix,
      concurrency: this.concurrency,
      lockDuration,
      stalledInterval: this.o.stalledIntervalMs ?? 5_000,
      maxStalledCount: this.o.maxStalledCount ?? 3,
      autorun: false,
    });
    this.worker = worker;
    worker.on('error', (err: Error) => this.noteError(err));
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) this.abortJob(id, 'lock');
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
    const a = this.active.get(m.jobId);
    if (a !== undefined && a.job.timestamp <= m.at) this.abortJob(m.jobId, 'cancel');
    else this.cancels.set(m.jobId, m.at);
    if (this.cancels.size > 10_000) this.cancels.clear();
  }

  private abortJob(jobId: string, kind: AbortKind): void {
    const a = this.active.get(jobId);
    if (a !== undefined && !a.controller.signal.aborted) a.controller.abort(kind);
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    const jobId = job.id as string;
    const lockToken = token ?? '';
    if (this.shuttingDown) return this.handBack(job, lockToken);
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    this.active.set(jobId, { job, controller, done });
    try {
      const cancelAt = this.cancels.get(jobId);
      // kept after use: a newer job with the same id (queued again) is younger than the cancel
      if (cancelAt !== undefined && job.timestamp <= cancelAt) {
        this.stats.cancelled++;
        return { status: 'cancelled', reason: CANCEL_REQUEST_REASON };
      }
      const outcome = await this.run(job, controller.signal);
      const kind = controller.signal.reason as AbortKind | undefined;
      if (kind === 'cancel') {
        this.stats.cancelled++;
        return { status: 'cancelled', reason: CANCEL_REQUEST_REASON };
      }
      if (kind === 'shutdown') return this.handBack(job, lockToken);
      if (kind === 'lock') return this.lostLock(jobId);
      const stored = await this.store.write(jobId, lockToken, outcome);
      if (stored === null) return this.lostLock(jobId);
      this.stats.stored++;
      const parsed = parseOutcomeText(stored);
      return parsed.ok ? parsed.value : outcome;
    } finally {
      this.active.delete(jobId);
      finish();
    }
  }

  /** Validate, check the allow-list, take devices, evaluate. Never throws for the objective's sake. */
  private async run(job: Job, signal: AbortSignal): Promise<EvalOutcome> {
    const parsed = parseTask(job.data);
    if (!parsed.ok) return refusal('E_EXECUTOR', `job ${job.id} carries ${parsed.message}`, this.info);
    const task = parsed.value;
    const why = await this.policy.check(task.objective);
    if (why !== null) {
      this.stats.refused++;
      return refusal('E_NOT_ALLOWED', why, this.info);
    }
    const need = this.o.gpusPerTrial ?? (this.allocator.size > 0 ? Math.max(1, task.gpus) : task.gpus);
    let devices: string[] = [];
    if (need > 0) {
      try {
        devices = this.allocator.acquire(need);
      } catch (err) {
        const why = this.allocator.size === 0 ? 'this worker has no GPUs (see --gpus)' : (err as Error).message;
        const msg = `trial needs ${need} GPU(s) but ${why}; start GPU workers for this run, or --gpus-per-trial 0 to run it without devices`;
        return refusal('E_NO_GPU', msg, this.info);
      }
    }
    this.stats.started++;
    try {
      return await this.evaluate(task, {
        signal,
        devices,
        workerInfo: this.info,
        onReport: (step, value) => {
          job.updateProgress({ step, value }).catch(() => undefined);
        },
      });
    } finally {
      if (devices.length > 0) this.allocator.release(devices);
    }
  }

  /** Puts the job back in wait at once (other workers take it) and tells BullMQ not to finish it. */
  private async handBack(job: Job, token: string): Promise<never> {
    this.stats.handedBack++;
    // With Redis gone the job stays active under our lock; the stall check hands it on later.
    if (this.redis.status === 'ready') await withTimeout(job.moveToWait(token).catch(() => 0), 2_000, () => 0);
    throw new WaitingError();
  }

  private lostLock(jobId: string): never {
    this.stats.lostLock++;
    this.log(`job ${jobId}: lost its lock (this worker was cut off or too slow to renew it); result dropped, another worker runs the trial`);
    throw new Error(`lost the lock for job ${jobId} (it was handed to another worker); this result is dropped`);
  }

  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (opts.graceMs === 0) this.graceCut.abort();
    this.stopping ??= this.shutdown(opts.graceMs ?? this.o.graceMs ?? 30_000);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const worker = this.worker;
    if (worker !== undefined) await withTimeout(worker.pause(true), 1_000, () => undefined).catch(() => undefined);
    const running = (): Array<Promise<void>> => [...this.active.values()].map((a) => a.done);
    if (this.active.size > 0) {
      this.log(`stopping: waiting up to ${graceMs} ms for ${this.active.size} running evaluation(s)`);
      const cut = new Promise<void>((r) => {
        if (this.graceCut.signal.aborted) r();
        else this.graceCut.signal.addEventListener('abort', () => r(), { once: true });
      });
      await withTimeout(Promise.race([Promise.all(running()), cut]), graceMs, () => undefined);
    }
    if (this.active.size > 0) {
      this.log(`handing back ${this.active.size} evaluation(s) still running`);
      for (const id of this.active.keys()) this.abortJob(id, 'shutdown');
      await withTimeout(Promise.all(running()), 5_000, () => undefined);
    }
    // close(true) does not wait for jobs; raced anyway because closing connections can hang while Redis is down
    if (worker !== undefined) await withTimeout(worker.close(true).catch(() => undefined), 2_000, () => undefined);
    this.allocator.stop();
    await Promise.all([closeRedis(this.sub), closeRedis(this.redis)]);
  }

  private noteError(err: unknown): void {
    const now = Date.now();
    if (this.shuttingDown || now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log(`warning: ${(err as Error)?.message ?? String(err)}`);
  }
}

function refusal(code: 'E_NOT_ALLOWED' | 'E_EXECUTOR' | 'E_NO_GPU', message: string, worker: WorkerInfo): EvalOutcome {
  return { status: 'failed', retryable: false, error: serializeError(new DehbError(code, message)), worker };
}
