/**
 * Owns checking a user-supplied configuration (pushed jobs, CLI/JSON input) against a space:
 * values are coerced from strings where unambiguous ("0.01" -> 0.01, "true" -> true for boolean
 * choices), unknown names, out-of-domain values and missing active parameters are rejected with
 * DehbError('E_SPACE') naming the parameter, a configuration a forbidden clause excludes is
 * rejected naming the clause; inactive parameters are dropped from the result.
 */
import { DehbError } from '../../errors.js';
import type { Config, SpaceSpec } from '../types.js';
import { compileSpace, isActive, violatedClause, type CompiledParam, type Value } from './compile.js';
import { describeDomain } from './domain.js';
import { forbiddenClauses } from './forbidden.js';

function bad(param: string, rule: string, message: string): never {
  throw new DehbError('E_SPACE', `parameter '${param}': ${message}`, { details: { param, rule } });
}

function show(x: unknown): string {
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s;
}

function toNumber(raw: unknown): number | null {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const n = Number(raw.trim());
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function matchItem(items: Value[], raw: unknown): Value | undefined {
  for (const it of items) if (it === raw) return it;
  if (typeof raw === 'string') {
    const t = raw.trim();
    for (const it of items) if (typeof it !== 'string' && String(it) === t) return it;
    const n = toNumber(t);
    if (n !== null) for (const it of items) if (it === n) return it;
  } else if (typeof raw === 'number' || typeof raw === 'boolean') {
    for (const it of items) if (typeof it === 'string' && it === String(raw)) return it;
  }
  return undefined;
}

/** Coerces and checks one value; throws E_SPACE naming the parameter. */
export function coerceValue(p: CompiledParam, raw: unknown): Value {
  if (p.kind === 'float' || p.kind === 'int') {
    const n = toNumber(raw);
    if (n === null || !Number.isFinite(n)) bad(p.name, 'not-a-number', `expected ${describeDomain(p.spec)} (got ${show(raw)})`);
    if (p.kind === 'int' && !Number.isInteger(n)) bad(p.name, 'not-an-integer', `expected an integer (got ${show(raw)})`);
    if (n < p.low || n > p.high) bad(p.name, 'out-of-range', `${n} is outside [${p.low}, ${p.high}]`);
    return n;
  }
  const v = matchItem(p.items, raw);
  if (v === undefined) bad(p.name, 'not-in-domain', `${show(raw)} is not ${describeDomain(p.spec)}`);
  return v;
}

/**
 * Validates `values` against `space` and returns a Config in the space's key order with inactive
 * conditional parameters removed. Missing constants are filled in with their value.
 */
export function validateConfig(space: SpaceSpec, values: Record<string, unknown>): Config {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new DehbError('E_SPACE', `a configuration must be an object of parameter values (got ${show(values)})`, {
      details: { rule: 'config-type' },
    });
  }
  const cs = compileSpace(space);
  const { params } = cs;
  const known = new Set(params.map((p) => p.name));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) {
      bad(key, 'unknown-parameter', `not a parameter of the space (known: ${params.map((p) => p.name).join(', ')})`);
    }
  }
  const coerced: Array<Value | undefined> = new Array(params.length);
  for (const i of cs.order) {
    const p = params[i];
    if (!isActive(p, coerced)) continue;
    const raw = Object.prototype.hasOwnProperty.call(values, p.name) ? values[p.name] : undefined;
    if (raw === undefined || raw === null) {
      if (p.kind === 'constant') {
        coerced[i] = p.items[0];
        continue;
      }
      const why =
        p.parents.length > 0 ? ` (active because ${p.parents.map((j) => `'${params[j].name}' is ${show(coerced[j])}`).join(', ')})` : '';
      bad(p.name, 'missing-parameter', `missing value${why}; expected ${describeDomain(p.spec)}`);
    }
    coerced[i] = coerceValue(p, raw);
  }
  const k = violatedClause(cs, coerced);
  if (k >= 0) {
    throw new DehbError('E_SPACE', `configuration is forbidden by the space's clause ${JSON.stringify(forbiddenClauses(space)[k])}`, {
      details: { rule: 'forbidden', clause: k },
    });
  }
  const out: Config = {};
  for (let i = 0; i < params.length; i++) {
    const v = coerced[i];
    if (v !== undefined) out[params[i].name] = v;
  }
  return out;
}
