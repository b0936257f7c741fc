/**
 * The one budget resolver of every run mode (`DEHB.run`, `dehb run`, `dehb optimize`,
 * `Study.optimize`). A user states exactly one budget — fevals, brackets or runtime — and says once
 * whether it counts from now (relative, the default of `DEHB.run`, as the reference's repeated
 * run() calls) or from the start of the run (`total: true`: a study or a resumed CLI run, where
 * running again with the same budget does nothing more). The loop works with the absolute limits
 * resolved here. Runtime always counts from now.
 */
import { DehbError } from '../errors.js';

export interface Budget {
  /** Number of results told. */
  fevals?: number;
  /** Number of Hyperband brackets opened. */
  brackets?: number;
  /** Wall-clock milliseconds from the start of this call. */
  runtimeMs?: number;
  /** Count fevals / brackets from the start of the run instead of from now. Default false. */
  total?: boolean;
}

/** The budget as recorded in a journal: exactly one of the three. */
export type StatedBudget = { fevals: number } | { brackets: number } | { runtimeMs: number };

export interface ResolvedBudget {
  kind: 'fevals' | 'brackets' | 'runtime';
  /** Stop asking once this many results are told or in flight. */
  fevalsTotal: number;
  /** Never open a bracket with an id >= this. */
  bracketLimit: number;
  /** Stop asking at this clock value (ms). */
  deadline: number;
}

const NEEDS = 'a budget: { fevals: N } | { brackets: N } | { runtimeMs: N }';
const FIELDS = ['fevals', 'brackets', 'runtimeMs'] as const;

/** Exactly one budget, checked: the one validator (errors name `budget.<key>`; the CLI re-words them). */
export function checkBudget(budget: Budget | undefined): StatedBudget {
  if (budget === null || typeof budget !== 'object') throw new DehbError('E_CONFIG', `run needs ${NEEDS}`);
  const given = FIELDS.filter((k) => budget[k] !== undefined);
  if (given.length === 0) throw new DehbError('E_CONFIG', `run needs ${NEEDS}`);
  if (given.length > 1) throw new DehbError('E_CONFIG', `give exactly one budget, not ${given.map((k) => `budget.${k}`).join(' and ')}`);
  const field = given[0] as (typeof FIELDS)[number];
  const value = budget[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new DehbError('E_CONFIG', `budget.${field} must be a positive number (got ${String(value)})`);
  }
  if (field !== 'runtimeMs' && !Number.isInteger(value)) {
    throw new DehbError('E_CONFIG', `budget.${field} must be a whole number (got ${value})`);
  }
  return { [field]: value } as StatedBudget;
}

/**
 * Absolute limits of a budget. Relative budgets add to the progress so far: fevals to the results
 * told, brackets to the brackets opened (half-done brackets are finished first).
 */
export function resolveBudget(
  budget: Budget | undefined,
  progress: { told: number; bracketsOpened: number },
  now: number,
): ResolvedBudget {
  const stated = checkBudget(budget);
  const base = budget?.total === true ? { told: 0, bracketsOpened: 0 } : progress;
  const inf = Number.POSITIVE_INFINITY;
  if ('fevals' in stated) return { kind: 'fevals', fevalsTotal: base.told + stated.fevals, bracketLimit: inf, deadline: inf };
  if ('brackets' in stated) return { kind: 'brackets', fevalsTotal: inf, bracketLimit: base.bracketsOpened + stated.brackets, deadline: inf };
  return { kind: 'runtime', fevalsTotal: inf, bracketLimit: inf, deadline: now + stated.runtimeMs };
}
