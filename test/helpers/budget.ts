/** Budgets for tests that drive runLoop directly: a total number of results, as `dehb run` states it. */
import { resolveBudget, type ResolvedBudget } from '../../src/driver/budget.js';

export const totalFevals = (fevals: number): ResolvedBudget => resolveBudget({ fevals, total: true }, { told: 0, bracketsOpened: 0 }, Date.now());
