/**
 * Owns the compiled (pre-digested) form of a validated search space: parameter order, per-kind
 * constants, condition parents and a topological evaluation order. Cached per space object in a
 * WeakMap so encode/decode stay cheap on every ask; the space must not be mutated afterwards.
 */
import type { ParamSpec, SpaceSpec } from '../types.js';

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
  /** Index of the condition parent, -1 when unconditional. */
  parent: number;
  allowed: Value[];
}

export interface CompiledSpace {
  params: CompiledParam[];
  /** Indices in an order where every parent precedes its children. */
  order: number[];
  dim: number;
  hasConditions: boolean;
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
      parent: spec.condition === undefined ? -1 : (indexOf.get(spec.condition.parent) ?? -1),
      allowed: spec.condition === undefined ? [] : spec.condition.in.slice(),
    };
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
  const compiled: CompiledSpace = {
    params,
    order,
    dim: params.length,
    hasConditions: params.some((p) => p.parent >= 0),
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
    const parent = params[i].parent;
    if (parent >= 0) visit(parent);
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

/** Whether `allowed` contains `value` (strict equality). */
export function allows(allowed: Value[], value: Value | undefined): boolean {
  if (value === undefined) return false;
  for (let i = 0; i < allowed.length; i++) if (allowed[i] === value) return true;
  return false;
}
