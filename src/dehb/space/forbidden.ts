/**
 * Owns keeping forbidden configurations out of evaluation: listing a space's clauses, telling
 * whether a vector decodes to a forbidden configuration, and repairing one deterministically with
 * the optimizer's seeded RNG (resample the coordinates the violated clause reads; after half the
 * tries, the whole vector). A vector that is not forbidden is returned as is, drawing nothing.
 */
import { DehbError } from '../../errors.js';
import { uniform } from '../rng.js';
import type { ForbiddenSpec, RngState, SpaceSpec } from '../types.js';
import { compileSpace, violatedClause } from './compile.js';
import { decodeValues } from './decode.js';
import { compiledRefs } from './predicate.js';

/** Attempts before repairForbidden gives up. */
export const REPAIR_TRIES = 1000;

/** The space's forbidden clauses in the order they are checked. */
export function forbiddenClauses(space: SpaceSpec): ForbiddenSpec[] {
  const out: ForbiddenSpec[] = [];
  for (const spec of Object.values(space)) for (const f of spec.forbidden ?? []) out.push(f);
  return out;
}

/** Whether the vector decodes to a configuration that a forbidden clause excludes. */
export function isForbiddenVector(space: SpaceSpec, vector: readonly number[]): boolean {
  const cs = compileSpace(space);
  return cs.forbidden.length > 0 && violatedClause(cs, decodeValues(cs, vector)) >= 0;
}

/** A vector that is not forbidden: `vector` itself when allowed, else a repaired copy. */
export function repairForbidden(space: SpaceSpec, rng: RngState, vector: readonly number[]): number[] {
  const cs = compileSpace(space);
  if (cs.forbidden.length === 0) return vector as number[];
  let k = violatedClause(cs, decodeValues(cs, vector));
  if (k < 0) return vector as number[];
  const v = vector.slice();
  const all = v.map((_, i) => i);
  for (let t = 0; t < REPAIR_TRIES; t++) {
    const coords = t < REPAIR_TRIES / 2 ? compiledRefs(cs.forbidden[k]) : all;
    for (const i of coords) v[i] = uniform(rng);
    k = violatedClause(cs, decodeValues(cs, v));
    if (k < 0) return v;
  }
  throw new DehbError(
    'E_SPACE',
    `search space: ${REPAIR_TRIES} samples in a row were forbidden (last by clause ${JSON.stringify(forbiddenClauses(space)[k])}); ` +
      'the forbidden clauses exclude (almost) the whole space — loosen them',
    { details: { rule: 'forbidden-everything' } },
  );
}
