/**
 * The DEHB class users construct, the one-run case of the front door: wraps a RunSession (optimizer
 * state + history + optional journal in a run directory) and runs it through the run loop with the
 * executor a Study's optimize would choose (evaluation.ts: inline, thread pool, child processes,
 * GPU-pinned processes) or a cluster client's. ask()/tell() drive it by hand.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DehbError } from '../errors.js';
import type { IncumbentSummary, Job } from '../dehb/types.js';
import { resolveOptimizerOptions } from '../dehb/optimizer.js';
import { checkRunName, checkTrialTimeout } from '../protocol/schemas.js';
import type { GpuAllocator } from '../gpu/allocator.js';
import { RunSession } from '../study/run-session.js';
import { incumbentSummary } from '../study/incumbent.js';
import type { RunJournal } from '../study/run-journal.js';
import { openSession } from '../study/session-open.js';
import type { RunMeta, TrialRecord } from '../study/journal-types.js';
import type { StopReason } from '../driver/run-loop.js';
import { checkBudget, type Budget } from '../driver/budget.js';
import { drive } from '../driver/drive.js';
import { HistoryFiles, IncumbentFile, journalPath, writeIncumbent } from './run-output.js';
import { checkCommandObjective, DEHB_OPTION_KEYS, toObjectiveRef, type DEHBOptions } from './dehb-options.js';
import { checkWorkers, findGpus, openEvaluator, pinnedGpusPerTrial, type Evaluator } from './evaluation.js';
import { rejectUnknownKeys, type KeyList } from '../unknown-keys.js';
import { normaliseResult, type ResultInput } from './result-input.js';

/** What a run returns: `dehb.run()`, and `study.optimize()` over its whole study (OptimizeResult). */
export interface RunResult {
  incumbent: IncumbentSummary | null;
  /** Incumbent fitness after each told result (Infinity until a trial succeeds). */
  trajectory: number[];
  /** One record per trial (with outputDir: read back from the journal when first used). */
  history: TrialRecord[];
  /** Finished trials per status, this run and the ones before it. */
  trials: Record<string, number>;
  stopReason: StopReason;
  elapsedMs: number;
}

/** A budget (`total: true` counts from the start of the run: a resumed CLI run, a study). */
export interface RunOptions extends Budget {
  /** Graceful stop: no new trials; running ones finish. */
  signal?: AbortSignal;
  /** Forced stop: running trials are cancelled and stay pending (a resume re-runs them). */
  killSignal?: AbortSignal;
}

const RUN_OPTION_KEYS: KeyList<RunOptions> = { fevals: true, brackets: true, runtimeMs: true, total: true, signal: true, killSignal: true };

export class DEHB {
  private session: RunSession | null = null;
  private opening: Promise<RunSession> | null = null;
  private objective: ReturnType<typeof toObjectiveRef>;
  private id: string;
  /** Found before the run directory is made (a set-up without GPUs leaves nothing behind). */
  private gpuAllocator: GpuAllocator | undefined;
  private journal: RunJournal | null = null;

  constructor(private readonly options: DEHBOptions) {
    if (options === null || typeof options !== 'object') {
      throw new DehbError('E_CONFIG', 'new DEHB(options) needs an options object');
    }
    rejectUnknownKeys(options, DEHB_OPTION_KEYS, 'new DEHB(options)');
    this.objective = toObjectiveRef(options.objective);
    this.id = options.runId ?? `run-${randomUUID().slice(0, 8)}`;
    checkWorkers(options.nWorkers);
    checkTrialTimeout(options.trialTimeoutMs);
    checkRunName(options.runId);
    if (options.resume === true && options.outputDir === undefined) {
      throw new DehbError('E_CONFIG', 'resume needs outputDir (the directory holding journal.jsonl)');
    }
    // Optimizer options are validated here, so bad input fails at construction.
    if (options.outputDir === undefined) {
      this.session = RunSession.create(options, this.meta());
      checkCommandObjective(this.objective?.ref, this.session.state.options.space);
    } else if (options.resume !== true) checkCommandObjective(this.objective?.ref, resolveOptimizerOptions(options).space);
  }

  /** Opens (or resumes) the journal. run() calls it; call it yourself before ask() with outputDir. */
  async ready(): Promise<RunSession> {
    if (this.session !== null) return this.session;
    this.opening ??= this.open();
    this.session = await this.opening;
    // a resumed run keeps its name: cluster job ids (`<runId>-<trialId>`) must match to re-attach
    this.id = this.session.meta.runId;
    if (this.objective === null && this.session.meta.objective !== undefined && this.session.meta.objective.kind !== 'function') {
      this.objective = { ref: this.session.meta.objective };
    }
    if (this.options.resume === true) checkCommandObjective(this.objective?.ref, this.session.state.options.space);
    return this.session;
  }

  /** Name of the run (recorded in the journal; cluster job ids are `<runId>-<trialId>`). */
  get runId(): string {
    return this.id;
  }

  /** The best result so far under the incumbent rule (the shape every output uses). */
  get incumbent(): IncumbentSummary | null {
    return incumbentSummary(this.requireSession().incumbent);
  }

  get history(): TrialRecord[] {
    return this.requireSession().history.records();
  }

  get trajectory(): number[] {
    return [...this.requireSession().history.trajectory];
  }

  /** Trials asked and never told (after a resume: the ones to evaluate again). */
  get pending(): Job[] {
    const s = this.requireSession();
    return Object.values(s.state.pending).sort((a, b) => a.trialId - b.trialId);
  }

  /**
   * The next job, `running` until told (the caller evaluates it, as with `study.ask()`). Asking
   * many before telling any opens new brackets as needed.
   */
  ask(): Job {
    const session = this.requireSession();
    const r = session.ask();
    if (!('job' in r)) throw new DehbError('E_STATE', `no job can be asked now (${r.reason})`);
    session.started(r.job.trialId);
    return r.job;
  }

  /**
   * Records a result for a job from ask(): a number, `{fitness, cost?, info?}`, or a TrialResult.
   * Throws for an unknown or already-told trial. Resolves when the result is durable.
   */
  tell(job: Job | number, result: ResultInput): Promise<void> {
    const session = this.requireSession();
    const trialId = typeof job === 'number' ? job : job.trialId;
    if (session.pendingJob(trialId) === undefined) {
      throw new DehbError(
        'E_STATE',
        !session.wasAsked(trialId) ? `trial ${trialId} was never asked; tell() takes a job returned by ask()` : `trial ${trialId} was already told`,
      );
    }
    return session.tell(trialId, normaliseResult(result)).durable();
  }

  /** Runs until the budget is used: { fevals } | { brackets } | { runtimeMs }. Again = continue. */
  async run(opts: RunOptions): Promise<RunResult> {
    rejectUnknownKeys(opts, RUN_OPTION_KEYS, 'dehb.run(options)');
    checkBudget(opts); // before anything opens
    const session = await this.ready();
    const objective = this.objective?.ref;
    if (objective === undefined) throw new DehbError('E_CONFIG', 'run() needs an objective (a function, a module path or a command)');
    const { executor, close } = await this.evaluator();
    const dir = this.options.outputDir;
    const files =
      dir === undefined
        ? null
        : await HistoryFiles.open(dir, Object.keys(session.state.options.space), session.told, () => session.history.records());
    const incumbentFile = dir === undefined ? null : new IncumbentFile(dir);
    let summary: Awaited<ReturnType<typeof drive>>;
    try {
      try {
        summary = await drive({
          session,
          executor,
          budget: opts,
          task: {
            runId: this.runId,
            objective,
            trialTimeoutMs: this.options.trialTimeoutMs ?? session.meta.trialTimeoutMs,
            gpus: this.pinnedGpusPerTrial(),
            ...(dir === undefined ? {} : { trialsDir: join(dir, 'trials') }),
          },
          ...(opts.signal === undefined ? {} : { stopSignal: opts.signal }),
          ...(opts.killSignal === undefined ? {} : { killSignal: opts.killSignal }),
          events: {
            onTrialStart: (job) => this.options.onTrialStart?.(job),
            onTrialEnd: (record, info) => {
              files?.add(record);
              this.options.onTrialEnd?.(record, info);
              if (info.improved) incumbentFile?.offer(incumbentSummary(session.incumbent));
            },
          },
        });
      } finally {
        await close(opts.killSignal?.aborted === true);
      }
      // `dehb show` reports why the last run() ended
      session.recordFinished(summary.reason);
      await session.flush();
      if (dir !== undefined) {
        await incumbentFile?.settled();
        await writeIncumbent(dir, incumbentSummary(session.incumbent));
      }
    } catch (err) {
      await files?.close().catch(() => undefined); // the run's own error is the one to report
      throw err;
    }
    await files?.close();
    await this.journal?.suspend(); // between runs another process may open the directory
    return this.result(summary.reason, summary.elapsedMs);
  }

  /** Waits for the journal to be durable and gives the run directory's writer lock up. */
  async close(): Promise<void> {
    await this.session?.flush();
    await this.journal?.close();
  }

  /** The run's result so far. */
  result(stopReason: StopReason = 'stopped', elapsedMs = 0): RunResult {
    const s = this.requireSession();
    const inc = s.incumbent;
    const result = {
      incumbent: incumbentSummary(inc),
      trajectory: [] as number[],
      history: [] as TrialRecord[],
      trials: { ...s.counts },
      stopReason,
      elapsedMs,
    };
    // read back on first use only (a journaled run keeps no records in memory)
    let view: ReturnType<RunSession['history']['records']> | null = null;
    let trajectory: number[] | null = null;
    Object.defineProperty(result, 'history', { enumerable: true, get: () => (view ??= s.history.records()) });
    Object.defineProperty(result, 'trajectory', { enumerable: true, get: () => (trajectory ??= [...s.history.trajectory]) });
    return result;
  }

  private requireSession(): RunSession {
    if (this.session === null) {
      throw new DehbError('E_STATE', 'the run is not open yet: `await dehb.ready()` first (needed with outputDir)');
    }
    return this.session;
  }

  private async open(): Promise<RunSession> {
    const dir = this.options.outputDir as string;
    const resume = this.options.resume === true;
    // everything that can refuse a new run's set-up is checked before its directory exists
    if (!resume) this.gpuAllocator = await findGpus(this.pinnedGpusPerTrial());
    const opened = await openSession({ kind: 'run-dir', dir, path: journalPath(dir), resume, options: this.options, meta: this.meta() });
    this.journal = opened.journal;
    return opened.session;
  }

  private pinnedGpusPerTrial(): number {
    return pinnedGpusPerTrial(this.options, this.session?.meta.gpusPerTrial);
  }

  private meta(): RunMeta {
    const meta: RunMeta = { runId: this.runId, trialTimeoutMs: this.options.trialTimeoutMs ?? null, instance: randomUUID() };
    if (this.options.nWorkers !== undefined) meta.nWorkers = this.options.nWorkers;
    if (this.options.client?.weight !== undefined) meta.weight = this.options.client.weight;
    if (this.objective !== null) meta.objective = this.objective.ref;
    if (this.options.singleNodeWithGpus === true) meta.gpusPerTrial = this.options.gpusPerTrial ?? 1;
    return meta;
  }

  private async evaluator(): Promise<Evaluator> {
    const o = this.options;
    if (o.executor !== undefined) return { executor: o.executor, close: async () => undefined };
    // a resumed run without nWorkers (or a weight) keeps the one it was started with
    const nWorkers = o.nWorkers ?? this.session?.meta.nWorkers;
    if (o.client !== undefined) {
      const instance = this.session?.meta.instance;
      const owner = instance === undefined ? undefined : { instance, resume: o.resume === true, ...(o.outputDir === undefined ? {} : { output: o.outputDir }) };
      const weight = o.client.weight ?? this.session?.meta.weight;
      const executor = await o.client.executor(this.runId, nWorkers, owner, weight === undefined ? {} : { weight });
      return { executor, close: (force) => executor.close({ force }) };
    }
    if (this.objective === null) throw new DehbError('E_CONFIG', 'run() needs an objective (a function, a module path or a command)');
    this.gpuAllocator ??= await findGpus(this.pinnedGpusPerTrial());
    return openEvaluator(this.objective.fn ?? this.objective.ref, { nWorkers, trialTimeoutMs: o.trialTimeoutMs }, this.gpuAllocator);
  }
}
