/**
 * The run as the report and the dashboard see it: fed journal entries (in order, possibly in
 * several batches as the journal grows), it keeps the options, meta, budget, why the run ended,
 * one TrialRecord per trial (study/history.ts), and which
 * trials changed since the last `takeChanged()` (for the dashboard's deltas). It reads no file and
 * replays no optimizer: asked entries carry the whole job. Entry kinds it does not know (e.g.
 * snapshots written by a newer version) are skipped, so a newer journal still renders.
 */
import type { ResolvedOptimizerOptions } from '../dehb/types.js';
import { TrialHistory, toldExtra } from '../study/history.js';
import type { JournalEntry, RunMeta, StoredEntry, TrialRecord } from '../study/journal-types.js';

export type Budget = Extract<JournalEntry, { type: 'budget' }>['budget'];

export class RunModel {
  readonly history = new TrialHistory();
  options: ResolvedOptimizerOptions | null = null;
  meta: RunMeta | null = null;
  budget: Budget | null = null;
  /** Why the last run() over this journal ended (null while running or if it never said). */
  finished: string | null = null;
  /** Wall-clock ms of the first entry / the last one. */
  startedAt: number | null = null;
  lastAt: number | null = null;
  lastSeq = 0;
  /** Ok and non-ok results told (first result per trial). */
  told = 0;
  /** Trials asked and not yet told (queued or running). */
  readonly inFlight = new Set<number>();
  /** Per worker label: its host, trials finished, last time seen (ms). */
  readonly workers = new Map<string, { host: string; done: number; lastSeen: number }>();
  readonly bracketIds = new Set<number>();
  private changed = new Set<number>();

  feed(entries: readonly StoredEntry[]): void {
    for (const e of entries) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      if (this.startedAt === null) this.startedAt = e.at;
      // not always the last entry's: a started entry waits for its group (study/journal-writer.ts)
      this.lastAt = this.lastAt === null ? e.at : Math.max(this.lastAt, e.at);
      this.apply(e);
    }
  }

  /** Trial ids whose record changed since the previous call. */
  takeChanged(): number[] {
    const ids = [...this.changed].sort((a, b) => a - b);
    this.changed = new Set();
    return ids;
  }

  records(): TrialRecord[] {
    return this.history.records();
  }

  private seen(trialId: number, at: number, done: boolean): void {
    const r = this.history.get(trialId);
    if (r === undefined || r.worker === null) return;
    const label = workerLabel(r);
    const w = this.workers.get(label) ?? { host: r.worker.host ?? '', done: 0, lastSeen: at };
    if (done) w.done++;
    w.lastSeen = Math.max(w.lastSeen, at);
    this.workers.set(label, w);
  }

  private apply(e: StoredEntry): void {
    const entry = e as StoredEntry & { type: string };
    switch (entry.type) {
      case 'created': {
        const c = e as Extract<StoredEntry, { type: 'created' }>;
        this.options = c.options;
        this.meta = c.meta;
        return;
      }
      case 'asked': {
        const a = e as Extract<StoredEntry, { type: 'asked' }>;
        if (this.history.get(a.trialId) !== undefined) return;
        this.history.onAsked(a.job, a.at, a.external === true);
        this.inFlight.add(a.trialId);
        if (a.job.bracketId >= 0) this.bracketIds.add(a.job.bracketId);
        this.changed.add(a.trialId);
        return;
      }
      case 'started': {
        const s = e as Extract<StoredEntry, { type: 'started' }>;
        this.history.onStarted(s.trialId, s.worker, s.at);
        this.seen(s.trialId, s.at, false);
        this.changed.add(s.trialId);
        return;
      }
      case 'report': {
        const r = e as Extract<StoredEntry, { type: 'report' }>;
        this.history.onReport(r.trialId, r.step, r.value);
        this.changed.add(r.trialId);
        return;
      }
      case 'told': {
        const t = e as Extract<StoredEntry, { type: 'told' }>;
        if (this.history.onTold(t.trialId, t.result, toldExtra(t))) {
          this.told++;
          this.inFlight.delete(t.trialId);
          this.seen(t.trialId, t.at, true);
          this.changed.add(t.trialId);
        }
        return;
      }
      case 'budget':
        this.budget = (e as Extract<StoredEntry, { type: 'budget' }>).budget;
        this.finished = null; // a new run() over the same journal
        return;
      case 'finished':
        this.finished = (e as Extract<StoredEntry, { type: 'finished' }>).reason;
        return;
      default:
        return; // pushed, and kinds this version does not know
    }
  }
}

/** Start and end (ms since epoch) of a finished trial's evaluation, or null. */
export function evalSpan(r: TrialRecord): [number, number] | null {
  if (r.finishedAt === null) return null;
  const start = r.durationMs !== null ? r.finishedAt - r.durationMs : r.startedAt;
  return start === null ? null : [Math.min(start, r.finishedAt), r.finishedAt];
}

/** A short label for the worker that ran a trial. */
export function workerLabel(r: TrialRecord): string {
  const w = r.worker;
  if (w === null) return 'unknown';
  const who = w.id ?? (w.pid === undefined ? 'worker' : `pid ${w.pid}`);
  return w.host === undefined ? who : `${w.host}/${who}`;
}
