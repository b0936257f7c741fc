/**
 * Builds one TrialRecord per trial from journal events (asked, started, report, told) and keeps
 * the incumbent trajectory. The first told result per trial wins; later ones are ignored.
 */
import type { TrialResult } from '../dehb/types.js';
import type { WorkerInfo } from '../protocol/executor.js';
import type { AskedJob, StoredEntry, TrialRecord } from './journal-types.js';
import { isFinished } from '../protocol/journal-versions.js';

/** What a told entry says beside the result; `startedAt` when its started entry was folded in. */
export interface ToldExtra {
  worker?: WorkerInfo;
  durationMs?: number;
  queueWaitMs?: number;
  startedAt?: number;
  at: number | null;
}

/** The ToldExtra of a stored told entry (every reader builds records with this). */
export function toldExtra(e: Extract<StoredEntry, { type: 'told' }>): ToldExtra {
  return { worker: e.worker, durationMs: e.durationMs, queueWaitMs: e.queueWaitMs, startedAt: e.startedAt, at: e.at };
}

export class TrialHistory {
  private readonly byId = new Map<number, TrialRecord>();
  /** Incumbent fitness after each told result, in tell order. */
  readonly trajectory: number[] = [];
  private best = Infinity;

  /** `external`: handed out by study.ask(), so its asker is evaluating it (`running`). */
  onAsked(job: AskedJob, at: number | null, external = false): TrialRecord {
    const record = TrialHistory.recordOf(job, at, external);
    this.byId.set(job.trialId, record);
    return record;
  }

  /** A fresh record of an asked trial. */
  static recordOf(job: AskedJob, at: number | null, external = false): TrialRecord {
    return {
      trialId: job.trialId,
      configId: job.configId,
      bracketId: job.bracketId,
      rung: job.rung,
      fidelity: job.fidelity,
      config: job.config,
      source: job.source,
      status: external ? 'running' : 'queued',
      fitness: null,
      cost: null,
      info: {},
      error: null,
      worker: null,
      askedAt: at,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      reports: [],
    };
  }

  onStarted(trialId: number, worker: WorkerInfo | undefined, at: number | null): void {
    TrialHistory.markStarted(this.byId.get(trialId), worker, at);
  }

  /** A queued record becomes running (a record in any other state stays as it is). */
  static markStarted(r: TrialRecord | undefined, worker: WorkerInfo | undefined, at: number | null): void {
    if (r === undefined || r.status !== 'queued') return;
    r.status = 'running';
    r.startedAt = at;
    if (worker !== undefined) r.worker = worker;
  }

  onReport(trialId: number, step: number, value: number): void {
    const r = this.byId.get(trialId);
    if (r !== undefined && r.finishedAt === null) r.reports.push({ step, value });
  }

  /** Returns false when the trial is unknown or already has a result (the duplicate is ignored). */
  onTold(
    trialId: number,
    result: TrialResult,
    extra: ToldExtra,
  ): boolean {
    const r = this.byId.get(trialId);
    if (r === undefined || r.finishedAt !== null || isFinished(r.status)) return false;
    const ok = TrialHistory.finish(r, result, extra);
    if (ok && (result.fitness as number) < this.best) this.best = result.fitness as number;
    this.trajectory.push(this.best);
    return true;
  }

  /** Fills a record in with its result; returns whether it succeeded with a finite fitness. */
  static finish(
    r: TrialRecord,
    result: TrialResult,
    extra: ToldExtra,
  ): boolean {
    if (r.startedAt === null && extra.startedAt !== undefined) r.startedAt = extra.startedAt;
    r.status = result.status;
    const ok = result.status === 'ok' && typeof result.fitness === 'number' && Number.isFinite(result.fitness);
    r.fitness = ok ? (result.fitness as number) : null;
    r.cost = typeof result.cost === 'number' && Number.isFinite(result.cost) ? result.cost : null;
    r.info = result.info ?? {};
    r.error = result.error ?? null;
    if (extra.worker !== undefined) r.worker = extra.worker;
    r.finishedAt = extra.at;
    r.durationMs =
      extra.durationMs ?? (extra.at !== null && r.startedAt !== null ? extra.at - r.startedAt : null);
    if (extra.queueWaitMs !== undefined) r.queueWaitMs = extra.queueWaitMs;
    return ok;
  }

  /** Applies the record-related entries (asked, started, report, told) of a journal, in order. */
  absorb(entries: Iterable<StoredEntry>): this {
    for (const e of entries) this.absorbEntry(e);
    return this;
  }

  /** Applies one entry; true when it was a told entry that recorded a result (not a duplicate). */
  absorbEntry(e: StoredEntry): boolean {
    if (e.type === 'asked') {
      if (this.byId.get(e.trialId) === undefined) this.onAsked(e.job, e.at, e.external === true);
    } else if (e.type === 'started') this.onStarted(e.trialId, e.worker, e.at);
    else if (e.type === 'report') this.onReport(e.trialId, e.step, e.value);
    else if (e.type === 'told') return this.onTold(e.trialId, e.result, toldExtra(e));
    return false;
  }

  get(trialId: number): TrialRecord | undefined {
    return this.byId.get(trialId);
  }

  /** All records ordered by trial id. */
  records(): TrialRecord[] {
    return [...this.byId.values()].sort((a, b) => a.trialId - b.trialId);
  }

  get size(): number {
    return this.byId.size;
  }
}
