/**
 * Owns the small predicate language shared by conditions and forbidden clauses: checking the
 * shape of a leaf (`{ parent|param, <op>: value }`) or a conjunction (`{ all }` / `{ any }`),
 * checking its values against the space, compiling it to parameter indices, and evaluating it on
 * decoded values (a leaf on an inactive parameter is false, as in ConfigSpace).
 */
import type { ParamSpec, SpaceSpec, SpaceValue } from '../types.js';
import { describeDomain, inDomain } from './domain.js';

export type Fail = (rule: string, message: string) => never;

/** What a predicate of one kind may use: the key naming its parameter and the leaf tests. */
export interface PredicateGrammar {
  what: 'condition' | 'forbidden clause';
  /** Prefix of the error rules (condition-value, forbidden-value, ...). */
  rule: 'condition' | 'forbidden';
  ref: 'parent' | 'param';
  ops: readonly string[];
}

export const CONDITION_GRAMMAR: PredicateGrammar = { what: 'condition', rule: 'condition', ref: 'parent', ops: ['in', 'eq', 'neq', 'lt', 'gt'] };
export const FORBIDDEN_GRAMMAR: PredicateGrammar = { what: 'forbidden clause', rule: 'forbidden', ref: 'param', ops: ['eq', 'in', 'lt', 'le', 'gt', 'ge'] };

/** A predicate of either kind, as plain data. */
export type PredicateSpec = { all: PredicateSpec[] } | { any: PredicateSpec[] } | Record<string, unknown>;

export type Obj = Record<string, unknown>;
const ORDER_OPS = new Set(['lt', 'le', 'gt', 'ge']);

/** A plain object (not null, not an array): what a space file's specs are. */
export function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function show(x: unknown): string {
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s;
}

function isScalar(x: unknown): x is SpaceValue {
  return typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x));
}

/** Checks the shape of a predicate and returns a normalised deep copy. */
export function parsePredicate(raw: unknown, g: PredicateGrammar, fail: Fail): PredicateSpec {
  const form = `{ ${g.ref}, ${g.ops.join('|')} } or { all: [...] } / { any: [...] }`;
  if (!isObj(raw)) fail(`${g.rule}-type`, `${g.what} must be an object ${form} (got ${show(raw)})`);
  const keys = Object.keys(raw);
  if ('all' in raw || 'any' in raw) {
    const key = 'all' in raw ? 'all' : 'any';
    if (keys.length !== 1) fail(`${g.rule}-field`, `a ${g.what} with '${key}' may have no other field (got ${keys.join(', ')})`);
    const parts = raw[key];
    if (!Array.isArray(parts) || parts.length === 0) fail(`${g.rule}-parts`, `'${key}' must be a non-empty array of ${g.what}s (got ${show(parts)})`);
    const out = (parts as unknown[]).map((p) => parsePredicate(p, g, fail));
    return key === 'all' ? { all: out } : { any: out };
  }
  const ops = keys.filter((k) => k !== g.ref);
  for (const k of ops) {
    if (!g.ops.includes(k)) fail(`${g.rule}-field`, `unknown ${g.what} field '${k}' (use ${form})`);
  }
  const ref = raw[g.ref];
  if (typeof ref !== 'string' || ref === '') fail(`${g.rule}-${g.ref}`, `${g.what}.${g.ref} must be the name of a parameter (got ${show(ref)})`);
  if (ops.length !== 1) fail(`${g.rule}-op`, `a ${g.what} needs exactly one test of ${g.ops.join(', ')} (got ${ops.length === 0 ? 'none' : ops.join(', ')})`);
  const op = ops[0];
  const v = raw[op];
  if (op === 'in') {
    if (!Array.isArray(v) || v.length === 0 || !v.every(isScalar)) {
      fail(`${g.rule}-in`, `${g.what}.in must be a non-empty array of values (got ${show(v)})`);
    }
    return { [g.ref]: ref, in: (v as SpaceValue[]).slice() };
  }
  if (!isScalar(v)) fail(`${g.rule}-value`, `${g.what}.${op} must be a string, a finite number or a boolean (got ${show(v)})`);
  return { [g.ref]: ref, [op]: v };
}

/** Names of the parameters a predicate mentions, in order of appearance. */
export function predicateRefs(p: PredicateSpec, out: string[] = []): string[] {
  if ('all' in p || 'any' in p) {
    for (const part of ('all' in p ? p.all : p.any) as PredicateSpec[]) predicateRefs(part, out);
    return out;
  }
  const ref = (p as Obj).parent ?? (p as Obj).param;
  if (typeof ref === 'string' && !out.includes(ref)) out.push(ref);
  return out;
}

function leafOf(p: PredicateSpec): { ref: string; op: string; value: unknown } {
  const o = p as Obj;
  const refKey = 'parent' in o ? 'parent' : 'param';
  const op = Object.keys(o).find((k) => k !== refKey) as string;
  return { ref: o[refKey] as string, op, value: o[op] };
}

/** Checks that every parameter exists and every value can be taken (fail names the problem). */
export function checkPredicate(p: PredicateSpec, g: PredicateGrammar, space: SpaceSpec, fail: Fail): void {
  if ('all' in p || 'any' in p) {
    for (const part of ('all' in p ? p.all : p.any) as PredicateSpec[]) checkPredicate(part, g, space, fail);
    return;
  }
  const { ref, op, value } = leafOf(p);
  const target: ParamSpec | undefined = Object.prototype.hasOwnProperty.call(space, ref) ? space[ref] : undefined;
  if (target === undefined) fail(`${g.rule}-missing-${g.ref}`, `${g.what} ${g.ref} '${ref}' is not a parameter of the space`);
  if (ORDER_OPS.has(op)) {
    const numeric = target.type === 'float' || target.type === 'int';
    if (!numeric && target.type !== 'ordinal') {
      fail(`${g.rule}-order`, `${g.what} '${op}' needs a numeric or ordinal ${g.ref}; '${ref}' is ${target.type}`);
    }
    if (numeric ? typeof value !== 'number' : !inDomain(target, value)) {
      fail(`${g.rule}-value`, `${g.what} ${op} ${show(value)} is not comparable with '${ref}' (${describeDomain(target)})`);
    }
    return;
  }
  for (const v of op === 'in' ? (value as unknown[]) : [value]) {
    if (!inDomain(target, v)) {
      fail(`${g.rule}-value`, `${g.what} value ${show(v)} can never be taken by ${g.ref} '${ref}' (${describeDomain(target)})`);
    }
  }
}

// ---------------------------------------------------------------- compiled form

export type CompiledPredicate =
  | { kind: 'all' | 'any'; parts: CompiledPredicate[] }
  | { kind: 'leaf'; ref: number; op: string; values: SpaceValue[]; rank: ((v: SpaceValue) => number) | null; bound: number };

/** Compiles a checked predicate against parameter indices and specs. */
export function compilePredicate(p: PredicateSpec, indexOf: Map<string, number>, space: SpaceSpec): CompiledPredicate {
  if ('all' in p || 'any' in p) {
    const parts = ('all' in p ? p.all : p.any) as PredicateSpec[];
    return { kind: 'all' in p ? 'all' : 'any', parts: parts.map((q) => compilePredicate(q, indexOf, space)) };
  }
  const { ref, op, value } = leafOf(p);
  const spec = space[ref];
  const values = op === 'in' ? (value as SpaceValue[]).slice() : [value as SpaceValue];
  let rank: ((v: SpaceValue) => number) | null = null;
  let bound = 0;
  if (ORDER_OPS.has(op)) {
    if (spec.type === 'ordinal') {
      const seq = spec.values;
      rank = (v) => seq.indexOf(v);
      bound = seq.indexOf(value as SpaceValue);
    } else {
      rank = (v) => v as number;
      bound = value as number;
    }
  }
  return { kind: 'leaf', ref: indexOf.get(ref) as number, op, values, rank, bound };
}

/** Evaluates a compiled predicate on values by parameter index (undefined: inactive). */
export function holds(p: CompiledPredicate, values: ReadonlyArray<SpaceValue | undefined>): boolean {
  if (p.kind !== 'leaf') return p.kind === 'all' ? p.parts.every((q) => holds(q, values)) : p.parts.some((q) => holds(q, values));
  const v = values[p.ref];
  if (v === undefined) return false;
  switch (p.op) {
    case 'in':
    case 'eq':
      return p.values.includes(v);
    case 'neq':
      return v !== p.values[0];
  }
  const r = (p.rank as (v: SpaceValue) => number)(v);
  if (p.op === 'lt') return r < p.bound;
  if (p.op === 'le') return r <= p.bound;
  if (p.op === 'gt') return r > p.bound;
  return r >= p.bound;
}

/** Indices of the parameters a compiled predicate reads. */
export function compiledRefs(p: CompiledPredicate, out: Set<number> = new Set()): Set<number> {
  if (p.kind === 'leaf') out.add(p.ref);
  else for (const q of p.parts) compiledRefs(q, out);
  return out;
}
