/**
 * Owns translating library errors into the words of the `dehb run` / `dehb study` command line:
 * an option name the user never typed (`minFidelity`, `gpusPerTrial`, `budget.fevals`) becomes
 * the flag that sets it (`--min-fidelity`, `--gpus-per-trial`, `--fevals`).
 */
import { DehbError, isDehbError } from '../errors.js';

const FLAG_FOR: Record<string, string> = {
  'budget.fevals': '--fevals',
  'budget.brackets': '--brackets',
  'budget.runtimeMs': '--runtime',
  'objective.command': '--command',
  'objective.argv[0]': '--command',
  'objective.argv': '--command',
  minFidelity: '--min-fidelity',
  maxFidelity: '--max-fidelity',
  mutationFactor: '--mutation-factor',
  crossoverProb: '--crossover-prob',
  boundaryFix: '--boundary-fix',
  nWorkers: '--n-workers',
  gpusPerTrial: '--gpus-per-trial',
  trialTimeoutMs: '--trial-timeout',
  outputDir: '--output',
  runId: '--run-id',
  // plain words: only replaced where the message starts with them (`eta must be > 1`)
  eta: '--eta',
  seed: '--seed',
  strategy: '--strategy',
  kind: '--kind',
};
const PLAIN = new Set(['eta', 'seed', 'strategy', 'kind']);

/** The message with library option names replaced by flag names. */
export function flagWords(message: string): string {
  let out = message;
  const first = /^([A-Za-z.[\]0-9]+) /.exec(out)?.[1];
  if (first !== undefined && FLAG_FOR[first] !== undefined) out = FLAG_FOR[first] + out.slice(first.length);
  for (const [key, flag] of Object.entries(FLAG_FOR)) {
    if (PLAIN.has(key)) continue;
    out = out.split(key).join(flag);
  }
  return out;
}

/** A DehbError re-worded with flagWords (same code and details); anything else unchanged. */
export function inFlagWords(err: unknown): unknown {
  if (!isDehbError(err)) return err;
  const message = flagWords(err.message);
  return message === err.message ? err : new DehbError(err.code, message, { cause: err, ...(err.details === undefined ? {} : { details: err.details }) });
}
