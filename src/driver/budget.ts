/**
 * Budgets of a run. A user states one budget (fevals, brackets or runtime); the loop works with
 * absolute limits resolved against the run's progress so far.
 */
import { DehbError } from '../errors.js';

export interface Budget {
  /** Number of results told. */
  fevals?: number;
  /** Number of Hyperband brackets opened. */
  brackets?: number;
  /** Wall-clock milliseconds from the start of this run() call. */
  runtimeMs?: number;
}

export interface ResolvedBudget {
  kind: 'fevals' | 'brackets' | 'runtime';
  /** Stop asking once this many results are told or in flight. */
  fevalsTotal: number;
  /** Never open a bracket with an id >= this. */
  bracketLimit: number;
  /** Stop asking at this clock value (ms). */
  deadline: number;
}

/** Exactly one budget; priority fevals > brackets > runtime as in the reference. */
export function chooseBudget(budget: Budget | undefined): Required<Pick<ResolvedBudget, 'kind'>> & { value: number } {
  if (budget === undefined || typeof budget !== 'object') {
    throw new DehbError('E_CONFIG', 'run() needs a budget: { fevals: N } | { brackets: N } | { runtimeMs: N }');
  }
  const entries: Array<[ResolvedBudget['kind'], number | undefined]> = [
    ['fevals', budget.fevals],
    ['brackets', budget.brackets],
    ['runtime', budget.runtimeMs],
  ];
  for (const [kind, value] of entries) {
    if (value === undefined) continue;
    const field = kind === 'runtime' ? 'runtimeMs' : kind;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new DehbError('E_CONFIG', `budget.${field} must be a positive number (got ${String(value)})`);
    }
    if (kind !== 'runtime' && !Number.isInteger(value)) {
      throw new DehbError('E_CONFIG', `budget.${field} must be a whole number (got ${value})`);
    }
    return { kind, value };
  }
  throw new DehbError('E_CONFIG', 'run() needs a budget: { fevals: N } | { brackets: N } | { runtimeMs: N }');
}

/**
 * Relative budgets, as the reference's repeated run() calls: fevals adds to the results told so
 * far, brackets adds to the brackets opened so far (half-done brackets are finished first).
 */
export function resolveRelativeBudget(
  budget: Budget | undefined,
  progress: { told: number; bracketsOpened: number },
  now: number,
): ResolvedBudget {
  const { kind, value } = chooseBudget(budget);
  return {
    kind,
    fevalsTotal: kind === 'fevals' ? progress.told + value : Number.POSITIVE_INFINITY,
    bracketLimit: kind === 'brackets' ? progress.bracketsOpened + value : Number.POSITIVE_INFINITY,
    deadline: kind === 'runtime' ? now + value : Number.POSITIVE_INFINITY,
  };
}

/** Total budgets (a study's or a resumed CLI run's): fevals and brackets count from the start. */
export function resolveTotalBudget(budget: Budget | undefined, now: number): ResolvedBudget {
  const { kind, value } = chooseBudget(budget);
  return {
    kind,
    fevalsTotal: kind === 'fevals' ? value : Number.POSITIVE_INFINITY,
    bracketLimit: kind === 'brackets' ? value : Number.POSITIVE_INFINITY,
    deadline: kind === 'runtime' ? now + value : Number.POSITIVE_INFINITY,
  };
}
