/**
 * Owns writing a validated space as ConfigSpace JSON, in the layout ConfigSpace 1.x's own writer
 * uses (`hyperparameters` with `default_value`, `conditions` with a `child` on every node,
 * `forbiddens`, `format_version` 0.4), so ConfigSpace, SMAC, the reference DEHB and our own
 * reader (configspace-read.ts) load it back.
 */
import type { ConditionSpec, ForbiddenSpec, ParamSpec, SpaceSpec } from '../types.js';
import { forbiddenClauses } from './forbidden.js';

type Obj = Record<string, unknown>;

function writeParam(name: string, p: ParamSpec): Obj {
  const withDefault = (o: Obj): Obj => (p.default === undefined ? o : { ...o, default_value: p.default });
  switch (p.type) {
    case 'float':
    case 'int': {
      const kind = p.type === 'float' ? 'float' : 'int';
      const base: Obj = { name, lower: p.low, upper: p.high, log: p.log === true };
      if (p.prior !== undefined) return withDefault({ type: `normal_${kind}`, ...base, mu: p.prior.mu, sigma: p.prior.sigma });
      return withDefault({ type: `uniform_${kind}`, ...base });
    }
    case 'categorical':
      return withDefault({ type: 'categorical', name, choices: p.choices, weights: p.weights ?? null });
    case 'ordinal':
      return withDefault({ type: 'ordinal', name, sequence: p.values });
    default:
      return { type: 'constant', name, value: p.value };
  }
}

const CONDITION_TYPES: Record<string, string> = { in: 'IN', eq: 'EQ', neq: 'NEQ', lt: 'LT', gt: 'GT' };

function writeCondition(child: string, c: ConditionSpec): Obj {
  if ('all' in c) return { type: 'AND', child, conditions: c.all.map((x) => writeCondition(child, x)) };
  if ('any' in c) return { type: 'OR', child, conditions: c.any.map((x) => writeCondition(child, x)) };
  const [op, value] = Object.entries(c).find(([k]) => k !== 'parent') as [string, unknown];
  return op === 'in'
    ? { type: 'IN', child, parent: c.parent, values: value }
    : { type: CONDITION_TYPES[op], child, parent: c.parent, value };
}

const CLAUSE_TYPES: Record<string, string> = { eq: 'EQUALS', in: 'IN', lt: 'CLAUSE_LT', le: 'CLAUSE_LE', gt: 'CLAUSE_GT', ge: 'CLAUSE_GE' };

function writeForbidden(f: ForbiddenSpec): Obj {
  if ('all' in f) return { type: 'AND', clauses: f.all.map(writeForbidden) };
  if ('any' in f) return { type: 'OR', clauses: f.any.map(writeForbidden) };
  const [op, value] = Object.entries(f).find(([k]) => k !== 'param') as [string, unknown];
  return op === 'in' ? { type: 'IN', name: f.param, values: value } : { type: CLAUSE_TYPES[op], name: f.param, value };
}

/** A validated space (parseSpace output) as a ConfigSpace JSON document. */
export function toConfigSpace(space: SpaceSpec): Obj {
  const names = Object.keys(space);
  return {
    hyperparameters: names.map((n) => writeParam(n, space[n])),
    conditions: names.flatMap((n) => {
      const c = space[n].condition;
      return c === undefined ? [] : [writeCondition(n, c)];
    }),
    forbiddens: forbiddenClauses(space).map(writeForbidden),
    format_version: 0.4,
  };
}
