/**
 * The incumbent trajectory: the best ok fitness after each told result (only top-rung results when
 * the run's incumbent rule is `max-fidelity`, as the optimizer decides), as change points against
 * evaluations told, wall-clock seconds and cumulative cost, plus the incumbent's configuration.
 * Only change points are sent, so it stays small for any number of trials.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import type { Trajectory } from '../payload.js';
import { round, secs } from './common.js';

/** `topRungOnly`: the run's incumbent rule is `max-fidelity` (only top-rung results count). */
export function buildTrajectory(records: readonly TrialRecord[], t0: number, topRungOnly: number | null = null): Trajectory {
  const told = records.filter((r) => r.finishedAt !== null).sort((a, b) => (a.finishedAt as number) - (b.finishedAt as number) || a.trialId - b.trialId);
  const out: Trajectory = { evals: [], time: [], cost: [], fitness: [], end: { evals: 0, time: 0, cost: null }, incumbent: null };
  let best = Infinity;
  let cost = 0;
  let anyCost = false;
  let bestRecord: TrialRecord | null = null;
  told.forEach((r, i) => {
    if (r.cost !== null) {
      cost += r.cost;
      anyCost = true;
    }
    if (r.status === 'ok' && r.fitness !== null && r.fitness < best && (topRungOnly === null || r.rung === topRungOnly)) {
      best = r.fitness;
      bestRecord = r;
      out.evals.push(i + 1);
      out.time.push(secs(r.finishedAt, t0) as number);
      out.cost.push(anyCost ? round(cost) : null);
      out.fitness.push(r.fitness);
    }
  });
  const last = told[told.length - 1];
  out.end = { evals: told.length, time: last === undefined ? 0 : (secs(last.finishedAt, t0) as number), cost: anyCost ? round(cost) : null };
  const b = bestRecord as TrialRecord | null;
  if (b !== null) out.incumbent = { trialId: b.trialId, fitness: b.fitness as number, fidelity: b.fidelity, config: b.config };
  return out;
}
