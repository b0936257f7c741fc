/**
 * A run in progress: the optimizer state, its trial history and (optionally) its journal. Every
 * ask and tell goes through here, so the journal and the state never disagree. Results are
 * recorded idempotently: the first result for a trial id wins, later ones are reported as
 * duplicates and change nothing.
 */
import { DehbError } from '../errors.js';
import { ask, createState, push, resolveOptimizerOptions, tell } from '../dehb/optimizer.js';
import type {
  AskResult,
  DehbState,
  Incumbent,
  Job,
  OptimizerOptions,
  TrialResult,
} from '../dehb/types.js';
import type { WorkerInfo } from '../protocol/executor.js';
import type { JournalBackend, JournalEntry, RunMeta } from './journal-types.js';
import { TrialHistory } from './history.js';
import { JournalWriter } from './journal-writer.js';
import { Replayer } from './replay.js';

const noop = (): void => {};

export interface TellOutcome {
  /** False when the trial already had a result (a duplicate delivery) — nothing changed. */
  recorded: boolean;
  improved: boolean;
}

export class RunSession {
  private readonly writer: JournalWriter | null;
  private readonly applied: { told: number; pushed: number };

  private constructor(
    readonly state: DehbState,
    readonly history: TrialHistory,
    readonly meta: RunMeta,
    journal: JournalBackend | null,
    applied: { told: number; pushed: number },
    /** Trials asked before this session started and never told (resume re-submits them). */
    readonly resumedPending: Job[],
    /** The last budget recorded in the journal (a resumed CLI run reuses it). */
    readonly recordedBudget: Extract<JournalEntry, { type: 'budget' }>['budget'] | null = null,
  ) {
    this.writer = journal === null ? null : new JournalWriter(journal);
    this.applied = applied;
  }

  /** A new run; with a journal, the `created` entry is written first. */
  static async create(
    options: OptimizerOptions,
    meta: RunMeta,
    journal: JournalBackend | null = null,
  ): Promise<RunSession> {
    const resolved = resolveOptimizerOptions(options);
    const session = new RunSession(createState(resolved), new TrialHistory(), meta, journal, { told: 0, pushed: 0 }, []);
    if (session.writer !== null) await session.writer.write({ type: 'created', options: resolved, meta });
    return session;
  }

  /** A run without a journal (everything in memory). */
  static createInMemory(options: OptimizerOptions, meta: RunMeta): RunSession {
    const resolved = resolveOptimizerOptions(options);
    return new RunSession(createState(resolved), new TrialHistory(), meta, null, { told: 0, pushed: 0 }, []);
  }

  /** Rebuilds a run from its journal (see replay.ts). */
  static async resume(journal: JournalBackend, source = 'journal'): Promise<RunSession> {
    const replayer = new Replayer(source);
    replayer.feed(await journal.read(1));
    const r = replayer.result();
    return new RunSession(r.state, r.history, r.meta, journal, r.applied, r.pending, r.budget);
  }

  get incumbent(): Incumbent | null {
    return this.state.incumbent;
  }

  get told(): number {
    return this.state.told;
  }

  /** Jobs asked and not yet told. */
  get pendingCount(): number {
    return Object.keys(this.state.pending).length;
  }

  pendingJob(trialId: number): Job | undefined {
    return this.state.pending[String(trialId)];
  }

  ask(opts: { maxBrackets?: number } = {}): AskResult {
    const applied = { ...this.applied };
    const r = ask(this.state, opts);
    if ('job' in r) {
      this.history.onAsked(r.job, Date.now());
      this.record({ type: 'asked', trialId: r.job.trialId, job: r.job, applied });
    }
    return r;
  }

  push(config: Record<string, unknown>, fidelity?: number): void {
    push(this.state, config, fidelity);
    const queued = this.state.manualQueue[this.state.manualQueue.length - 1];
    this.applied.pushed++;
    if (queued !== undefined) this.record({ type: 'pushed', config: queued.config, fidelity: queued.fidelity });
  }

  started(trialId: number, worker?: WorkerInfo): void {
    this.history.onStarted(trialId, worker, Date.now());
    this.record(worker === undefined ? { type: 'started', trialId } : { type: 'started', trialId, worker });
  }

  report(trialId: number, step: number, value: number): void {
    this.history.onReport(trialId, step, value);
    this.record({ type: 'report', trialId, step, value });
  }

  /** Records a result; resolves once it is durable. Duplicates resolve `{recorded: false}`. */
  async tell(
    trialId: number,
    result: TrialResult,
    extra: { worker?: WorkerInfo; durationMs?: number } = {},
  ): Promise<TellOutcome> {
    if (this.state.pending[String(trialId)] === undefined) {
      if (this.history.get(trialId) !== undefined) return { recorded: false, improved: false };
      throw new DehbError('E_STATE', `cannot record a result for trial ${trialId}: it was never asked`);
    }
    const { improved } = tell(this.state, trialId, result);
    this.applied.told++;
    this.history.onTold(trialId, result, { ...extra, at: Date.now() });
    const entry: JournalEntry = { type: 'told', trialId, result, ...extra };
    if (this.writer !== null) await this.writer.write(entry);
    return { recorded: true, improved };
  }

  recordBudget(budget: Extract<JournalEntry, { type: 'budget' }>['budget']): void {
    this.record({ type: 'budget', budget });
  }

  recordFinished(reason: string): void {
    this.record({ type: 'finished', reason });
  }

  /** Resolves when every entry written so far is durable. */
  async flush(): Promise<void> {
    if (this.writer !== null) await this.writer.flush();
  }

  private record(entry: JournalEntry): void {
    if (this.writer !== null) this.writer.write(entry).catch(noop); // surfaced by flush()/tell()
  }
}
