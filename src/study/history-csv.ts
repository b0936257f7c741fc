/**
 * CSV rendering of trial records: fixed columns, then one column per parameter (`p:<name>`),
 * RFC 4180 quoting. The parameter columns are given (a run's space: stable, so rows can be
 * appended) or derived from the records.
 */
import type { TrialRecord } from './journal-types.js';

const FIXED = [
  'trial_id',
  'status',
  'fitness',
  'cost',
  'fidelity',
  'bracket_id',
  'config_id',
  'source',
  'duration_ms',
  'worker',
  'last_report',
  'error',
] as const;

export function historyToCsv(records: readonly TrialRecord[], params: readonly string[] = paramsOf(records)): string {
  const lines = [csvHeader(params)];
  for (const r of records) lines.push(csvRow(r, params));
  return lines.join('\n') + '\n';
}

export function csvHeader(params: readonly string[]): string {
  return [...FIXED, ...params.map((p) => `p:${p}`)].map(csvCell).join(',');
}

export function csvRow(r: TrialRecord, params: readonly string[]): string {
  const last = r.reports[r.reports.length - 1];
  const row: unknown[] = [
    r.trialId,
    r.status,
    r.fitness,
    r.cost,
    r.fidelity,
    r.bracketId,
    r.configId,
    r.source,
    r.durationMs,
    r.worker === null ? '' : (r.worker.id ?? r.worker.host ?? ''),
    last === undefined ? '' : last.value,
    r.error === null || r.error === undefined ? '' : r.error.message,
    ...params.map((p) => r.config[p]),
  ];
  return row.map(csvCell).join(',');
}

function paramsOf(records: readonly TrialRecord[]): string[] {
  const params: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r.config)) {
      if (!seen.has(k)) {
        seen.add(k);
        params.push(k);
      }
    }
  }
  return params;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
