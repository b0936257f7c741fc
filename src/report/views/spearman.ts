/**
 * Spearman rank correlation (ties get their average rank), and the per-rung-pair agreement of a
 * Hyperband run: for every rung below the highest, the configurations (by config id; promoted
 * configurations keep theirs) that have an ok result at both that rung and the highest one (and
 * at the next rung), compared by fitness. rho near 1: the low fidelity ranked them as the high
 * one did.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import type { Hyperband } from '../payload.js';
import { round } from './common.js';

export function ranks(xs: readonly number[]): number[] {
  const idx = xs.map((_, i) => i).sort((a, b) => (xs[a] as number) - (xs[b] as number));
  const out = new Array<number>(xs.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && xs[idx[j + 1] as number] === xs[idx[i] as number]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k] as number] = r;
    i = j + 1;
  }
  return out;
}

/** null when fewer than 3 pairs or when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  const n = a.length;
  if (n < 3 || b.length !== n) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (n + 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    const x = (ra[i] as number) - mean;
    const y = (rb[i] as number) - mean;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  return da === 0 || db === 0 ? null : num / Math.sqrt(da * db);
}

export function rungPairs(records: readonly TrialRecord[], rungCount: number): Hyperband['spearman'] {
  const byRung: Array<Map<number, number>> = Array.from({ length: rungCount }, () => new Map());
  for (const r of records) {
    if (r.status === 'ok' && r.fitness !== null && r.rung >= 0 && r.rung < rungCount) byRung[r.rung]?.set(r.configId, r.fitness);
  }
  const top = rungCount - 1;
  const out: Hyperband['spearman'] = [];
  const pair = (low: number, high: number): void => {
    const a: number[] = [];
    const b: number[] = [];
    for (const [id, f] of byRung[low] as Map<number, number>) {
      const g = byRung[high]?.get(id);
      if (g !== undefined) {
        a.push(f);
        b.push(g);
      }
    }
    const rho = spearman(a, b);
    out.push({ low, high, rho: rho === null ? null : round(rho), n: a.length });
  };
  for (let low = 0; low < top; low++) {
    pair(low, top);
    if (low + 1 < top) pair(low, low + 1);
  }
  return out;
}
