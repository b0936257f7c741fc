/**
 * The one converter from an evaluation outcome (wire type, src/protocol/executor.ts) to the
 * optimizer's TrialResult: what the run loop tells the optimizer and what the journal records.
 */
import type { TrialResult } from '../dehb/types.js';
import type { EvalOutcome } from './executor.js';

export function toTrialResult(outcome: EvalOutcome): TrialResult {
  switch (outcome.status) {
    case 'ok': {
      const r: TrialResult = { status: 'ok', fitness: outcome.fitness };
      if (outcome.cost !== undefined) r.cost = outcome.cost;
      if (outcome.info !== undefined) r.info = outcome.info;
      return r;
    }
    case 'failed': {
      const { name, message, code } = outcome.error;
      return { status: 'failed', error: code === undefined ? { name, message } : { name, message, code } };
    }
    case 'timed-out':
      return { status: 'timed-out', error: { name: 'TimeoutError', message: `timed out after ${outcome.timeoutMs} ms` } };
    case 'cancelled':
      return { status: 'cancelled', error: { name: 'Cancelled', message: outcome.reason ?? 'cancelled' } };
  }
}
