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
  return csvCells(row);
}

/**
 * The cells joined by commas. Finite numbers are formatted by one JSON.stringify of them all
 * (the same text as String(n)): String(n) goes through V8's number-string cache, whose entries
 * outlive young-generation collections (old-generation garbage per row), and is slower per cell.
 */
function csvCells(row: readonly unknown[]): string {
  const nums: number[] = [];
  for (const c of row) if (typeof c === 'number' && Number.isFinite(c)) nums.push(c);
  const text = nums.length === 0 ? [] : JSON.stringify(nums).slice(1, -1).split(',');
  let k = 0;
  let out = '';
  for (let i = 0; i < row.length; i++) {
    const c = row[i];
    if (i > 0) out += ',';
    out += typeof c === 'number' && Number.isFinite(c) ? (text[k++] as string) : csvCell(c);
  }
  return out;
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
