/**
 * The one incumbent shape every output uses — `{ trialId, config, fitness, fidelity }`
 * (IncumbentSummary): `DEHB.incumbent`, `run().incumbent`, `incumbent.json`, `study.optimize()`'s
 * incumbent, a study summary's best, `dehb show --format json` — and the incumbent rule as the
 * optimizer applies it (with `max-fidelity`, only results at the top of the ladder count).
 */
import type { IncumbentSummary, ResolvedOptimizerOptions } from '../dehb/types.js';
import type { TrialRecord } from './journal-types.js';

/** The incumbent fields of an optimizer incumbent or a trial record (null stays null). */
export function incumbentSummary(x: { trialId: number; config: IncumbentSummary['config']; fitness: number | null; fidelity: number } | null): IncumbentSummary | null {
  if (x === null || x.fitness === null) return null;
  return { trialId: x.trialId, config: x.config, fitness: x.fitness, fidelity: x.fidelity };
}

/** Whether a result at `fidelity` may become the incumbent under the run's rule. */
export function countsForIncumbent(fidelity: number, options: Pick<ResolvedOptimizerOptions, 'incumbent' | 'maxFidelity'>): boolean {
  return options.incumbent !== 'max-fidelity' || fidelity >= options.maxFidelity;
}

/**
 * The incumbent among trial records given IN THE ORDER THEY WERE TOLD, as the optimizer keeps it:
 * the best ok result under the rule; of equal fitness the first told (it is replaced only when beaten).
 */
export function bestRecord(toldOrder: Iterable<TrialRecord | undefined>, options: Pick<ResolvedOptimizerOptions, 'incumbent' | 'maxFidelity'>): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const r of toldOrder) {
    if (r === undefined || r.status !== 'ok' || r.fitness === null || !countsForIncumbent(r.fidelity, options)) continue;
    if (best === null || r.fitness < (best.fitness as number)) best = r;
  }
  return best;
}
