/**
 * The budget flags of `dehb run` and `dehb optimize` (`--fevals N | --brackets N | --runtime 10m`,
 * or the same keys of a run config file): their one parser. Validation of the budget itself is
 * the library's (driver/budget.ts `checkBudget`); this only turns flag text into numbers and
 * refuses two budgets at once in flag words.
 */
import type { Command } from 'commander';
import { DehbError } from '../errors.js';
import type { Budget } from '../driver/budget.js';
import { parseDuration } from './durations.js';
import { intFlag } from './flags.js';

export interface BudgetFlags {
  fevals?: string | number;
  brackets?: string | number;
  runtime?: string | number;
}

export const ONE_BUDGET = 'give exactly one budget: --fevals N, --brackets N or --runtime DURATION';

/** Adds --fevals / --brackets / --runtime with the words of the command (`what` each counts). */
export function addBudgetOptions(cmd: Command, what: { fevals: string; brackets: string; runtime: string }): Command {
  return cmd
    .option('--fevals <n>', `budget: ${what.fevals}`)
    .option('--brackets <n>', `budget: ${what.brackets}`)
    .option('--runtime <duration>', `budget: ${what.runtime}`);
}

/** The budget the flags state (empty when none is given); more than one is E_USAGE. */
export function budgetFromFlags(v: BudgetFlags): Budget {
  const given = [v.fevals, v.brackets, v.runtime].filter((x) => x !== undefined).length;
  if (given > 1) throw new DehbError('E_USAGE', ONE_BUDGET);
  if (v.fevals !== undefined) return { fevals: intFlag(String(v.fevals), '--fevals') as number };
  if (v.brackets !== undefined) return { brackets: intFlag(String(v.brackets), '--brackets') as number };
  if (v.runtime !== undefined) return { runtimeMs: parseDuration(String(v.runtime), '--runtime') };
  return {};
}

export function hasBudget(b: Budget): boolean {
  return b.fevals !== undefined || b.brackets !== undefined || b.runtimeMs !== undefined;
}
