/**
 * A run in progress: the optimizer state, its journal and what the trials in flight look like.
 * Every ask and tell goes through here, so the journal and the state never disagree. Results are
 * recorded idempotently: the first result for a trial id wins, later ones are reported as
 * duplicates and change nothing.
 *
 * Memory: with a journal that can be read back (a run directory), the session keeps only what the
 * optimizer needs plus the records of trials in flight; `history` reads finished records back from
 * the journal on demand. Without one (in memory, or a memory journal) it keeps every record.
 * Every SNAPSHOT_EVERY entries the whole optimizer state is journaled, so a re-open reads the last
 * snapshot and the tail only.
 */
import { DehbError } from '../errors.js';
import { ask, createState, push, resolveOptimizerOptions, tell } from '../dehb/optimizer.js';
import type { AskResult, DehbState, Incumbent, Job, OptimizerOptions, TrialResult } from '../dehb/types.js';
import { OPTIMIZER_VERSION } from '../dehb/version.js';
import type { WorkerInfo } from '../protocol/executor.js';
import type { AskedJob, JournalBackend, JournalEntry, RunMeta, TrialRecord } from './journal-types.js';
import { TrialHistory } from './history.js';
import { JournalWriter } from './journal-writer.js';
import { Replayer, replayOrRetell } from './replay.js';
import { ReplayMismatch, type SnapshotEntry } from './retell.js';
import type { LatestEntries } from './journal-tail.js';

/** Journal entries between two state snapshots. */
export const SNAPSHOT_EVERY = 1000;

/** A journal the session can read back instead of keeping records (run-journal.ts). */
export interface ReadableJournal extends JournalBackend {
  latest(): Promise<LatestEntries | null>;
  /** Every record of the journal, read now (synchronously). */
  readRecords(): TrialHistory;
}

function isReadable(j: JournalBackend | null): j is ReadableJournal {
  return j !== null && typeof (j as Partial<ReadableJournal>).latest === 'function';
}

export interface TellOutcome {
  /** False when the trial already had a result (a duplicate delivery) — nothing changed. */
  recorded: boolean;
  improved: boolean;
  /** The finished trial's record (undefined for a duplicate). */
  record?: TrialRecord;
  /** Resolves once the result is durable (at once without a journal); a promise only if asked for. */
  durable(): Promise<void>;
}

/** What `history` offers: records in memory, or read back from the journal on demand. */
export interface HistoryView {
  get(trialId: number): TrialRecord | undefined;
  records(): TrialRecord[];
  readonly trajectory: number[];
}

type Budget = Extract<JournalEntry, { type: 'budget' }>['budget'];

export class RunSession {
  private readonly writer: JournalWriter | null;
  private readonly applied: { told: number; pushed: number };
  /** Every record (in-memory sessions) or null (records are read back from the journal). */
  private readonly all: TrialHistory | null;
  /** Records of trials asked and not yet told (journaled sessions). */
  private readonly live = new Map<number, TrialRecord>();
  /** Pending trials handed out by `study.ask()` (kept in snapshots). */
  private readonly external: Set<number>;
  /** Trials asked before this session started, never told, and not external: a run re-submits them. */
  readonly resumedPending: Job[];
  private sinceSnapshot = 0;
  private budgetNow: Budget | null;
  /** Results per status recorded by this session and before it. */
  readonly counts: Record<string, number> = {};

  private constructor(
    readonly state: DehbState,
    readonly meta: RunMeta,
    private readonly journal: JournalBackend | null,
    applied: { told: number; pushed: number },
    history: TrialHistory | null,
    /** Trials asked before this session started and never told (resume re-submits them). */
    pendingBefore: Job[],
    /** The last budget recorded in the journal (a resumed CLI run reuses it). */
    readonly recordedBudget: Budget | null = null,
    /** Things the user should know about how the journal was re-opened. */
    readonly warnings: string[] = [],
    /** Pending trials handed out by `study.ask()`: their asker tells them, no run loop evaluates them. */
    external: readonly number[] = [],
  ) {
    this.external = new Set(external);
    this.resumedPending = pendingBefore.filter((j) => !this.external.has(j.trialId));
    this.writer = journal === null ? null : new JournalWriter(journal);
    this.applied = applied;
    this.all = history;
    this.budgetNow = recordedBudget;
    if (history === null) for (const job of pendingBefore) this.live.set(job.trialId, TrialHistory.recordOf(job, null, this.external.has(job.trialId)));
  }

  /** A new run, in memory or on a journal (its `created` entry queued first: `flush()` makes it durable). */
  static create(options: OptimizerOptions, meta: RunMeta, journal: JournalBackend | null = null): RunSession {
    const resolved = resolveOptimizerOptions(options);
    const history = isReadable(journal) ? null : new TrialHistory();
    const session = new RunSession(createState(resolved), meta, journal, { told: 0, pushed: 0 }, history, []);
    session.writer?.post({ type: 'created', options: resolved, meta, optimizer: OPTIMIZER_VERSION });
    return session;
  }

  /**
   * Rebuilds a run from its journal: the last snapshot and the entries after it, re-asked bit for
   * bit (see replay.ts). A journal of another optimizer version is re-told instead, with a warning,
   * and a snapshot of the rebuilt state is journaled at once.
   */
  static async resume(journal: JournalBackend, source = 'journal'): Promise<RunSession> {
    const readable = isReadable(journal);
    const latest: LatestEntries | null = readable ? await journal.latest() : await readAll(journal);
    if (latest === null) throw new DehbError('E_JOURNAL', `${source}: the journal is empty`);
    let replayer = new Replayer(source, { history: !readable });
    const warnings: string[] = [];
    let retold: SnapshotEntry | null = null;
    try {
      replayer.feed([latest.head]);
      const [first, ...rest] = latest.entries;
      if (latest.fromSnapshot && first?.type === 'snapshot') {
        replayer.startAt(first, first.seq);
        replayer.feed(rest);
      } else replayer.feed(latest.entries);
      replayer.drain();
    } catch (err) {
      if (!(err instanceof ReplayMismatch)) throw err;
      const again = replayOrRetell(await journal.read(1), source, { history: !readable });
      replayer = again.replayer;
      retold = again.retold;
      if (again.warning !== null) warnings.push(again.warning);
    }
    const r = replayer.result();
    const session = new RunSession(r.state, r.meta, journal, r.applied, readable ? null : r.history, r.pending, r.budget, warnings, r.external);
    Object.assign(session.counts, replayer.counts);
    if (retold !== null) session.snapshot();
    return session;
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

  /** Whether a trial id was handed out (asked) by this run. */
  wasAsked(trialId: number): boolean {
    return Number.isInteger(trialId) && trialId >= 0 && trialId < this.state.nextTrialId;
  }

  /** Trial records: in memory, or read back from the journal (a full read) on demand. */
  get history(): HistoryView {
    if (this.all !== null) return this.all;
    const journal = this.journal as ReadableJournal;
    let cached: TrialHistory | null = null;
    const read = (): TrialHistory => (cached ??= journal.readRecords());
    return {
      get: (id) => this.live.get(id) ?? read().get(id),
      records: () => read().records(),
      get trajectory() {
        return read().trajectory;
      },
    };
  }

  /** `external`: the caller evaluates and tells the trial (study.ask()); no run loop re-submits it. */
  ask(opts: { maxBrackets?: number; external?: boolean } = {}): AskResult {
    const applied = { ...this.applied };
    const r = ask(this.state, opts.maxBrackets === undefined ? {} : { maxBrackets: opts.maxBrackets });
    if ('job' in r) {
      if (this.all !== null) this.all.onAsked(r.job, Date.now(), opts.external === true);
      else this.live.set(r.job.trialId, TrialHistory.recordOf(r.job, Date.now(), opts.external === true));
      if (opts.external === true) this.external.add(r.job.trialId);
      this.record({ type: 'asked', trialId: r.job.trialId, job: askedJob(r.job), applied, ...(opts.external === true ? { external: true } : {}) });
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
    const at = Date.now();
    if (this.all !== null) this.all.onStarted(trialId, worker, at);
    else TrialHistory.markStarted(this.live.get(trialId), worker, at);
    this.record(worker === undefined ? { type: 'started', trialId } : { type: 'started', trialId, worker });
  }

  report(trialId: number, step: number, value: number): void {
    if (this.all !== null) this.all.onReport(trialId, step, value);
    else this.live.get(trialId)?.reports.push({ step, value });
    this.record({ type: 'report', trialId, step, value });
  }

  /**
   * Records a result and queues it for the journal's next group commit; `durable` resolves once it
   * is on disk. Duplicates return `{recorded: false}`.
   */
  tell(trialId: number, result: TrialResult, extra: { worker?: WorkerInfo; durationMs?: number; queueWaitMs?: number } = {}): TellOutcome {
    if (this.state.pending[String(trialId)] === undefined) {
      if (this.wasAsked(trialId)) return { recorded: false, improved: false, durable: () => Promise.resolve() };
      throw new DehbError('E_STATE', `cannot record a result for trial ${trialId}: it was never asked`);
    }
    const { improved } = tell(this.state, trialId, result);
    this.external.delete(trialId);
    this.applied.told++;
    this.counts[result.status] = (this.counts[result.status] ?? 0) + 1;
    const at = Date.now();
    let record: TrialRecord | undefined;
    if (this.all !== null) {
      this.all.onTold(trialId, result, Object.assign({ at }, extra));
      record = this.all.get(trialId);
    } else {
      record = this.live.get(trialId);
      this.live.delete(trialId);
      if (record !== undefined) TrialHistory.finish(record, result, Object.assign({ at }, extra));
    }
    const entry: JournalEntry = { type: 'told', trialId, result, ...extra };
    const writer = this.writer;
    const ticket = writer === null ? 0 : writer.post(entry);
    const durable = writer === null ? () => Promise.resolve() : () => writer.durable(ticket);
    this.afterRecord();
    return { recorded: true, improved, ...(record === undefined ? {} : { record }), durable };
  }

  /** The error of a failed journal append (the run must stop), or null. */
  get journalFailure(): unknown {
    return this.writer?.failed ?? null;
  }

  /** Whether results go to a journal (its writes complete only when the event loop gets a turn). */
  get journaled(): boolean {
    return this.writer !== null;
  }

  /** Whether the journal lags so far behind that the caller should wait for `durable`. */
  get backlogged(): boolean {
    return this.writer !== null && this.writer.backlog > 4 * SNAPSHOT_EVERY;
  }

  recordBudget(budget: Budget): void {
    this.budgetNow = budget;
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
    if (this.writer === null) return;
    this.writer.post(entry); // a failure is surfaced by flush()/tell()
    this.afterRecord();
  }

  private afterRecord(): void {
    if (this.writer === null || ++this.sinceSnapshot < SNAPSHOT_EVERY) return;
    this.snapshot();
  }

  /** Journals the whole state (everything recorded so far is in it; encoded when queued). */
  private snapshot(): void {
    if (this.writer === null) return;
    this.sinceSnapshot = 0;
    const entry: JournalEntry = {
      type: 'snapshot',
      optimizer: OPTIMIZER_VERSION,
      // a line backend encodes the entry at once; another one gets a copy, as the state moves on
      state: this.writer.encodesAtOnce ? this.state : structuredClone(this.state),
      applied: { ...this.applied },
      meta: this.meta,
      budget: this.budgetNow,
      counts: { ...this.counts },
      ...(this.external.size === 0 ? {} : { external: [...this.external].sort((a, b) => a - b) }),
    };
    this.writer.post(entry);
  }
}

async function readAll(journal: JournalBackend): Promise<LatestEntries | null> {
  const entries = await journal.read(1);
  const head = entries[0];
  return head === undefined ? null : { head, entries, fromSnapshot: false };
}

/** The job as an `asked` entry (format 2) holds it: everything but the unit-cube vector, which replay re-asks. */
function askedJob(j: Job): AskedJob {
  return { trialId: j.trialId, configId: j.configId, bracketId: j.bracketId, rung: j.rung, fidelity: j.fidelity, parentId: j.parentId, config: j.config, source: j.source };
}
