/**
 * The trials table: one row per trial (every trial, no sampling: the page paginates), with the
 * parameter values, and the error text of failed trials kept apart (most rows have none).
 */
import type { TrialRecord } from '../../study/journal-types.js';
import { evalSpan, workerLabel } from '../model.js';
import type { TrialRow } from '../payload.js';
import { clip, round, secs } from './common.js';

export const FIXED_COLUMNS = ['trial', 'status', 'fitness', 'fidelity', 'bracket', 'rung', 'start s', 'duration s', 'cost', 'worker'];

export function tableColumns(params: readonly string[]): string[] {
  return [...FIXED_COLUMNS, ...params];
}

/** `worker` maps a worker label to its index in Payload.workers. */
export function tableRow(r: TrialRecord, params: readonly string[], t0: number, worker: (label: string) => number): TrialRow {
  const span = evalSpan(r);
  const start = span?.[0] ?? r.startedAt;
  return [
    r.trialId,
    r.status,
    round(r.fitness),
    round(r.fidelity),
    r.bracketId,
    r.rung,
    secs(start, t0),
    span === null ? null : round((span[1] - span[0]) / 1000),
    round(r.cost),
    r.worker === null ? null : worker(workerLabel(r)),
    ...params.map((p) => {
      const v = r.config[p];
      return v === undefined ? null : typeof v === 'number' ? round(v) : v;
    }),
  ];
}

export function errorText(r: TrialRecord): string | null {
  if (r.error === null || r.error === undefined) return r.status === 'timed-out' ? 'timed out' : null;
  const e = r.error;
  return clip(`${e.name !== undefined ? `${e.name}: ` : ''}${e.message}${e.code !== undefined ? ` [${e.code}]` : ''}`);
}
