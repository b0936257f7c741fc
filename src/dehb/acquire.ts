/**
 * Owns producing the configuration of one bracket job (spec §2.5): round-robin parent slot,
 * promotion from the lower rung during the first Hyperband iteration, DE evolution (parent pool
 * from the lower rung's best, fillers, mutation, crossover, boundary repair) otherwise.
 */
import { crossover, fillParentPool, fixBoundary, mutate } from './de.js';
import { bestSlot, globalPopulation, sortedSlots } from './population.js';
import type { BracketState, Crossover, DehbState, JobSource, Mutation, SubPopulation } from './types.js';

export interface Acquired {
  configId: number;
  vector: number[];
  parentId: number;
  source: JobSource;
}

function containsVector(sp: SubPopulation, v: readonly number[]): boolean {
  outer: for (const m of sp.vectors) {
    for (let i = 0; i < v.length; i++) if (m[i] !== v[i]) continue outer;
    return true;
  }
  return false;
}

function promote(state: DehbState, r: number, lowerR: number, n: number): { configId: number; vector: number[] } {
  const sp = state.subpops[r];
  const lower = state.subpops[lowerR];
  if (sp.promotionPool.length === 0) {
    const pool: Array<{ configId: number; vector: number[] }> = [];
    for (const i of sortedSlots(lower)) {
      if (pool.length >= n) break;
      if (lower.fitness[i] === null) break;
      if (containsVector(sp, lower.vectors[i])) continue;
      pool.push({ configId: lower.configIds[i], vector: lower.vectors[i] });
    }
    sp.promotionPool = pool;
  }
  const head = sp.promotionPool.shift();
  if (head !== undefined) return head;
  const b = bestSlot(lower);
  return { configId: lower.configIds[b], vector: lower.vectors[b] };
}

function evolve(state: DehbState, r: number, lowerR: number, n: number, parentId: number): number[] {
  const { options, rng } = state;
  const [mutation, cx] = options.strategy.split('_') as [Mutation, Crossover];
  const sp = state.subpops[r];
  const lower = state.subpops[lowerR];
  const target = sp.vectors[parentId];
  const order = sortedSlots(lower);
  const pool: number[][] = [];
  for (let k = 0; k < n && k < order.length; k++) pool.push(lower.vectors[order[k]]);
  const best = state.incumbent !== null ? state.incumbent.vector : sp.vectors[bestSlot(sp)];
  const F = options.mutationFactor;
  const full = fillParentPool(rng, pool, mutation, F, target, best, () => globalPopulation(state));
  const mutant = mutate(rng, mutation, F, full, target, best);
  const trial = crossover(rng, cx, target, mutant, options.crossoverProb);
  return fixBoundary(rng, trial, options.boundaryFix);
}

/** Builds the job content for bracket-rung j of bracket b (does not register the job). */
export function acquireConfig(state: DehbState, b: BracketState, j: number): Acquired {
  const r = b.firstRung + j;
  const sp = state.subpops[r];
  const parentId = sp.parentCounter;
  sp.parentCounter = (parentId + 1) % sp.vectors.length;
  const lowerR = j > 0 ? r - 1 : r;
  const n = b.sizes[j];
  if (state.iterationCounter < state.fidelities.length && j > 0) {
    const p = promote(state, r, lowerR, n);
    return { configId: p.configId, vector: p.vector, parentId, source: 'promotion' };
  }
  const vector = evolve(state, r, lowerR, n, parentId);
  return { configId: state.nextConfigId++, vector, parentId, source: 'de' };
}

