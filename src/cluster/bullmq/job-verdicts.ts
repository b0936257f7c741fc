/**
 * Owns the small decisions a cluster worker makes about one job's evaluation: what an abort means
 * once the evaluation is over (cancel, lost lock, hand back), the outcome of a job this worker
 * refuses to run, and whether a command died of the shutdown signal a scheduler sent to the whole
 * step. Pure helpers for the worker runtime (worker-lifecycle.ts, worker-job.ts, worker-trial.ts).
 */
import { DehbError, serializeError } from '../../errors.js';
import type { EvalOutcome, WorkerInfo } from '../../protocol/executor.js';

export type AbortKind = 'shutdown' | 'cancel' | 'lock';

/** Longest delay before a refused job is offered again (to every worker). */
export const LEAVE_MAX_DELAY_MS = 10_000;

/**
 * What an abort means once the evaluation is over: the coordinator cancelled → a cancelled outcome
 * (not stored); the lock was lost → drop the result; shutdown → hand the job back, unless the
 * evaluation had finished (`interrupted` false), whose result is still stored. null: no abort.
 */
export function abortVerdict(signal: AbortSignal, interrupted: boolean): 'cancel' | 'lost-lock' | 'hand-back' | null {
  const kind = signal.reason as AbortKind | undefined;
  if (kind === 'cancel') return 'cancel';
  if (kind === 'lock') return 'lost-lock';
  if (kind === 'shutdown' && interrupted) return 'hand-back';
  return null;
}

export function refusal(code: 'E_NOT_ALLOWED' | 'E_EXECUTOR' | 'E_NO_GPU', message: string, worker: WorkerInfo): EvalOutcome {
  return { status: 'failed', retryable: false, error: serializeError(new DehbError(code, message)), worker };
}

/** A command objective that died of SIGTERM/SIGINT/SIGHUP (sent to the whole step by a scheduler). */
export function killedByShutdownSignal(outcome: EvalOutcome): boolean {
  if (outcome.status !== 'failed') return false;
  const signal = outcome.error.details?.signal;
  return signal === 'SIGTERM' || signal === 'SIGINT' || signal === 'SIGHUP';
}
