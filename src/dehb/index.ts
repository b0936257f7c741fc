/** Public surface of the pure optimizer (named re-exports). */
export {
  ask,
  tell,
  push,
  createState,
  resolveOptimizerOptions,
  effectiveFitness,
  nextBracketId,
  rungFor,
  STRATEGIES,
} from './optimizer.js';
export type { AskOptions } from './optimizer.js';
export { createRng, uniform, randInt, normal, sampleDistinct, shuffle, cloneRng } from './rng.js';
export { computeLadder, ladderSize, bracketPlan, subpopSizes } from './brackets.js';
export {
  parseSpace,
  encode,
  decode,
  validateConfig,
  sampleConfig,
  param,
  defineSpace,
  toConfigSpace,
  isForbiddenVector,
  repairForbidden,
} from './space/index.js';
export { fidelityLadder } from './fidelity.js';
export type { ConfigOf, ValueOf } from './space/index.js';
export * from './types.js';
export { OPTIMIZER_VERSION } from './version.js';
