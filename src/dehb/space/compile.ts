/**
 * Owns the compiled (pre-digested) form of a validated search space: parameter order, per-kind
 * constants, compiled conditions and forbidden clauses, and a topological evaluation order. Cached
 * per space object in a WeakMap so encode/decode stay cheap on every ask; the space must not be
 * mutated afterwards.
 */
import type { ParamSpec, SpaceSpec } from '../types.js';
import { compiledRefs, compilePredicate, holds, type CompiledPredicate, type PredicateSpec } from './predicate.js';

export type Value = string | number | boolean;

export interface CompiledParam {
  name: string;
  index: number;
  spec: ParamSpec;
  kind: ParamSpec['type'];
  /** float/int bounds (log bounds when log). */
  low: number;
  high: number;
  log: boolean;
  logLow: number;
  logSpan: number;
  /** categorical choices / ordinal values / [constant]. */
  items: Value[];
  /** The compiled condition, null when unconditional. */
  cond: CompiledPredicate | null;
  /** Indices of the parameters the condition reads. */
  parents: number[];
}

export interface CompiledSpace {
  params: CompiledParam[];
  /** Indices in an order where every parent precedes its children. */
  order: number[];
  dim: number;
  hasConditions: boolean;
  /** Compiled forbidden clauses (a configuration is forbidden when any holds). */
  forbidden: CompiledPredicate[];
}

const cache = new WeakMap<SpaceSpec, CompiledSpace>();

/** Compiles an already validated space (see parseSpace). */
export function compileSpace(space: SpaceSpec): CompiledSpace {
  const hit = cache.get(space);
  if (hit !== undefined) return hit;
  const names = Object.keys(space);
  const indexOf = new Map(names.map((n, i) => [n, i]));
  const params = names.map((name, index): CompiledParam => {
    const spec = space[name];
    const p: CompiledParam = {
      name,
      index,
      spec,
      kind: spec.type,
      low: 0,
      high: 1,
      log: false,
      logLow: 0,
      logSpan: 0,
      items: [],
      cond: null,
      parents: [],
    };
    if (spec.condition !== undefined) {
      p.cond = compilePredicate(spec.condition as PredicateSpec, indexOf, space);
      p.parents = [...compiledRefs(p.cond)];
    }
    if (spec.type === 'float' || spec.type === 'int') {
      p.low = spec.low;
      p.high = spec.high;
      p.log = spec.log === true;
      if (p.log) {
        p.logLow = Math.log(spec.low);
        p.logSpan = Math.log(spec.high) - p.logLow;
      }
    } else if (spec.type === 'categorical') p.items = spec.choices.slice();
    else if (spec.type === 'ordinal') p.items = spec.values.slice();
    else p.items = [spec.value];
    return p;
  });
  const order = topoOrder(params);
  const forbidden: CompiledPredicate[] = [];
  for (const name of names) {
    for (const f of space[name].forbidden ?? []) forbidden.push(compilePredicate(f as PredicateSpec, indexOf, space));
  }
  const compiled: CompiledSpace = {
    params,
    order,
    dim: params.length,
    hasConditions: params.some((p) => p.cond !== null),
    forbidden,
  };
  cache.set(space, compiled);
  return compiled;
}

function topoOrder(params: CompiledParam[]): number[] {
  const order: number[] = [];
  const state = new Uint8Array(params.length);
  const visit = (i: number): void => {
    if (state[i] !== 0) return;
    state[i] = 1;
    for (const parent of params[i].parents) visit(parent);
    state[i] = 2;
    order.push(i);
  };
  for (let i = 0; i < params.length; i++) visit(i);
  return order;
}

/** numpy-style rounding: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Whether parameter p is active given the values decided so far (undefined: inactive). */
export function isActive(p: CompiledParam, values: ReadonlyArray<Value | undefined>): boolean {
  return p.cond === null || holds(p.cond, values);
}

/** Index of the first forbidden clause that holds for these values, or -1. */
export function violatedClause(cs: CompiledSpace, values: ReadonlyArray<Value | undefined>): number {
  for (let k = 0; k < cs.forbidden.length; k++) if (holds(cs.forbidden[k], values)) return k;
  return -1;
}
