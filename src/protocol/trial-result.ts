/**
 * The one converter from an evaluation outcome (wire type, ./schemas.ts) to the optimizer's
 * TrialResult: what the run loop tells the optimizer and what the journal records. Lossless: every
 * field of the outcome is kept except `worker` and `durationMs`, which the caller records beside
 * the result (the journal's `told` entry); timed-out and cancelled trials also get an `error` whose
 * message says why, for the readers that print one.
 */
import type { TrialResult } from '../dehb/types.js';
import type { EvalOutcome } from './schemas.js';

export function toTrialResult(outcome: EvalOutcome): TrialResult {
  const { worker: _worker, durationMs: _durationMs, ...result } = outcome;
  switch (result.status) {
    case 'ok':
    case 'failed':
      return result;
    case 'timed-out':
      return { ...result, error: { name: 'TimeoutError', message: `timed out after ${result.timeoutMs} ms` } };
    case 'cancelled':
      return { ...result, error: { name: 'Cancelled', message: result.reason ?? 'cancelled' } };
  }
}
