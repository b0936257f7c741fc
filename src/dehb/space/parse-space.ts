/**
 * Owns validation of a search space given as JSON (or built with the typed builder): every
 * parameter spec, its default, prior, weights, condition and forbidden clauses are checked, and
 * conditions may not form cycles. Accepts our format (a name -> spec object, or
 * `{ parameters, forbidden }`) and ConfigSpace JSON. Errors are DehbError('E_SPACE') naming the
 * parameter and the rule; the result is a normalised deep copy containing only known fields, with
 * each forbidden clause kept on the last parameter it mentions.
 */
import { DehbError } from '../../errors.js';
import type { ConditionSpec, FloatParamSpec, ForbiddenSpec, IntParamSpec, ParamSpec, SpaceSpec } from '../types.js';
import { fromConfigSpace, isConfigSpaceJson } from './configspace-read.js';
import { describeDomain, inDomain } from './domain.js';
import {
  CONDITION_GRAMMAR,
  FORBIDDEN_GRAMMAR,
  checkPredicate,
  parsePredicate,
  predicateRefs,
  isObj,
  show,
  type Obj,
  type PredicateSpec,
} from './predicate.js';

export { describeDomain, inDomain } from './domain.js';

type Value = string | number | boolean;

const TYPES = ['float', 'int', 'categorical', 'ordinal', 'constant'] as const;
const FIELDS: Record<ParamSpec['type'], string[]> = {
  float: ['type', 'low', 'high', 'log', 'prior', 'default', 'condition', 'forbidden'],
  int: ['type', 'low', 'high', 'log', 'prior', 'default', 'condition', 'forbidden'],
  categorical: ['type', 'choices', 'weights', 'default', 'condition', 'forbidden'],
  ordinal: ['type', 'values', 'default', 'condition', 'forbidden'],
  constant: ['type', 'value', 'default', 'condition', 'forbidden'],
};

function fail(param: string | null, rule: string, message: string): never {
  const where = param === null ? 'search space' : `search space parameter '${param}'`;
  throw new DehbError('E_SPACE', `${where}: ${message}`, { details: { param, rule } });
}

function checkBound(name: string, spec: Obj, key: 'low' | 'high', isInt: boolean): number {
  if (!('low' in spec) && !('high' in spec) && key === 'low') {
    fail(name, 'missing-field', `missing fields 'low' and 'high' (numeric bounds, low < high)`);
  }
  const v = spec[key];
  if (v === undefined) fail(name, 'missing-field', `missing field '${key}' (a finite number)`);
  if (typeof v !== 'number') fail(name, 'bound-type', `'${key}' must be a number (got ${show(v)})`);
  if (!Number.isFinite(v)) fail(name, 'non-finite-bound', `'${key}' must be finite (got ${show(v)})`);
  if (isInt && !Number.isInteger(v)) {
    fail(name, 'int-bound', `int bounds must be integers ('${key}' is ${v}); use type 'float' for fractional bounds`);
  }
  return v;
}

function checkItems(name: string, spec: Obj, key: 'choices' | 'values'): Value[] {
  const items = spec[key];
  if (items === undefined) fail(name, 'missing-field', `missing field '${key}' (a non-empty array)`);
  if (!Array.isArray(items)) fail(name, 'items-type', `'${key}' must be an array (got ${show(items)})`);
  if (items.length === 0) fail(name, 'empty-items', `'${key}' is empty: give at least one value`);
  const seen = new Set<Value>();
  for (const item of items as unknown[]) {
    if (typeof item !== 'string' && typeof item !== 'boolean' && typeof item !== 'number') {
      fail(name, 'item-type', `'${key}' may hold only strings, numbers and booleans (got ${show(item)})`);
    }
    if (typeof item === 'number' && !Number.isFinite(item)) {
      fail(name, 'item-type', `'${key}' may hold only finite numbers (got ${show(item)})`);
    }
    if (seen.has(item)) fail(name, 'duplicate-item', `'${key}' contains ${show(item)} twice; values must be distinct`);
    seen.add(item);
  }
  return (items as Value[]).slice();
}

function parseParam(name: string, raw: unknown): ParamSpec {
  if (!isObj(raw)) fail(name, 'spec-type', `spec must be an object with a 'type' field (got ${show(raw)})`);
  const type = raw.type;
  if (type === undefined) fail(name, 'missing-field', `missing field 'type' (one of ${TYPES.join(', ')})`);
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    fail(name, 'unknown-type', `unknown type ${show(type)} (expected one of ${TYPES.join(', ')})`);
  }
  const t = type as ParamSpec['type'];
  for (const key of Object.keys(raw)) {
    if (!FIELDS[t].includes(key)) {
      fail(name, 'unknown-field', `unknown field '${key}' for type '${t}' (allowed: ${FIELDS[t].join(', ')})`);
    }
  }
  let spec: ParamSpec;
  if (t === 'float' || t === 'int') {
    const low = checkBound(name, raw, 'low', t === 'int');
    const high = checkBound(name, raw, 'high', t === 'int');
    if (low >= high) fail(name, 'low-ge-high', `low must be < high (got low=${low}, high=${high})`);
    const log = raw.log;
    if (log !== undefined && typeof log !== 'boolean') fail(name, 'log-type', `'log' must be a boolean (got ${show(log)})`);
    if (log === true && low <= 0) fail(name, 'log-low', `log scale needs low > 0 (got low=${low})`);
    const num: FloatParamSpec | IntParamSpec = { type: t, low, high };
    if (log !== undefined) num.log = log;
    if (raw.prior !== undefined) num.prior = parsePrior(name, raw.prior);
    spec = num;
  } else if (t === 'categorical') {
    const choices = checkItems(name, raw, 'choices');
    spec = { type: t, choices };
    if (raw.weights !== undefined && raw.weights !== null) spec.weights = parseWeights(name, raw.weights, choices.length);
  } else if (t === 'ordinal') {
    spec = { type: t, values: checkItems(name, raw, 'values') };
  } else {
    const value = raw.value;
    if (value === undefined) fail(name, 'missing-field', `missing field 'value' (a string, number or boolean)`);
    if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) {
      fail(name, 'value-type', `'value' must be a string, a finite number or a boolean (got ${show(value)})`);
    }
    spec = { type: t, value };
  }
  if (raw.default !== undefined) {
    if (!inDomain(spec, raw.default)) {
      fail(name, 'default-domain', `default ${show(raw.default)} is not in the domain (${describeDomain(spec)})`);
    }
    spec.default = raw.default as Value;
  }
  if (raw.condition !== undefined) {
    spec.condition = parsePredicate(raw.condition, CONDITION_GRAMMAR, failer(name)) as ConditionSpec;
  }
  if (raw.forbidden !== undefined) spec.forbidden = parseForbiddenList(name, raw.forbidden);
  return spec;
}

function failer(name: string | null): (rule: string, message: string) => never {
  return (rule, message) => fail(name, rule, message);
}

function parsePrior(name: string, raw: unknown): { mu: number; sigma: number } {
  if (!isObj(raw) || Object.keys(raw).some((k) => k !== 'mu' && k !== 'sigma')) {
    fail(name, 'prior-type', `'prior' must be an object { mu, sigma } (got ${show(raw)})`);
  }
  const { mu, sigma } = raw;
  if (typeof mu !== 'number' || !Number.isFinite(mu)) fail(name, 'prior-mu', `prior.mu must be a finite number (got ${show(mu)})`);
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma <= 0) {
    fail(name, 'prior-sigma', `prior.sigma must be a finite number > 0 (got ${show(sigma)})`);
  }
  return { mu, sigma };
}

function parseWeights(name: string, raw: unknown, n: number): number[] {
  if (!Array.isArray(raw) || raw.length !== n || !raw.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0)) {
    fail(name, 'weights', `'weights' must be ${n} finite numbers >= 0, one per choice (got ${show(raw)})`);
  }
  if ((raw as number[]).reduce((a, b) => a + b, 0) <= 0) fail(name, 'weights', `'weights' must not all be 0`);
  return (raw as number[]).slice();
}

function parseForbiddenList(name: string | null, raw: unknown): ForbiddenSpec[] {
  if (!Array.isArray(raw)) fail(name, 'forbidden-type', `'forbidden' must be an array of forbidden clauses (got ${show(raw)})`);
  return (raw as unknown[]).map((c) => parsePredicate(c, FORBIDDEN_GRAMMAR, failer(name)) as ForbiddenSpec);
}

function checkConditions(space: SpaceSpec): void {
  for (const [name, spec] of Object.entries(space)) {
    if (spec.condition !== undefined) checkPredicate(spec.condition as PredicateSpec, CONDITION_GRAMMAR, space, failer(name));
  }
  // depth-first search over child -> parents edges; a grey node met again closes a cycle
  const state = new Map<string, 1 | 2>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) {
      const cycle = path.slice(path.indexOf(name));
      fail(cycle[0], 'condition-cycle', `conditions form a cycle: ${[...cycle, name].join(' -> ')}`);
    }
    state.set(name, 1);
    const c = space[name].condition;
    if (c !== undefined) for (const parent of predicateRefs(c as PredicateSpec)) visit(parent, [...path, name]);
    state.set(name, 2);
  };
  for (const name of Object.keys(space)) visit(name, []);
}

/** Checks every clause and moves it onto the last parameter (in space order) that it mentions. */
function placeForbidden(space: SpaceSpec, topLevel: ForbiddenSpec[]): void {
  const names = Object.keys(space);
  const clauses: Array<{ clause: ForbiddenSpec; from: string | null }> = topLevel.map((clause) => ({ clause, from: null }));
  for (const name of names) {
    for (const clause of space[name].forbidden ?? []) clauses.push({ clause, from: name });
    delete space[name].forbidden;
  }
  for (const { clause, from } of clauses) {
    checkPredicate(clause as PredicateSpec, FORBIDDEN_GRAMMAR, space, failer(from));
    const refs = predicateRefs(clause as PredicateSpec);
    const last = names.filter((n) => refs.includes(n)).pop() as string;
    (space[last].forbidden ??= []).push(clause);
  }
}

/** Our wrapper form `{ parameters: {...}, forbidden: [...] }` (a space may not name a parameter 'parameters' with it). */
function isWrapper(json: Obj): boolean {
  const keys = Object.keys(json);
  return (
    keys.includes('parameters') &&
    keys.every((k) => k === 'parameters' || k === 'forbidden') &&
    isObj(json.parameters) &&
    typeof json.parameters.type !== 'string'
  );
}

/** Validates a search space (JSON or builder output) and returns a normalised copy. */
export function parseSpace(input: unknown): SpaceSpec {
  let json = input;
  let topForbidden: ForbiddenSpec[] = [];
  if (isConfigSpaceJson(json)) json = fromConfigSpace(json);
  if (isObj(json) && isWrapper(json)) {
    if (json.forbidden !== undefined) topForbidden = parseForbiddenList(null, json.forbidden);
    json = json.parameters;
  }
  if (!isObj(json)) {
    fail(null, 'space-type', `must be an object mapping parameter names to specs (got ${Array.isArray(json) ? 'an array' : show(json)})`);
  }
  const names = Object.keys(json);
  if (names.length === 0) fail(null, 'empty-space', 'is empty: define at least one parameter');
  const out: SpaceSpec = {};
  for (const name of names) {
    if (name === '' || name === '__proto__') fail(name, 'bad-name', `'${name}' is not a usable parameter name`);
    out[name] = parseParam(name, json[name]);
  }
  checkConditions(out);
  placeForbidden(out, topForbidden);
  return out;
}
