/**
 * The Study — a named optimization, in memory or persistent in a storage that any process can
 * join (opened by study-open.ts: `createStudy`, `loadStudy`, `listStudies`, `deleteStudy`): on it
 * `optimize`, `ask`/`tell`, `push`, `trials`, `trial`, `bestTrial`, `summary`, `export`.
 * Objectives: a JS function (evaluated in this process, so only a process holding it can
 * optimize), a module or a command. The CLI commands are thin wrappers over these.
 */
import { randomUUID } from 'node:crypto';
import { DehbError } from '../errors.js';
import { rejectUnknownKeys, type KeyList } from '../unknown-keys.js';
import { validateConfig } from '../dehb/space/index.js';
import type { Config, IncumbentSummary } from '../dehb/types.js';
import type { ObjectiveFn } from '../objective.js';
import type { StoredEntry } from '../study/journal-types.js';
import { queuePushes } from '../study/study-pushes.js';
import { type LeaseInfo, type QueueStats, type StudyStorage } from '../study/storage.js';
import { StudyAsker, type AskedTrial, type AskOptions } from './study-ask.js';
import type { ResultInput } from './result-input.js';
import { EVALUATION_OPTION_KEYS, findGpus, openEvaluator, pinnedGpusPerTrial, type Evaluator } from './evaluation.js';
import {
  exportCsv,
  exportJson,
  filterTrials,
  studyView,
  summarize,
  type StudySummary,
  type StudyTrial,
  type StudyView,
} from '../study/study-records.js';
import { runStudy, type StudyRunOptions, type StudyRunSummary } from './study-loop.js';
import type { Budget } from '../driver/budget.js';
import type { StopReason } from '../driver/run-loop.js';
import { isFinished } from '../protocol/journal-versions.js';
import type { RunResult } from './dehb.js';
import { sleep } from '../util/sleep.js';

export interface PushResult {
  /** The trial id, or null when a running leader has not handed it out yet. */
  trialId: number | null;
  config: Config;
  fidelity: number;
}

/** Evaluation options and one budget: a TOTAL of the study (fevals, brackets) or this call's runtimeMs. */
export type OptimizeOptions = Omit<StudyRunOptions, 'storage' | 'study' | 'mode' | 'budget'> &
  Omit<Budget, 'total'> & {
    /** The JS function of a study created with one (default: the one given to createStudy/loadStudy). */
    objective?: ObjectiveFn;
  };

/**
 * The one result type of a run, `new DEHB().run()`'s RunResult, over the whole study (incumbent,
 * history, trajectory, trials per status), and this process's part in it (StudyRunSummary).
 */
export type OptimizeResult = RunResult &
  StudyRunSummary & {
    /** The same as `incumbent` (its older name). */
    best: IncumbentSummary | null;
  };

const OPTIMIZE_KEYS: KeyList<OptimizeOptions> = {
  fevals: true,
  brackets: true,
  runtimeMs: true,
  ...EVALUATION_OPTION_KEYS,
  acceptStudyFiles: true,
  trialsDir: true,
  workerId: true,
  claimTtlMs: true,
  leaseTtlMs: true,
  queueAhead: true,
  idleExitMs: true,
  maxTrials: true,
  signal: true,
  graceMs: true,
  killSignal: true,
  allow: true,
  log: true,
  onTold: true,
  objective: true,
};

export class Study {
  constructor(
    readonly name: string,
    readonly storage: StudyStorage,
    private readonly ownsStorage = false,
    /** True when createStudy made it (false when it existed and skipIfExists applied). */
    readonly created = false,
    /** The JS function objective, when the study evaluates one. */
    private readonly fn: ObjectiveFn | undefined = undefined,
  ) {}

  private asker: StudyAsker | null = null;

  /**
   * Hands out the next trial for the caller to evaluate; `tell` its result. Asked trials are the
   * caller's: `optimize` never evaluates them (also after the study is re-opened) and they stay
   * pending until told. While an optimize leads the study, ask waits for it up to `waitMs`.
   */
  ask(opts: AskOptions = {}): Promise<AskedTrial> {
    rejectUnknownKeys(opts, ['waitMs'], 'study.ask(options)');
    this.asker ??= new StudyAsker(this.storage, this.name);
    return this.asker.ask(opts);
  }

  /**
   * Records the result of a trial from `ask()` (the trial or its id): a number, `{ fitness, cost?,
   * info? }` or a TrialResult (`status` ok | failed | timed-out | cancelled). Resolves when it is
   * journaled; an unknown or already-told trial is an error.
   */
  tell(trial: AskedTrial | number, result: ResultInput): Promise<void> {
    this.asker ??= new StudyAsker(this.storage, this.name);
    return this.asker.tell(trial, result);
  }

  /** The study's best ok trial (lowest fitness), or null before one succeeded. */
  async bestTrial(): Promise<StudyTrial | null> {
    const best = (await this.summary()).best;
    return best === null ? null : this.trial(best.trialId);
  }

  /** Everything the journal says, read without locks. */
  async view(): Promise<StudyView> {
    const j = await this.storage.journal(this.name);
    try {
      return studyView(this.name, await j.read(1));
    } finally {
      await j.close();
    }
  }

  async summary(): Promise<StudySummary> {
    return summarize(await this.view());
  }

  async trials(filter: { status?: string | string[] } = {}): Promise<StudyTrial[]> {
    const s = filter.status;
    return filterTrials((await this.view()).trials, s === undefined ? undefined : Array.isArray(s) ? s : [s]);
  }

  async trial(trialId: number): Promise<StudyTrial> {
    const t = (await this.view()).trials.find((x) => x.trialId === trialId);
    if (t === undefined) throw new DehbError('E_STUDY', `study "${this.name}" has no trial ${trialId}`);
    return t;
  }

  async status(): Promise<{ queue: QueueStats; lease: LeaseInfo | null }> {
    // a directory storage counts its local queue; a Redis study's trials are out as cluster jobs: count them in the journal
    const local = this.storage.queue;
    const queue = local !== undefined ? await local.queueStats(this.name) : countOut(await this.trials());
    return { queue, lease: await this.storage.getLease(this.name) };
  }

  /**
   * Queues a hand-written configuration (validated against the space; fidelity defaults to the
   * maximum). It is evaluated before optimizer trials. When no leader runs, this call turns it into
   * a trial itself; otherwise it waits up to `waitMs` (default 5 s) for the leader to do so.
   */
  async push(params: Record<string, unknown>, fidelity?: number, opts: { waitMs?: number } = {}): Promise<PushResult> {
    const j = await this.storage.journal(this.name);
    try {
      const created = (await j.read(1))[0] as Extract<StoredEntry, { type: 'created' }>;
      const o = created.options;
      const config = validateConfig(o.space, params);
      const f = fidelity ?? o.maxFidelity;
      if (typeof f !== 'number' || !Number.isFinite(f) || f < o.minFidelity || f > o.maxFidelity) {
        throw new DehbError('E_CONFIG', `--fidelity must be within [${o.minFidelity}, ${o.maxFidelity}] (got ${String(fidelity)})`);
      }
      const seq = await j.append([{ type: 'pushed', config, fidelity: f }]);
      await queuePushes(this.storage, this.name, `push-${randomUUID().slice(0, 8)}`);
      const deadline = Date.now() + (opts.waitMs ?? 5000);
      for (;;) {
        const entries = await j.read(1);
        const k = entries.filter((e) => e.type === 'pushed' && e.seq <= seq).length;
        const asked = entries.filter((e) => e.type === 'asked' && e.job.source === 'manual');
        const mine = asked[k - 1];
        if (mine !== undefined && mine.type === 'asked') return { trialId: mine.trialId, config, fidelity: f };
        if (Date.now() >= deadline) return { trialId: null, config, fidelity: f };
        await sleep(50);
      }
    } finally {
      await j.close();
    }
  }

  /**
   * Runs (or joins) the optimization until the study's total budget is met. A function objective
   * is evaluated in this process (`nWorkers` at once, as `new DEHB` does); trials handed out by
   * `ask()` and not told are left to their asker. Results told meanwhile count toward the budget.
   */
  async optimize(opts: OptimizeOptions): Promise<OptimizeResult> {
    rejectUnknownKeys(opts, OPTIMIZE_KEYS, 'study.optimize(options)');
    const { fevals, brackets, runtimeMs, objective, ...rest } = opts;
    const started = Date.now();
    const evaluate = await this.functionEvaluator(objective, rest);
    let r: StudyRunSummary;
    try {
      const budget = { fevals, brackets, runtimeMs }; // checked by the one budget validator (driver/budget.ts)
      r = await runStudy({ ...rest, ...(evaluate === null ? {} : { executor: evaluate.executor }), storage: this.storage, study: this.name, mode: 'optimize', budget });
    } finally {
      await evaluate?.close(opts.killSignal?.aborted === true);
    }
    const { best, trials: history, trajectory } = await this.view();
    const trials: Record<string, number> = {};
    for (const t of history) if (isFinished(t.status)) trials[t.status] = (trials[t.status] ?? 0) + 1;
    // optimize ends on budget, no-work or stopped (idle and max-trials are a worker's)
    return { ...r, stopReason: r.reason as StopReason, incumbent: best, best, history, trajectory, trials, elapsedMs: Date.now() - started };
  }

  /** The in-process evaluator of a function study, as `new DEHB` opens it (null for module and command studies). */
  private async functionEvaluator(given: ObjectiveFn | undefined, o: Omit<OptimizeOptions, 'fevals' | 'brackets' | 'runtimeMs' | 'objective'>): Promise<Evaluator | null> {
    if (given !== undefined && typeof given !== 'function') throw new DehbError('E_CONFIG', 'study.optimize({ objective }) takes a JS function');
    const kind = (await this.view()).meta.objective?.kind;
    const fn = given ?? this.fn;
    if (kind !== 'function') {
      if (given !== undefined) {
        throw new DehbError('E_CONFIG', `study "${this.name}" evaluates ${kind === undefined ? 'no objective (ask/tell only)' : `a ${kind} objective`}; optimize({ objective }) is for studies created with a JS function`);
      }
      return null;
    }
    if (o.executor !== undefined) return null;
    if (fn === undefined) {
      throw new DehbError('E_CONFIG', `study "${this.name}" evaluates a JS function, which is not stored: only a process holding it can optimize the study (in code: loadStudy(name, { storage, objective }) or optimize({ objective }); dehb optimize and workers cannot)`);
    }
    return openEvaluator(fn, o, await findGpus(pinnedGpusPerTrial(o)));
  }

  async export(format: 'json' | 'csv'): Promise<string> {
    const view = await this.view();
    if (format === 'json') return exportJson(view);
    if (format === 'csv') return exportCsv(view.trials);
    throw new DehbError('E_USAGE', `--format must be json or csv (got "${String(format)}")`);
  }

  async close(): Promise<void> {
    await this.asker?.close();
    if (this.ownsStorage) await this.storage.close();
  }
}

function countOut(trials: StudyTrial[]): QueueStats {
  return { queued: trials.filter((t) => t.status === 'queued').length, claimed: trials.filter((t) => t.status === 'running').length };
}
