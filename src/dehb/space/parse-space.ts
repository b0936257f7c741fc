/**
 * Owns validation of a search space given as JSON (or built with the typed builder): every
 * parameter spec, its default and its condition are checked, and conditions may not form cycles.
 * Errors are DehbError('E_SPACE') naming the parameter and the rule; the result is a normalised
 * deep copy containing only known fields.
 */
import { DehbError } from '../../errors.js';
import type { ConditionSpec, FloatParamSpec, IntParamSpec, ParamSpec, SpaceSpec } from '../types.js';

type Value = string | number | boolean;
type Obj = Record<string, unknown>;

const TYPES = ['float', 'int', 'categorical', 'ordinal', 'constant'] as const;
const FIELDS: Record<ParamSpec['type'], string[]> = {
  float: ['type', 'low', 'high', 'log', 'default', 'condition'],
  int: ['type', 'low', 'high', 'log', 'default', 'condition'],
  categorical: ['type', 'choices', 'default', 'condition'],
  ordinal: ['type', 'values', 'default', 'condition'],
  constant: ['type', 'value', 'default', 'condition'],
};

function fail(param: string | null, rule: string, message: string): never {
  const where = param === null ? 'search space' : `search space parameter '${param}'`;
  throw new DehbError('E_SPACE', `${where}: ${message}`, { details: { param, rule } });
}

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function show(x: unknown): string {
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s;
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

/** Whether `value` lies in the domain of `spec`. */
export function inDomain(spec: ParamSpec, value: unknown): boolean {
  switch (spec.type) {
    case 'float':
      return typeof value === 'number' && value >= spec.low && value <= spec.high;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= spec.low && value <= spec.high;
    case 'categorical':
      return spec.choices.includes(value as Value);
    case 'ordinal':
      return spec.values.includes(value as Value);
    default:
      return spec.value === value;
  }
}

export function describeDomain(spec: ParamSpec): string {
  switch (spec.type) {
    case 'float':
      return `a number in [${spec.low}, ${spec.high}]`;
    case 'int':
      return `an integer in [${spec.low}, ${spec.high}]`;
    case 'categorical':
      return `one of ${JSON.stringify(spec.choices)}`;
    case 'ordinal':
      return `one of ${JSON.stringify(spec.values)}`;
    default:
      return `the constant ${JSON.stringify(spec.value)}`;
  }
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
    spec = num;
  } else if (t === 'categorical') {
    spec = { type: t, choices: checkItems(name, raw, 'choices') };
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
  if (raw.condition !== undefined) spec.condition = parseConditionShape(name, raw.condition);
  return spec;
}

function parseConditionShape(name: string, c: unknown): ConditionSpec {
  if (!isObj(c)) fail(name, 'condition-type', `condition must be an object { parent, in } (got ${show(c)})`);
  for (const key of Object.keys(c)) {
    if (key !== 'parent' && key !== 'in') fail(name, 'condition-field', `unknown condition field '${key}' (allowed: parent, in)`);
  }
  if (typeof c.parent !== 'string' || c.parent === '') {
    fail(name, 'condition-parent', `condition.parent must be the name of another parameter (got ${show(c.parent)})`);
  }
  if (!Array.isArray(c.in) || c.in.length === 0) {
    fail(name, 'condition-in', `condition.in must be a non-empty array of parent values (got ${show(c.in)})`);
  }
  return { parent: c.parent, in: (c.in as Value[]).slice() };
}

function checkConditions(space: SpaceSpec): void {
  for (const [name, spec] of Object.entries(space)) {
    const c = spec.condition;
    if (c === undefined) continue;
    const parent = Object.prototype.hasOwnProperty.call(space, c.parent) ? space[c.parent] : undefined;
    if (parent === undefined) {
      fail(name, 'condition-missing-parent', `condition parent '${c.parent}' is not a parameter of the space`);
    }
    for (const v of c.in) {
      if (!inDomain(parent, v)) {
        fail(
          name,
          'condition-value',
          `condition value ${show(v)} can never be taken by parent '${c.parent}' (${describeDomain(parent)})`,
        );
      }
    }
  }
  for (const start of Object.keys(space)) {
    const path = [start];
    let cur = space[start].condition?.parent;
    while (cur !== undefined) {
      if (cur === start) fail(start, 'condition-cycle', `conditions form a cycle: ${[...path, cur].join(' -> ')}`);
      if (path.includes(cur)) break;
      path.push(cur);
      cur = space[cur].condition?.parent;
    }
  }
}

/** Validates a search space (JSON or builder output) and returns a normalised copy. */
export function parseSpace(json: unknown): SpaceSpec {
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
  return out;
}
