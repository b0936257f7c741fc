/**
 * Owns random sampling in a space: uniform unit-cube vectors (what DEHB's populations start
 * from) and random configurations decoded from them.
 */
import { uniform } from '../rng.js';
import type { Config, RngState, SpaceSpec } from '../types.js';
import { compileSpace } from './compile.js';
import { decode } from './decode.js';

/** A uniform vector in [0, 1)^dim. */
export function sampleVector(rng: RngState, dim: number): number[] {
  const v = new Array<number>(dim);
  for (let i = 0; i < dim; i++) v[i] = uniform(rng);
  return v;
}

/** A random configuration (uniform in the unit cube, then decoded) and its vector. */
export function sampleConfig(space: SpaceSpec, rng: RngState): { vector: number[]; config: Config } {
  const vector = sampleVector(rng, compileSpace(space).dim);
  return { vector, config: decode(space, vector) };
}
