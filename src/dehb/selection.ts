/**
 * Owns DE selection: which sub-population slot a result takes (spec §2.6 and §1.3 step 6).
 * - A bracket job competes with its parent slot: it takes the slot if its fitness is <= the slot's
 *   CURRENT member (compared at tell time, as the reference does).
 * - Parallel runs only (other jobs still in flight when the result is told): a DE trial that loses
 *   to its parent slot but beats the rung's worst member takes the worst member's slot instead of
 *   being discarded. With one job in flight this never applies, so sequential runs select exactly
 *   as the reference. Why: with W jobs in flight every trial is built without the results of the
 *   W - 1 others, and a rung's slots get several trials from the same stale target (at W=16 on
 *   1..100/eta 3, ~7.6 jobs in flight on the 5-slot top rung, two overlapping brackets' trials per
 *   slot on the lower rungs); keeping a losing-but-good trial returns that information to the
 *   population instead of throwing it away (README, "Parallel quality"). In parallel runs a DE
 *   trial equal to the member of another slot takes no slot at all: two siblings built from the
 *   same stale population can coincide (low dimensions, small donor pools), and a duplicate
 *   member's zero donor difference makes DE copy instead of search.
 * - A hand-pushed result takes the worst slot of its rung if it is strictly better.
 */
import { fit, storeFit, worstSlot } from './population.js';
import type { DehbState, Job, SubPopulation } from './types.js';

function place(sp: SubPopulation, slot: number, job: Job, f: number): void {
  sp.vectors[slot] = job.vector;
  sp.fitness[slot] = storeFit(f);
  sp.configIds[slot] = job.configId;
}

/** A slot other than `except` whose member equals `v`, or -1. */
function memberSlot(sp: SubPopulation, v: readonly number[], except: number): number {
  return sp.vectors.findIndex((m, i) => i !== except && m.length === v.length && m.every((x, d) => x === v[d]));
}

/** True when some job other than the one being told is still in flight. */
function othersInFlight(state: DehbState): boolean {
  for (const _ in state.pending) return true;
  return false;
}

/**
 * Applies selection for `job` (already removed from state.pending) with effective fitness `f`.
 * Returns the slot it took, or -1.
 */
export function select(state: DehbState, job: Job, f: number): number {
  if (job.rung < 0) return -1;
  const sp = state.subpops[job.rung];
  if (job.parentId >= 0) {
    const parallel = job.source === 'de' && othersInFlight(state);
    if (parallel && memberSlot(sp, job.vector, job.parentId) >= 0) return -1;
    if (f <= fit(sp.fitness[job.parentId])) {
      place(sp, job.parentId, job, f);
      return job.parentId;
    }
    if (!parallel || !Number.isFinite(f)) return -1;
  } else if (job.source !== 'manual') {
    return -1;
  }
  const w = worstSlot(sp);
  if (!(f < fit(sp.fitness[w]))) return -1;
  place(sp, w, job, f);
  return w;
}
