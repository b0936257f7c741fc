/**
 * Learning curves from intermediate values (`ctx.report(step, value)` in JS objectives,
 * `DEHB_REPORT` lines from commands): the best MAX_CURVES/2 trials that reported, plus others
 * sampled evenly, each curve thinned to at most MAX_POINTS points.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import type { Curves } from '../payload.js';
import { round, sampleEvenly } from './common.js';

const MAX_CURVES = 120;
const MAX_POINTS = 80;

export function buildCurves(records: readonly TrialRecord[]): Curves {
  const withReports = records.filter((r) => r.reports.length > 0);
  const score = (r: TrialRecord): number => r.fitness ?? Infinity;
  const best = [...withReports].sort((a, b) => score(a) - score(b)).slice(0, MAX_CURVES / 2);
  const picked = new Set(best.map((r) => r.trialId));
  const rest = sampleEvenly(withReports.filter((r) => !picked.has(r.trialId)), MAX_CURVES - best.length);
  const curves = [...best, ...rest]
    .sort((a, b) => a.trialId - b.trialId)
    .map((r) => ({
      trialId: r.trialId,
      fidelity: r.fidelity,
      points: sampleEvenly(r.reports, MAX_POINTS).map((p): [number, number] => [p.step, round(p.value) as number]),
    }));
  return { curves, trialsWithReports: withReports.length };
}
