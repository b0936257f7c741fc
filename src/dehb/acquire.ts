/**
 * Owns producing the configuration of one bracket job (spec §2.5): the parent slot, promotion from
 * the lower rung during the first Hyperband iteration, DE evolution (parent pool from the lower
 * rung's best, fillers, mutation, crossover, boundary repair) otherwise.
 *
 * Three deliberate differences from the reference, all invisible with one job in flight (so the
 * sequential traces are the reference's):
 * - Whether a job is a promotion is decided by the job's own bracket (ids 0..L-1 are the first
 *   Hyperband iteration), not by the id of the last opened bracket. The reference tests its global
 *   iteration counter, so with W jobs in flight the upper rungs of brackets 0..L-1 stop being
 *   promotions as soon as a waiting worker has opened bracket L: the top rung then gets DE trials
 *   crossed with never-evaluated random slots instead of the best configurations of the rung below.
 * - A configuration already in flight to a rung is not promoted to it again. The reference only
 *   skips candidates already in the rung's population, which with one job in flight is the same
 *   thing; with several, two brackets promoted the same configuration, the rung held duplicates,
 *   and DE mutants built from two equal donors (r2 - r3 = 0) copied members instead of searching.
 * - A bracket's first rung that finds its parent slot never evaluated while jobs are in flight
 *   evolves from the rung below (see placeholderStart).
 * Under the asynchronous schedule a promotion is the best result received so far at the rung
 * below that is neither in the rung's population nor in flight to it.
 */
import { crossover, fillParentPool, fixBoundary, mutate, sameVector } from './de.js';
import { bestSlot, globalPopulation, sortedSlots } from './population.js';
import type { BracketState, Crossover, DehbState, JobSource, Mutation, SubPopulation } from './types.js';

export interface Acquired {
  configId: number;
  vector: number[];
  parentId: number;
  source: JobSource;
}

function containsVector(vectors: ReadonlyArray<readonly number[]>, v: readonly number[]): boolean {
  return vectors.some((m) => sameVector(m, v));
}

/** Vectors of the jobs in flight at ladder index r. */
function pendingVectors(state: DehbState, r: number): number[][] {
  return Object.values(state.pending)
    .filter((j) => j.rung === r)
    .map((j) => j.vector);
}

/**
 * Sync: the reference's cached pool of the lower rung's best n (rebuilt when it runs empty), less
 * the configurations already in the rung or in flight to it.
 */
function promoteSync(
  sp: SubPopulation,
  lower: SubPopulation,
  n: number,
  inFlight: ReadonlyArray<readonly number[]>,
): { configId: number; vector: number[] } | undefined {
  if (sp.promotionPool.length === 0) {
    const pool: Array<{ configId: number; vector: number[] }> = [];
    for (const i of sortedSlots(lower)) {
      if (pool.length >= n) break;
      if (lower.fitness[i] === null) break;
      if (containsVector(sp.vectors, lower.vectors[i]) || containsVector(inFlight, lower.vectors[i])) continue;
      pool.push({ configId: lower.configIds[i], vector: lower.vectors[i] });
    }
    sp.promotionPool = pool;
  }
  return sp.promotionPool.shift();
}

/** Async: the best result received so far at the lower rung that is neither in the rung nor in flight to it. */
function promoteAsync(state: DehbState, r: number, lower: SubPopulation): { configId: number; vector: number[] } | undefined {
  const sp = state.subpops[r];
  const inFlight = pendingVectors(state, r);
  for (const i of sortedSlots(lower)) {
    if (lower.fitness[i] === null) break;
    const v = lower.vectors[i];
    if (containsVector(sp.vectors, v) || containsVector(inFlight, v)) continue;
    return { configId: lower.configIds[i], vector: v };
  }
  return undefined;
}

function promote(state: DehbState, r: number, lowerR: number, n: number): { configId: number; vector: number[] } {
  const lower = state.subpops[lowerR];
  const head =
    state.options.schedule === 'async'
      ? promoteAsync(state, r, lower)
      : promoteSync(state.subpops[r], lower, n, pendingVectors(state, r));
  if (head !== undefined) return head;
  const b = bestSlot(lower);
  return { configId: lower.configIds[b], vector: lower.vectors[b] };
}

function evolve(state: DehbState, r: number, lowerR: number, n: number, target: readonly number[]): number[] {
  const { options, rng } = state;
  const [mutation, cx] = options.strategy.split('_') as [Mutation, Crossover];
  const sp = state.subpops[r];
  const lower = state.subpops[lowerR];
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

/**
 * A bracket's first rung at ladder index r > 0 whose parent slot was never evaluated while other
 * jobs are in flight: the target to evolve from instead, the (parentId mod k)-th best of the k
 * evaluated members of the rung below (undefined when there is none, or nothing is in flight).
 * Sequentially this never happens in the standard schedule (earlier brackets' promotions fill a
 * rung's slots before a bracket starts at it); with jobs in flight a bracket can start before
 * those promotions are in, and DE would cross a random placeholder with placeholder donors.
 */
function placeholderStart(state: DehbState, r: number, parentId: number): number[] | undefined {
  let inFlight = false;
  for (const _ in state.pending) {
    inFlight = true;
    break;
  }
  if (!inFlight) return undefined;
  const lower = state.subpops[r - 1];
  const evaluated = sortedSlots(lower).filter((i) => lower.fitness[i] !== null);
  return evaluated.length === 0 ? undefined : lower.vectors[evaluated[parentId % evaluated.length]];
}

/** Builds the job content for bracket-rung j of bracket b (does not register the job). */
export function acquireConfig(state: DehbState, b: BracketState, j: number): Acquired {
  const r = b.firstRung + j;
  const sp = state.subpops[r];
  const parentId = sp.parentCounter;
  sp.parentCounter = (parentId + 1) % sp.vectors.length;
  const lowerR = j > 0 ? r - 1 : r;
  const n = b.sizes[j];
  if (b.id < state.fidelities.length && j > 0) {
    const p = promote(state, r, lowerR, n);
    return { configId: p.configId, vector: p.vector, parentId, source: 'promotion' };
  }
  const below = j === 0 && r > 0 && sp.fitness[parentId] === null ? placeholderStart(state, r, parentId) : undefined;
  const vector =
    below !== undefined ? evolve(state, r, r - 1, n, below) : evolve(state, r, lowerR, n, sp.vectors[parentId]);
  return { configId: state.nextConfigId++, vector, parentId, source: 'de' };
}
