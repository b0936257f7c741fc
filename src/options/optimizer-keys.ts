/**
 * The keys of the optimizer's options, for the unknown-key check of every option object that
 * includes them (DEHB, createStudy). Kept out of src/dehb, which stays pure.
 */
import type { OptimizerOptions } from '../dehb/types.js';
import type { KeyList } from './unknown-keys.js';

/** Every key of OptimizerOptions (the unknown-key check of option objects uses it). */
export const OPTIMIZER_OPTION_KEYS: KeyList<OptimizerOptions> = {
  space: true,
  minFidelity: true,
  maxFidelity: true,
  eta: true,
  mutationFactor: true,
  crossoverProb: true,
  strategy: true,
  boundaryFix: true,
  minClip: true,
  maxClip: true,
  seed: true,
  kind: true,
};
