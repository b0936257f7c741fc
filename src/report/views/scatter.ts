/**
 * Every trial's fitness against the time it finished, one series per rung (fidelity). Decimated
 * per pixel column: for each of COLUMNS time bins and each rung only the lowest and the highest
 * fitness are kept, which preserves the envelope a scatter plot shows. Failed, timed-out and
 * cancelled trials are separate points (sampled evenly past MAX_FAILED).
 */
import type { TrialRecord } from '../../study/journal-types.js';
import type { Scatter } from '../payload.js';
import { round, sampleEvenly, secs } from './common.js';

const COLUMNS = 500;
const MAX_FAILED = 600;

export function buildScatter(records: readonly TrialRecord[], t0: number, fidelities: readonly number[]): Scatter {
  const done = records.filter((r) => r.finishedAt !== null);
  let tMax = 1e-3;
  for (const r of done) tMax = Math.max(tMax, secs(r.finishedAt, t0) as number);
  const byRung = new Map<number, Map<number, { lo: [number, number, number]; hi: [number, number, number] }>>();
  const counts = new Map<number, number>();
  const failed: Array<[number, number, string]> = [];
  for (const r of done) {
    const t = secs(r.finishedAt, t0) as number;
    if (r.status !== 'ok' || r.fitness === null) {
      failed.push([t, r.trialId, r.status]);
      continue;
    }
    counts.set(r.rung, (counts.get(r.rung) ?? 0) + 1);
    const col = Math.min(COLUMNS - 1, Math.floor((t / tMax) * COLUMNS));
    let bins = byRung.get(r.rung);
    if (bins === undefined) byRung.set(r.rung, (bins = new Map()));
    const p: [number, number, number] = [t, round(r.fitness) as number, r.trialId];
    const bin = bins.get(col);
    if (bin === undefined) bins.set(col, { lo: p, hi: p });
    else {
      if (p[1] < bin.lo[1]) bin.lo = p;
      if (p[1] > bin.hi[1]) bin.hi = p;
    }
  }
  const rungs = [...byRung.keys()].sort((a, b) => a - b).map((rung) => {
    const points: Array<[number, number, number]> = [];
    for (const b of (byRung.get(rung) as Map<number, { lo: [number, number, number]; hi: [number, number, number] }>).values()) {
      points.push(b.lo);
      if (b.hi !== b.lo) points.push(b.hi);
    }
    points.sort((a, b) => a[0] - b[0]);
    return { rung, fidelity: fidelities[rung] ?? rung, points, trials: counts.get(rung) ?? 0 };
  });
  return { rungs, failed: sampleEvenly(failed, MAX_FAILED), failedTotal: failed.length, trials: done.length };
}
