/**
 * Owns reading ConfigSpace JSON (what ConfigSpace's JSON writer produces, format 0.2 to 0.4 and
 * ConfigSpace 1.x: `hyperparameters`, `conditions`, `forbiddens`) into our wrapper form
 * `{ parameters, forbidden }`, which parseSpace then validates. Kinds we cannot represent
 * faithfully (unbounded normal priors, beta priors, quantisation, forbidden relations) are
 * refused with a DehbError('E_SPACE') naming the hyperparameter.
 */
import { DehbError } from '../../errors.js';
import type { ConditionSpec, ForbiddenSpec, ParamSpec, SpaceValue } from '../types.js';
import { isObj, show, type Obj } from './predicate.js';


function fail(where: string, message: string): never {
  throw new DehbError('E_SPACE', `ConfigSpace JSON: ${where}: ${message}`, { details: { rule: 'configspace' } });
}

/** A ConfigSpace JSON document has a `hyperparameters` array (ours maps names to specs). */
export function isConfigSpaceJson(json: unknown): json is Obj {
  return isObj(json) && Array.isArray(json.hyperparameters);
}

function defaultOf(h: Obj): unknown {
  return h.default_value !== undefined ? h.default_value : h.default;
}

function logOf(h: Obj): { log?: true } {
  return h.log === true ? { log: true } : {};
}

function bounds(where: string, h: Obj, hint: string): { low: unknown; high: unknown } {
  if (h.lower === undefined || h.lower === null || h.upper === undefined || h.upper === null) fail(where, hint);
  return { low: h.lower, high: h.upper };
}

function readParam(h: Obj): ParamSpec {
  const name = h.name as string;
  const type = h.type;
  const where = `hyperparameter '${name}' (${show(type)})`;
  if (h.q !== undefined && h.q !== null) fail(where, `quantisation 'q' (${show(h.q)}) is not supported; remove it (ConfigSpace 1.x dropped it too)`);
  const d = defaultOf(h);
  const withDefault = <S extends ParamSpec>(spec: S): S => {
    if (d !== undefined && d !== null) spec.default = d as SpaceValue;
    return spec;
  };
  switch (type) {
    case 'uniform_float':
    case 'uniform_int': {
      const b = bounds(where, h, "missing 'lower'/'upper'");
      const spec = { type: type === 'uniform_float' ? 'float' : 'int', ...b, ...logOf(h) } as ParamSpec;
      return withDefault(spec);
    }
    case 'normal_float':
    case 'normal_int': {
      const b = bounds(
        where,
        h,
        "a normal hyperparameter needs 'lower' and 'upper': DEHB searches a bounded box (ConfigSpace >= 0.6 writes the bounds; give them in ConfigSpace and export again)",
      );
      const spec = {
        type: type === 'normal_float' ? 'float' : 'int',
        ...b,
        ...logOf(h),
        prior: { mu: h.mu, sigma: h.sigma },
      } as ParamSpec;
      return withDefault(spec);
    }
    case 'categorical': {
      const spec: ParamSpec = { type: 'categorical', choices: h.choices as SpaceValue[] };
      const w = h.weights ?? h.probabilities;
      if (w !== undefined && w !== null) spec.weights = w as number[];
      return withDefault(spec);
    }
    case 'ordinal':
      return withDefault({ type: 'ordinal', values: h.sequence as SpaceValue[] });
    case 'constant':
    case 'unparametrized':
      return { type: 'constant', value: h.value as SpaceValue };
    case 'beta_float':
    case 'beta_int':
      return fail(where, 'beta priors are not supported; use uniform_float/uniform_int (or normal with bounds)');
    default:
      return fail(where, `unknown hyperparameter type ${show(type)}`);
  }
}

const CONDITION_OPS: Record<string, string> = { EQ: 'eq', NEQ: 'neq', LT: 'lt', GT: 'gt' };

function readCondition(c: unknown, where: string): ConditionSpec {
  if (!isObj(c)) fail(where, `a condition must be an object (got ${show(c)})`);
  const t = c.type;
  if (t === 'AND' || t === 'OR') {
    if (!Array.isArray(c.conditions)) fail(where, `${t} needs a 'conditions' array`);
    const parts = (c.conditions as unknown[]).map((x) => readCondition(x, where));
    return t === 'AND' ? { all: parts } : { any: parts };
  }
  if (typeof c.parent !== 'string') fail(where, `condition needs a 'parent' name (got ${show(c.parent)})`);
  if (t === 'IN') return { parent: c.parent, in: c.values as SpaceValue[] };
  const op = typeof t === 'string' ? CONDITION_OPS[t] : undefined;
  if (op === undefined) fail(where, `unknown condition type ${show(t)} (known: EQ, NEQ, LT, GT, IN, AND, OR)`);
  return { parent: c.parent, [op]: c.value } as ConditionSpec;
}

const CLAUSE_OPS: Record<string, string> = { EQUALS: 'eq', CLAUSE_LT: 'lt', CLAUSE_LE: 'le', CLAUSE_GT: 'gt', CLAUSE_GE: 'ge' };

function readForbidden(f: unknown, where: string): ForbiddenSpec {
  if (!isObj(f)) fail(where, `a forbidden clause must be an object (got ${show(f)})`);
  const t = f.type;
  if (t === 'AND' || t === 'OR') {
    if (!Array.isArray(f.clauses)) fail(where, `${t} needs a 'clauses' array`);
    const parts = (f.clauses as unknown[]).map((x) => readForbidden(x, where));
    return t === 'AND' ? { all: parts } : { any: parts };
  }
  if (typeof t === 'string' && t.startsWith('RELATION')) {
    fail(where, `forbidden relations between two hyperparameters (${t}: ${show(f.left)}, ${show(f.right)}) are not supported`);
  }
  if (typeof f.name !== 'string') fail(where, `forbidden clause needs a 'name' (got ${show(f.name)})`);
  if (t === 'IN') return { param: f.name, in: f.values as SpaceValue[] };
  const op = typeof t === 'string' ? CLAUSE_OPS[t] : undefined;
  if (op === undefined) fail(where, `unknown forbidden clause type ${show(t)} (known: EQUALS, IN, AND, OR, CLAUSE_LT/LE/GT/GE)`);
  return { param: f.name, [op]: f.value } as ForbiddenSpec;
}

/** Converts a ConfigSpace JSON document into `{ parameters, forbidden }` (not yet validated). */
export function fromConfigSpace(json: Obj): { parameters: Record<string, ParamSpec>; forbidden: ForbiddenSpec[] } {
  const parameters: Record<string, ParamSpec> = {};
  (json.hyperparameters as unknown[]).forEach((h, i) => {
    if (!isObj(h) || typeof h.name !== 'string' || h.name === '') fail(`hyperparameters[${i}]`, `needs a 'name' and a 'type' (got ${show(h)})`);
    if (Object.prototype.hasOwnProperty.call(parameters, h.name)) fail(`hyperparameter '${h.name}'`, 'is defined twice');
    parameters[h.name] = readParam(h);
  });
  const conditions = json.conditions ?? [];
  if (!Array.isArray(conditions)) fail('conditions', `must be an array (got ${show(conditions)})`);
  for (const [i, c] of (conditions as unknown[]).entries()) {
    const child = isObj(c) ? c.child : undefined;
    const where = `conditions[${i}]`;
    if (typeof child !== 'string' || !Object.prototype.hasOwnProperty.call(parameters, child)) {
      fail(where, `'child' must name a hyperparameter (got ${show(child)})`);
    }
    const cond = readCondition(c, `${where} (child '${child}')`);
    const prev = parameters[child].condition;
    // several conditions on one child all have to hold
    parameters[child].condition = prev === undefined ? cond : { all: [prev, cond] };
  }
  const forbiddens = json.forbiddens ?? [];
  if (!Array.isArray(forbiddens)) fail('forbiddens', `must be an array (got ${show(forbiddens)})`);
  const forbidden = (forbiddens as unknown[]).map((f, i) => readForbidden(f, `forbiddens[${i}]`));
  return { parameters, forbidden };
}
