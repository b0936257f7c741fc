/**
 * Read-side views of a study, computed from its journal alone (no optimizer, no lock, no writes):
 * one TrialRecord per trial, the study summary `dehb study list/show` print, and JSON/CSV exports.
 * Statuses are the run's (`ok`, as in a run; filters still accept the old name `done`).
 */
import { historyToCsv } from './history-csv.js';
import type { IncumbentSummary, OptimizerKind, ResolvedOptimizerOptions } from '../dehb/types.js';
import { TrialHistory } from './history.js';
import { TRIAL_STATUSES, type TrialStatusName } from '../protocol/journal-versions.js';
import { bestRecord, incumbentSummary } from './incumbent.js';
import type { RunMeta, StoredEntry, TrialRecord } from './journal-types.js';

/** A `started` entry may carry the trial's working directory (a backward-compatible extra field). */
export type StartedEntryExt = Extract<StoredEntry, { type: 'started' }> & { trialDir?: string };

export { TRIAL_STATUSES, type TrialStatusName };
/** Status names of older releases, still accepted in filters. */
const OLD_STATUS_NAMES: Readonly<Record<string, TrialStatusName>> = { done: 'ok' };

export interface StudyTrial extends TrialRecord {
  /** Working directory of the evaluation (logs: stdout.log, stderr.log), when known. */
  trialDir: string | null;
}

export interface StudyView {
  name: string;
  options: ResolvedOptimizerOptions;
  meta: RunMeta;
  createdAt: number;
  trials: StudyTrial[];
  /** Incumbent fitness after each told result (Infinity until a trial succeeds), as a run's. */
  trajectory: number[];
  /** Pushed configurations not yet turned into trials (no leader ran since). */
  pushedWaiting: number;
  lastActivity: number;
  lastBudget: Extract<StoredEntry, { type: 'budget' }>['budget'] | null;
  finished: string | null;
  /** The incumbent (bestRecord over the trials in the order they were told). */
  best: IncumbentSummary | null;
  entries: number;
}

export interface StudySummary {
  name: string;
  kind: OptimizerKind;
  trials: number;
  byStatus: Record<TrialStatusName, number>;
  best: IncumbentSummary | null;
  createdAt: number;
  lastActivity: number;
  pushedWaiting: number;
}

/** Builds the view of a study from all of its journal entries (seq 1 must be `created`). */
export function studyView(name: string, entries: readonly StoredEntry[]): StudyView {
  const first = entries[0];
  if (first === undefined || first.type !== 'created') {
    throw new Error(`study "${name}": the journal does not start with a "created" entry`);
  }
  const history = new TrialHistory();
  const dirs = new Map<number, string>();
  let pushed = 0;
  let manualAsked = 0;
  let lastBudget: StudyView['lastBudget'] = null;
  let finished: string | null = null;
  const told: number[] = [];
  for (const e of entries) {
    if (history.absorbEntry(e)) told.push((e as { trialId: number }).trialId);
    switch (e.type) {
      case 'asked':
        if (e.job.source === 'manual') manualAsked++;
        break;
      case 'started': {
        const dir = (e as StartedEntryExt).trialDir;
        if (typeof dir === 'string' && !dirs.has(e.trialId)) dirs.set(e.trialId, dir);
        break;
      }
      case 'told': {
        // a cluster worker that kept the trial's directory names it with the result
        const dir = (e.worker as { trialDir?: unknown } | undefined)?.trialDir;
        if (typeof dir === 'string') dirs.set(e.trialId, dir);
        break;
      }
      case 'pushed':
        pushed++;
        break;
      case 'budget':
        lastBudget = e.budget;
        break;
      case 'finished':
        finished = e.reason;
        break;
      default:
        break;
    }
  }
  return {
    name,
    options: first.options,
    meta: first.meta,
    createdAt: first.at,
    trials: history.records().map((r) => ({ ...r, trialDir: dirs.get(r.trialId) ?? null })),
    trajectory: history.trajectory,
    pushedWaiting: Math.max(0, pushed - manualAsked),
    lastActivity: entries[entries.length - 1]?.at ?? first.at,
    lastBudget,
    finished,
    best: incumbentSummary(bestRecord(told.map((id) => history.get(id)), first.options)),
    entries: entries.length,
  };
}

export function summarize(view: StudyView): StudySummary {
  const byStatus = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as Record<TrialStatusName, number>;
  for (const t of view.trials) byStatus[t.status] += 1;
  return {
    name: view.name,
    kind: view.options.kind,
    trials: view.trials.length,
    byStatus,
    best: view.best,
    createdAt: view.createdAt,
    lastActivity: view.lastActivity,
    pushedWaiting: view.pushedWaiting,
  };
}

/** A status name as the user typed it, old names mapped to today's (`done` -> `ok`). */
export function canonicalStatus(s: string): string {
  return OLD_STATUS_NAMES[s] ?? s;
}

/** Trials filtered by status names (`done` is read as `ok`). */
export function filterTrials(trials: readonly StudyTrial[], statuses?: readonly string[]): StudyTrial[] {
  if (statuses === undefined || statuses.length === 0) return [...trials];
  const want = new Set(statuses.map(canonicalStatus));
  return trials.filter((t) => want.has(t.status));
}

export function exportJson(view: StudyView): string {
  const summary = summarize(view);
  return (
    JSON.stringify(
      {
        study: view.name,
        kind: view.options.kind,
        options: view.options,
        meta: view.meta,
        createdAt: view.createdAt,
        lastActivity: view.lastActivity,
        best: summary.best,
        byStatus: summary.byStatus,
        trials: view.trials,
      },
      null,
      2,
    ) + '\n'
  );
}

export function exportCsv(trials: readonly StudyTrial[]): string {
  return historyToCsv(trials);
}
