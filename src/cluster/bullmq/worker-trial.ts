/**
 * Owns the evaluation of one trial on a cluster worker, the same for a single job's trial
 * (worker-job.ts) and for each trial of a batch job (worker-batch.ts): a place in the
 * `--max-trials` quota (worker-quota.ts), the trial kept as running under the id a cancel names
 * (so a cancel, a lost lock or a stop aborts it), a cancel that came before it, this node's GPUs,
 * its trial directory (made up front, or on first read for a module objective) and the `prepare`
 * hook, the evaluation through runTask, the outcome with its reports, queue wait and kept trial
 * directory, and what an abort or a shutdown signal makes of it (job-verdicts.ts).
 */
import type { Job } from '../../redis/bullmq.js';
import type { GpuAllocator } from '../../gpu/allocator.js';
import type { EvalOutcome, EvalTask, WorkerInfo } from '../../protocol/executor.js';
import type { RunTaskContext } from '../run-task.js';
import { CANCEL_REQUEST_REASON, type WireOutcome } from '../../protocol/wire.js';
import { abortVerdict, killedByShutdownSignal, refusal, type AbortKind } from './job-verdicts.js';
import type { TrialDirs } from './trial-dirs.js';
import type { ClusterWorkerOptions } from './worker-options.js';
import type { QuotaGate } from './worker-quota.js';
import { sleep } from '../../util/sleep.js';

/** What became of one trial: its outcome (the job's returnvalue, or a batch's part of it), or what to do with the job. */
export type MemberResult = { outcome: WireOutcome } | { verdict: 'hand-back' | 'lost-lock' };

/** What the evaluation needs of the worker runtime (worker-lifecycle.ts). */
export interface TrialHost {
  readonly info: WorkerInfo;
  readonly stats: { started: number; cancelled: number };
  /** True once the worker stops. */
  readonly isStopping: boolean;
}

interface Active {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
}

export class TrialEvaluator {
  /** The trials running now, under their job id or (a batch member) their trial job id. */
  private readonly active = new Map<string, Active>();
  /** Cancels of trials that were not running here when they came: trial job id -> the cancel's time. */
  private readonly cancels = new Map<string, number>();

  constructor(
    private readonly host: TrialHost,
    private readonly o: ClusterWorkerOptions,
    private readonly allocator: GpuAllocator,
    private readonly dirs: TrialDirs,
    private readonly evaluateTask: (task: EvalTask, ctx: RunTaskContext) => Promise<EvalOutcome>,
    private readonly quota: QuotaGate,
  ) {}

  /** Trials running now. */
  get running(): number {
    return this.active.size;
  }

  /** One promise per running trial, resolved once it is over. */
  ended(): Array<Promise<void>> {
    return [...this.active.values()].map((a) => a.done);
  }

  /** The coordinator cancelled the trial of this job id, at `at`: aborted if running, else kept for when it starts. */
  cancel(jobId: string, at: number): void {
    const a = this.active.get(jobId);
    if (a !== undefined && a.job.timestamp <= at) this.abort(jobId, 'cancel');
    else this.cancels.set(jobId, at);
    if (this.cancels.size > 10_000) this.cancels.clear();
  }

  /** Aborts the evaluation of a trial job id, or every running trial of a (batch) job of this id. */
  abort(jobId: string, kind: AbortKind): void {
    const direct = this.active.get(jobId);
    for (const a of direct === undefined ? [...this.active.values()].filter((x) => x.job.id === jobId) : [direct]) {
      if (!a.controller.signal.aborted) a.controller.abort(kind);
    }
  }

  /** Aborts every running trial. */
  abortAll(kind: AbortKind): void {
    for (const id of this.active.keys()) this.abort(id, kind);
  }

  /**
   * Evaluates one trial of the job under `key` (its job id, or a batch member's trial job id: what
   * a cancel names) and says what became of it. The outcome is the job's returnvalue (or part of
   * it): BullMQ's moveToFinished checks our lock, stores it in the job (kept until the coordinator
   * has recorded it) and emits the completed event carrying it, in one script that also hands this
   * worker its next job.
   */
  async evaluate(job: Job, key: string, data: EvalTask, batched: boolean): Promise<MemberResult> {
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    // --max-trials: a trial past the worker's quota goes back to the queue unrun
    if (!this.quota.take()) return { verdict: 'hand-back' };
    let result = false;
    this.active.set(key, { job, controller, done });
    try {
      const cancelAt = this.cancels.get(key);
      // kept after use: a newer job with the same id (queued again) is younger than the cancel
      if (cancelAt !== undefined && job.timestamp <= cancelAt) {
        this.host.stats.cancelled++;
        return { outcome: { status: 'cancelled', reason: CANCEL_REQUEST_REASON } };
      }
      const outcome = await this.run(job, data, controller.signal, batched);
      // Under a scheduler (SLURM scancel, time limit, pre-emption) the whole step gets SIGTERM, the
      // objective's processes included: a trial killed that way while this worker shuts down is
      // not the objective's failure, so it goes back to the queue instead of being recorded.
      if (killedByShutdownSignal(outcome)) {
        // the worker's own SIGTERM may be handled a moment after the child's exit
        if (!this.host.isStopping) await sleep(1_000);
        if (this.host.isStopping) return { verdict: 'hand-back' };
      }
      // an evaluation that finished before a shutdown abort reached it is still recorded
      const verdict = abortVerdict(controller.signal, outcome.status === 'cancelled');
      result = verdict === null;
      if (verdict === null) return { outcome };
      if (verdict !== 'cancel') return { verdict };
      this.host.stats.cancelled++;
      return { outcome: { status: 'cancelled', reason: CANCEL_REQUEST_REASON } };
    } finally {
      this.active.delete(key);
      this.quota.settle(result);
      finish();
    }
  }

  /** Take devices, prepare the trial directory, evaluate. Never throws for the objective's sake. */
  private async run(job: Job, data: EvalTask, signal: AbortSignal, batched: boolean): Promise<EvalOutcome> {
    const need = this.o.gpusPerTrial ?? (this.allocator.size > 0 ? Math.max(1, data.gpus) : data.gpus);
    let devices: string[] = [];
    if (need > 0) {
      try {
        devices = this.allocator.acquire(need);
      } catch (err) {
        const why = this.allocator.size === 0 ? 'this worker has no GPUs (see --gpus)' : (err as Error).message;
        const msg = `trial needs ${need} GPU(s) but ${why}; start GPU workers for this run, or --gpus-per-trial 0 to run it without devices`;
        return refusal('E_NO_GPU', msg, this.host.info);
      }
    }
    let task: EvalTask;
    // a module objective's temporary directory is made only if it reads ctx.trialDir (and then
    // removed by its own thread): a mkdir and an rmdir per trial cost as much CPU as the rest
    const lazyDir = this.o.lazyTrialDirs === true && this.dirs.temporary && data.objective.kind === 'module' && this.o.prepare === undefined;
    let finished = false;
    try {
      task = { ...data, trialDir: lazyDir ? await this.dirs.path(data) : await this.dirs.create(data) };
      if (this.o.prepare !== undefined) task = await this.o.prepare(task);
    } catch (err) {
      if (devices.length > 0) this.allocator.release(devices);
      return refusal('E_EXECUTOR', `cannot prepare the trial: ${(err as Error).message}`, this.host.info);
    }
    this.host.stats.started++;
    const reports: Array<[number, number]> = [];
    // job.timestamp: when the coordinator queued it (its clock; clamped for skew between nodes)
    const queueWaitMs = Math.max(0, Date.now() - job.timestamp);
    try {
      const outcome: WireOutcome = await this.evaluateTask(task, {
        signal,
        devices,
        workerInfo: this.host.info,
        ...(lazyDir ? { lazyTrialDir: true } : {}),
        onReport: (step, value) => {
          reports.push([step, value]);
          job.updateProgress(batched ? { trialId: data.trialId, step, value } : { step, value }).catch(() => undefined);
        },
      });
      // also stored with the result: the coordinator may read it before the progress events
      if (reports.length > 0) outcome.reports = reports;
      outcome.queueWaitMs = queueWaitMs;
      // a kept trial directory (--trials-dir) is where the trial's files and logs are
      if (this.o.trialsDir !== undefined) outcome.worker = { ...(outcome.worker ?? this.host.info), trialDir: task.trialDir as string };
      // `ok`: the objective returned, and its lazy directory is gone with it; otherwise (timed
      // out, cancelled, a thread that crashed) it may be left: removed here
      finished = outcome.status === 'ok';
      return outcome;
    } finally {
      if (devices.length > 0) this.allocator.release(devices);
      if (!lazyDir || !finished) await this.dirs.done(task.trialDir as string);
    }
  }
}
