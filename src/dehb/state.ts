/**
 * Owns the creation of a fresh DehbState (spec §2.3): resolved options, fidelity ladder,
 * sub-population sizes, one RNG seeded from the options' seed, and sub-populations of uniform
 * random vectors with fitness +Infinity (null) and config ids 0..N-1 in rung order.
 */
import { subpopSizes } from './brackets.js';
import { fidelityLadder } from './fidelity.js';
import { resolveOptimizerOptions } from './options.js';
import { createRng } from './rng.js';
import { sampleSpaceVector } from './space/sample.js';
import type { DehbState, OptimizerOptions, ResolvedOptimizerOptions, SubPopulation } from './types.js';

export function createState(o: OptimizerOptions | ResolvedOptimizerOptions): DehbState {
  const options = resolveOptimizerOptions(o);
  const fidelities = fidelityLadder(options.minFidelity, options.maxFidelity, options.eta, options.fidelityType);
  const popSizes = subpopSizes(fidelities.length, options.eta, options);
  const rng = createRng(options.seed);
  let nextConfigId = 0;
  const subpops: SubPopulation[] = fidelities.map((fidelity, r) => {
    const n = popSizes[r];
    const sp: SubPopulation = {
      fidelity,
      vectors: [],
      fitness: [],
      configIds: [],
      parentCounter: 0,
      promotionPool: [],
    };
    for (let i = 0; i < n; i++) {
      sp.vectors.push(sampleSpaceVector(options.space, rng));
      sp.fitness.push(null);
      sp.configIds.push(nextConfigId++);
    }
    return sp;
  });
  return {
    version: 1,
    options,
    fidelities,
    popSizes,
    rng,
    subpops,
    brackets: [],
    iterationCounter: -1,
    nextConfigId,
    nextTrialId: 0,
    pending: {},
    manualQueue: [],
    incumbent: null,
    told: 0,
    asked: 0,
  };
}
