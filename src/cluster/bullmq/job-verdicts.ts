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
/** Delay of a job's first refusal by a worker; it doubles with each refusal of it by that worker. */
export const LEAVE_FIRST_DELAY_MS = 25;

/**
 * How long a job this worker refused for the `n`th time waits before every worker is offered it
 * again. The delay is there so that the refusing worker reaches the jobs behind it instead of
 * taking the same one back; while it waits, no worker may take it. So it starts short: two
 * studies on one Redis, whose `dehb optimize` slots each refuse the other's jobs, bounce most jobs
 * once or twice (a first delay of 1 s made 100 fast trials of each take 85 s instead of 1 s:
 * npm run bench:studies). A job that no worker takes waits LEAVE_MAX_DELAY_MS from its tenth
 * refusal on.
 */
export function leaveDelayMs(n: number): number {
  return Math.min(LEAVE_MAX_DELAY_MS, LEAVE_FIRST_DELAY_MS * 2 ** Math.min(Math.max(n, 1) - 1, 20));
}

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
