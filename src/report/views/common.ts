/**
 * Helpers the view builders share: rounding for a compact payload, seconds since the run's
 * start, deterministic sampling, and which trials count as finished.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import { isFinished } from '../../protocol/journal-versions.js';

/** Rounds to 5 significant digits (enough to draw and to read in a table). */
export function round(n: number | null | undefined): number | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null;
  return n === 0 ? 0 : Number(n.toPrecision(5));
}

/** Seconds since t0, to the millisecond. */
export function secs(ms: number | null, t0: number): number | null {
  return ms === null ? null : Math.round(ms - t0) / 1000;
}

export function isDone(r: TrialRecord): boolean {
  return isFinished(r.status);
}

/** Keeps at most `max` items: evenly spaced, first and last included (deterministic). */
export function sampleEvenly<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const out: T[] = [];
  const step = (items.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(items[Math.round(i * step)] as T);
  return out;
}

/** Truncates untrusted text for the payload (it is rendered as text, never as HTML). */
export function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Largest rung index among the records (-1 when none); a loop, not a spread (50k+ records). */
export function maxRung(records: readonly TrialRecord[]): number {
  let m = -1;
  for (const r of records) if (r.rung > m) m = r.rung;
  return m;
}
