/**
 * The evaluating side of a directory study (its local queue), shared by `dehb optimize` (every
 * process, the leader included) and `dehb worker --study`: claim a queued trial, journal
 * `started`, evaluate it through the Executor the runner chose the way `dehb run` does (threads,
 * processes, GPU pinning, timeouts; intermediate values become `report` entries), and leave the
 * outcome in the queue: the lease holder journals `told` and applies the retry policy, as for a
 * BullMQ job's returnvalue. Claims are heart-beaten; a worker that dies stops heart-beating and its
 * trial goes back to the queue; a stopped one hands its running trials back. For a Redis study it
 * only reads: the journal (told, pending, pushes), the study's objective, and `localTask`, which
 * the in-process cluster worker runtime uses to run a trial with the study's shipped files.
 * Shipped input files run only with `acceptStudyFiles`; otherwise the worker refuses the study at
 * init, saying how to allow it.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DehbError, serializeError } from '../errors.js';
import { taskTimeout, type EvalOutcome, type EvalTask, type Executor, type ObjectiveRef, type WorkerInfo } from '../protocol/executor.js';
import type { JournalBackend, JournalEntry, RunMeta, StoredEntry } from './journal-types.js';
import { JournalWriter } from './journal-writer.js';
import { killedByShutdownSignal } from '../cluster/bullmq/job-verdicts.js';
import { InputFileCache } from './input-files.js';
import { localQueue, studyRunId, type ClaimedTask, type StudyStorage } from './storage.js';
import type { StartedEntryExt } from './study-records.js';

export interface StudyWorkerOptions {
  storage: StudyStorage;
  study: string;
  /** Default `<host>-<pid>-<random>`. */
  workerId?: string | undefined;
  acceptStudyFiles?: boolean | undefined;
  /**
   * Root of per-trial working directories (`<trialsDir>/<study>/<trialId>`). Default
   * $DEHB_TRIALS_DIR, else `<study dir>/trials` for directory storage, `./dehb-trials/<study>` for Redis.
   */
  trialsDir?: string | undefined;
  /** A claim not heart-beaten for this long goes back to the queue. Default 30 s. */
  claimTtlMs?: number | undefined;
  /** Kill a trial after this many ms. Default: the study's `trialTimeoutMs`. */
  trialTimeoutMs?: number | undefined;
  /** Devices pinned per trial (with a GPU allocator in the executor of `useExecutor`). Default 0. */
  gpusPerTrial?: number;
  log?: (msg: string) => void | undefined;
  /** Called when this worker starts evaluating a claimed trial. */
  onStarted?: (trialId: number) => void;
}

const DEFAULT_CLAIM_TTL_MS = 30_000;

function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
}

export class StudyWorker {
  readonly workerId: string;
  readonly claimTtlMs: number;
  private journal: JournalBackend | null = null;
  private writer: JournalWriter | null = null;
  private meta: RunMeta | null = null;
  private files: InputFileCache | null = null;
  private readSeq = 0;
  private readonly toldIds = new Set<number>();
  private readonly askedIds = new Set<number>();
  private pushed = 0;
  private manualAsked = 0;
  private executor: Executor | null = null;

  constructor(private readonly opts: StudyWorkerOptions) {
    this.workerId = opts.workerId ?? defaultWorkerId();
    this.claimTtlMs = opts.claimTtlMs ?? DEFAULT_CLAIM_TTL_MS;
  }

  async init(): Promise<void> {
    this.journal = await this.opts.storage.journal(this.opts.study);
    this.writer = new JournalWriter(this.journal);
    await this.sync();
    const trials = this.trialsRoot();
    const files = this.meta?.inputFiles ?? [];
    if (files.length > 0 && this.opts.acceptStudyFiles !== true) {
      // refused up front: failing every trial would fill the study with failures that say nothing about the configurations
      await this.close();
      throw new DehbError(
        'E_NOT_ALLOWED',
        `study "${this.opts.study}" ships input files (${files.map((f) => f.name).join(', ')}); this worker runs shipped files only when started with --accept-study-files (dehb worker --study ${this.opts.study} --accept-study-files)`,
      );
    }
    if (files.length > 0) this.files = new InputFileCache(this.opts.storage, this.opts.study, files, join(trials, '.files'));
  }

  /** The study's objective (after init). */
  get objective(): ObjectiveRef | undefined {
    return this.meta?.objective;
  }

  /** The study's per-trial timeout (after init). */
  get trialTimeoutMs(): number | null {
    return this.opts.trialTimeoutMs ?? this.meta?.trialTimeoutMs ?? null;
  }

  /**
   * Evaluates the trials through this executor (chosen as `dehb run` chooses: inline, threads,
   * processes, GPU-pinned). Set once the study's objective is known, before the first run().
   */
  useExecutor(executor: Executor): void {
    this.executor = executor;
  }

  /** Told trials in the study, as far as this worker has read the journal. */
  get toldCount(): number {
    return this.toldIds.size;
  }

  /** Asked trials without a result that a lease holder runs (as far as this worker has read the journal). */
  get pendingCount(): number {
    let n = 0;
    for (const id of this.askedIds) if (!this.toldIds.has(id)) n++;
    return n;
  }

  /** Pushed configurations that no leader has turned into trials yet. */
  get pushesWaiting(): number {
    return Math.max(0, this.pushed - this.manualAsked);
  }

  /** Reads new journal entries (told ids, pushes). */
  async sync(): Promise<StoredEntry[]> {
    const entries = await (this.journal as JournalBackend).read(this.readSeq + 1);
    for (const e of entries) {
      if (e.type === 'created') this.meta = e.meta;
      else if (e.type === 'told') this.toldIds.add(e.trialId);
      else if (e.type === 'pushed') this.pushed++;
      else if (e.type === 'asked') {
        if (e.external !== true) this.askedIds.add(e.trialId); // a trial handed out by ask() is its asker's to tell
        if (e.job.source === 'manual') this.manualAsked++;
      }
    }
    if (entries.length > 0) this.readSeq = (entries[entries.length - 1] as StoredEntry).seq;
    return entries;
  }

  claim(): Promise<ClaimedTask | null> {
    return localQueue(this.opts.storage).claim(this.opts.study, this.workerId, this.claimTtlMs);
  }

  /**
   * Evaluates a claimed trial and leaves its outcome in the queue for the lease holder, which
   * journals it (`started` and the live reports this worker journals itself). With `kill` aborted
   * the evaluation is cancelled and the trial goes back to the queue. Resolves with the outcome
   * the queue took, or null (handed back, or the claim was lost: another worker runs the trial).
   * While `stop` is aborted (this process is stopping), a command killed by the shutdown signal
   * a scheduler sent to the whole step is handed back too, as the cluster worker runtime does.
   */
  async run(task: ClaimedTask, kill?: AbortSignal, stop?: AbortSignal): Promise<EvalOutcome | null> {
    const { study } = this.opts;
    const queue = localQueue(this.opts.storage);
    const worker: WorkerInfo = { id: this.workerId, host: hostname(), pid: process.pid };
    const trialDir = join(this.trialsRoot(), String(task.trialId));
    const started: Omit<StartedEntryExt, 'seq' | 'at'> = { type: 'started', trialId: task.trialId, worker, trialDir };
    this.write(started as JournalEntry);
    this.opts.onStarted?.(task.trialId);
    // the heartbeat is the queue's stalled-job check: a claim nobody renews goes back to the queue
    const beat = setInterval(() => {
      queue.heartbeat(study, task.trialId, this.workerId, this.claimTtlMs).catch(() => undefined);
    }, Math.max(50, Math.floor(this.claimTtlMs / 3)));
    let outcome: EvalOutcome;
    try {
      outcome = await this.evaluate(task, trialDir, worker, kill);
    } finally {
      clearInterval(beat);
      await this.writer?.flush().catch(() => undefined); // reports before the holder's `told`
    }
    if ((outcome.status === 'cancelled' && kill?.aborted === true) || (stop?.aborted === true && killedByShutdownSignal(outcome))) {
      await queue.unclaim(study, task.trialId, this.workerId);
      return null;
    }
    if (!(await queue.complete(study, task.trialId, this.workerId, outcome))) {
      this.opts.log?.(`worker ${this.workerId}: lost the claim on trial ${task.trialId}; its result is dropped (another worker runs it)`);
      return null;
    }
    return outcome;
  }

  /**
   * Journals a `started` or `report` entry through the batching JournalWriter; they only inform
   * readers, so a failure is logged, and a new writer replaces the failed one.
   */
  private write(entry: JournalEntry): void {
    const w = this.writer as JournalWriter;
    w.write(entry).catch((err: unknown) => {
      if (this.writer === w) this.writer = new JournalWriter(this.journal as JournalBackend);
      this.opts.log?.(`worker ${this.workerId}: ${entry.type} of trial ${(entry as { trialId: number }).trialId} not journaled: ${(err as Error).message}`);
    });
  }

  async close(): Promise<void> {
    await this.writer?.flush().catch(() => undefined);
    await this.journal?.close();
  }

  private async evaluate(task: ClaimedTask, trialDir: string, worker: WorkerInfo, kill?: AbortSignal): Promise<EvalOutcome> {
    let evalTask: EvalTask;
    try {
      evalTask = await this.localTask({
        v: 1,
        runId: studyRunId(this.opts.study),
        trialId: task.trialId,
        config: task.config,
        fidelity: task.fidelity,
        objective: { kind: 'function' },
        timeoutMs: taskTimeout(this.trialTimeoutMs),
        gpus: this.opts.gpusPerTrial ?? 0,
        trialDir,
        extra: { study: this.opts.study },
      });
    } catch (err) {
      return { status: 'failed', error: serializeError(err), retryable: false };
    }
    const onReport = (step: number, value: number): void => this.write({ type: 'report', trialId: task.trialId, step, value });
    if (this.executor === null) throw new DehbError('E_EXECUTOR', 'this process evaluates no study trials (no executor)');
    const outcome = await this.executor.submit(evalTask, { ...(kill === undefined ? {} : { signal: kill }), onReport, liveReports: true });
    // the study records the worker process that claimed the trial (plus the devices it pinned)
    const devices = outcome.worker?.devices;
    return { ...outcome, worker: devices === undefined ? worker : { ...worker, devices } };
  }

  /**
   * A trial of this study as this process runs it, in its trial directory: the study's own
   * objective reference (cwd and env included; a cwd that does not exist here is dropped), its
   * shipped input files materialised there. Throws E_CONFIG for a study without an objective.
   */
  async localTask(task: EvalTask): Promise<EvalTask> {
    let objective: ObjectiveRef | undefined = this.meta?.objective;
    if (objective === undefined) {
      throw new DehbError('E_CONFIG', `study "${this.opts.study}" has no objective; create it with --command or --objective`);
    }
    const trialDir = task.trialDir as string;
    if (this.files !== null) {
      await this.files.materialize(trialDir);
      objective = await this.localObjective(objective, trialDir);
    } else if (objective.kind === 'command' && objective.cwd !== undefined && !existsSync(objective.cwd)) {
      const { cwd: _c, ...rest } = objective;
      objective = rest;
    }
    return { ...task, objective };
  }

  /** Commands run in the trial directory; a shipped module is imported from the file cache. */
  private async localObjective(ref: ObjectiveRef, trialDir: string): Promise<ObjectiveRef> {
    if (ref.kind === 'command') return { ...ref, cwd: trialDir };
    if (ref.kind === 'module' && !isAbsolute(ref.path)) {
      const set = await (this.files as InputFileCache).ensureSet();
      return { ...ref, path: resolve(set, ref.path) };
    }
    return ref;
  }

  private trialsRoot(): string {
    const local = this.opts.storage.localDir?.(this.opts.study);
    return local !== undefined && this.opts.trialsDir === undefined && !hasTrialsEnv() ? join(local, 'trials') : join(this.clusterTrialsDir(), this.opts.study);
  }

  /** Where a cluster worker of this process keeps trial directories (`<it>/<run id>/<trial id>`). */
  clusterTrialsDir(): string {
    if (this.opts.trialsDir !== undefined) return resolve(this.opts.trialsDir);
    return resolve(hasTrialsEnv() ? (process.env.DEHB_TRIALS_DIR as string) : 'dehb-trials');
  }
}

function hasTrialsEnv(): boolean {
  const env = process.env.DEHB_TRIALS_DIR;
  return env !== undefined && env !== '';
}
