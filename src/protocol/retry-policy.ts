/**
 * The one retry policy of every mode (run loop, study workers, the cluster executor): a trial is
 * evaluated at most `DEFAULT_ATTEMPTS` times. It runs again only when an evaluation failed with
 * `retryable: true` (an `ObjectiveError` with `{ retryable: true }`, a command exiting 75) or, on a
 * cluster, when its worker died; any other outcome is the trial's result. Cluster retries wait
 * `RETRY_BACKOFF_MS`, doubling.
 */
import type { EvalOutcome } from './executor.js';

/** Evaluations of one trial at most (the first one included). */
export const DEFAULT_ATTEMPTS = 3;

/** First delay before a cluster job is retried (exponential), ms. */
export const RETRY_BACKOFF_MS = 1_000;

/** Whether a trial whose evaluation number `attempt` (1-based) ended with `outcome` runs again. */
export function shouldRetry(outcome: EvalOutcome, attempt: number, maxAttempts = DEFAULT_ATTEMPTS): boolean {
  return outcome.status === 'failed' && outcome.retryable && attempt < maxAttempts;
}
