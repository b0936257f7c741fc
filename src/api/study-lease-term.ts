/**
 * Owns one lease term of a study process (api/study-loop.ts): take the study's lease if nobody
 * holds it, open the term's executor (a Redis study's cluster executor; a caller's `executor` is
 * used as given), drive the run loop as lease holder (driver/study-lead.ts) and close the
 * executor it opened: a term that did not finish leaves its jobs and stored results for the next
 * lease holder.
 */
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import type { JournalEntry, TrialRecord } from '../study/journal-types.js';
import type { StatedBudget } from '../driver/budget.js';
import { leadStudy, type LeadOptions, type LeadResult } from '../driver/study-lead.js';
import type { StudyRunOptions } from './study-run-options.js';
import { clusterExecutor } from './study-slots.js';

type ToldEntry = Extract<JournalEntry, { type: 'told' }>;

export interface LeaseTermContext {
  opts: StudyRunOptions;
  /** This process's worker id: the lease holder's name. */
  holder: string;
  /** A Redis study's cluster queue (the term opens its executor); undefined for a local queue. */
  cluster: ClusterConnection | undefined;
  /** This process's evaluation slots (the term's cluster executor keeps as many trials out, plus queueAhead). */
  slots: number;
  /** When this process started (a runtime budget counts from it). */
  started: number;
  leaseTtlMs: number;
  gpusPerTrial: number;
  /** Ends the term: the graceful stop, or a worker's spent --max-trials quota. */
  signal: AbortSignal;
  /** The local queue's hooks into this process's slots (leadStudy's `queue` option). */
  queue: LeadOptions['queue'];
}

/** Holds the lease for one term (null when another process holds it). */
export async function leadLeaseTerm(ctx: LeaseTermContext, stated: StatedBudget): Promise<LeadResult | null> {
  const { opts, slots } = ctx;
  const lease = await opts.storage.getLease(opts.study); // lock-free look first
  if (lease !== null || !(await opts.storage.acquireLease(opts.study, ctx.holder, ctx.leaseTtlMs))) return null;
  const executor = opts.executor ?? (ctx.cluster === undefined ? undefined : await clusterExecutor(ctx.cluster, opts, Math.max(1, slots + ctx.queue.queueAhead)));
  let finished = false;
  try {
    const r: LeadResult = await leadStudy({
      ...opts,
      signal: ctx.signal,
      executor,
      holder: ctx.holder,
      budget: stated,
      started: ctx.started,
      leaseTtlMs: ctx.leaseTtlMs,
      gpusPerTrial: ctx.gpusPerTrial,
      queue: ctx.queue,
      // a worker reports the trials it evaluated (its claim loop), an optimizer those it recorded
      onTrialEnd: opts.mode === 'worker' ? undefined : (rec) => opts.onTold?.(toldEntry(rec)),
    });
    finished = r.reason !== 'lost' && r.reason !== 'stopped';
    return r;
  } finally {
    // a term that did not finish leaves its jobs and stored results for the next lease holder
    if (executor !== opts.executor) await executor?.close({ force: !finished });
  }
}

/**
 * The journal's `told` entry of a trial the run loop just recorded, rebuilt from its record for
 * `onTold`: result (status, fitness, cost, info, error), worker and timings, as journaled.
 */
function toldEntry(rec: TrialRecord): ToldEntry {
  // a record reaches onTrialEnd only once told: its status is a finished one
  const result: ToldEntry['result'] = { status: rec.status as ToldEntry['result']['status'] };
  if (rec.fitness !== null) result.fitness = rec.fitness;
  if (rec.cost !== null) result.cost = rec.cost;
  if (Object.keys(rec.info).length > 0) result.info = rec.info;
  if (rec.error !== null) result.error = rec.error;
  const entry: ToldEntry = { type: 'told', trialId: rec.trialId, result };
  if (rec.worker !== null) entry.worker = rec.worker;
  if (rec.durationMs !== null) entry.durationMs = rec.durationMs;
  if (rec.queueWaitMs !== undefined) entry.queueWaitMs = rec.queueWaitMs;
  return entry;
}
