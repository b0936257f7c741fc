/**
 * Owns small helpers over one sub-population: fitness with null read as +Infinity, the order of
 * members by fitness, best and worst slot, and the global population (all rungs concatenated).
 */
import type { DehbState, SubPopulation } from './types.js';

/** Stored fitness -> number (null is +Infinity). */
export function fit(f: number | null): number {
  return f === null ? Infinity : f;
}

/** Number -> stored fitness (+Infinity and NaN become null, -0 becomes 0). */
export function storeFit(f: number): number | null {
  if (!Number.isFinite(f)) return null;
  return f === 0 ? 0 : f;
}

/** Slot indices sorted by ascending fitness (stable; +Infinity last). */
export function sortedSlots(sp: SubPopulation): number[] {
  const idx = sp.fitness.map((_, i) => i);
  idx.sort((a, b) => {
    const fa = fit(sp.fitness[a]);
    const fb = fit(sp.fitness[b]);
    return fa < fb ? -1 : fa > fb ? 1 : a - b;
  });
  return idx;
}

/** Slot with the lowest fitness (first on ties; 0 when all are +Infinity). */
export function bestSlot(sp: SubPopulation): number {
  let best = 0;
  for (let i = 1; i < sp.fitness.length; i++) if (fit(sp.fitness[i]) < fit(sp.fitness[best])) best = i;
  return best;
}

/** Slot with the highest fitness (first on ties; unevaluated slots count as +Infinity). */
export function worstSlot(sp: SubPopulation): number {
  let worst = 0;
  for (let i = 1; i < sp.fitness.length; i++) if (fit(sp.fitness[i]) > fit(sp.fitness[worst])) worst = i;
  return worst;
}

/** Every member of every sub-population, lowest rung first. */
export function globalPopulation(state: DehbState): number[][] {
  const out: number[][] = [];
  for (const sp of state.subpops) for (const v of sp.vectors) out.push(v);
  return out;
}
