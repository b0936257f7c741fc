/**
 * The run loop: keeps exactly `executor.capacity` evaluations in flight, asks as soon as one
 * finishes (no polling, no sleeps), records every outcome through the RunSession, and stops on the
 * budget or on a graceful abort. Knows the optimizer session and the Executor seam, never a
 * concrete backend.
 *
 * A slot is freed as soon as its result is recorded and queued for the journal's group commit
 * (no fsync between two evaluations); the executor is told it may drop the task
 * (`Executor.recorded`) only once that result is durable.
 */
import { setMaxListeners } from 'node:events';
import { DehbError, serializeError } from '../errors.js';
import type { Job } from '../dehb/types.js';
import type { EvalTask, Executor, WorkerInfo } from '../protocol/executor.js';
import { toTrialResult } from '../protocol/trial-result.js';
import { shouldRetry } from '../protocol/retry-policy.js';
import type { RunSession } from '../study/run-session.js';
import type { TrialRecord } from '../study/journal-types.js';
import type { ResolvedBudget } from './budget.js';

export interface RunEvents {
  onTrialStart?(job: Job): void;
  onTrialEnd?(record: TrialRecord, info: { improved: boolean }): void;
}

export interface RunLoopOptions {
  session: RunSession;
  executor: Executor;
  budget: ResolvedBudget;
  makeTask(job: Job): EvalTask;
  /** Graceful stop: ask nothing more, let running evaluations finish. */
  stopSignal?: AbortSignal;
  /** Forced stop: running evaluations are cancelled and stay pending for a resume. */
  killSignal?: AbortSignal;
  events?: RunEvents;
  now?: () => number;
  /** Stream intermediate values while trials run (default false: they arrive with the result). */
  liveReports?: boolean;
  /** Wakes the loop when the executor's capacity grew or new work (a push) arrived; returns an unsubscribe. */
  subscribe?: (wake: () => void) => () => void;
  /** Evaluations of a trial at most (retry-policy.ts). Default DEFAULT_ATTEMPTS (3). */
  maxAttempts?: number;
}

export type StopReason = 'budget' | 'brackets' | 'no-work' | 'stopped' | 'error';

export interface RunLoopSummary {
  reason: StopReason;
  /** Results recorded during this loop. */
  told: number;
  elapsedMs: number;
}

/** Evaluations started between two turns of the event loop given to I/O (journaled runs). */
const YIELD_EVERY = 32;

export async function runLoop(opts: RunLoopOptions): Promise<RunLoopSummary> {
  const { session, executor, budget } = opts;
  const now = opts.now ?? Date.now;
  const started = now();
  let inFlight = 0;
  let startedCount = 0;
  let yieldedAt = 0;
  const attempts = new Map<number, number>();
  const resubmit = session.resumedPending.filter((j) => session.pendingJob(j.trialId) !== undefined);
  let told = 0;
  let failure: unknown = null;
  let askWaits = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  let timer: NodeJS.Timeout | null = null;
  if (Number.isFinite(budget.deadline)) {
    timer = setTimeout(notify, Math.max(0, budget.deadline - now()));
  }
  const onStop = (): void => {
    executor.interrupt?.();
    notify();
  };
  if (opts.stopSignal?.aborted === true) executor.interrupt?.();
  opts.stopSignal?.addEventListener('abort', onStop, { once: true });
  const unsubscribe = opts.subscribe?.(notify);
  // One derived signal for every submit: executors may each listen to it.
  const kill = new AbortController();
  setMaxListeners(0, kill.signal);
  const forwardKill = (): void => kill.abort();
  if (opts.killSignal?.aborted === true) kill.abort();
  else opts.killSignal?.addEventListener('abort', forwardKill, { once: true });

  const stopping = (): boolean => {
    failure ??= session.journalFailure;
    return failure !== null || opts.stopSignal?.aborted === true || opts.killSignal?.aborted === true;
  };

  const mayAsk = (): boolean =>
    !stopping() && now() < budget.deadline && session.told + inFlight < budget.fevalsTotal;

  const start = (job: Job): void => {
    inFlight++;
    startedCount++;
    opts.events?.onTrialStart?.(job);
    session.started(job.trialId);
    const task = opts.makeTask(job);
    executor
      .submit(task, {
        signal: kill.signal,
        onReport: (step, value) => session.report(job.trialId, step, value),
        liveReports: opts.liveReports ?? false,
      })
      .then(
        async (outcome) => {
          if (outcome.status === 'cancelled' && stopping()) return; // stays pending: resume re-runs it
          const attempt = attempts.get(job.trialId) ?? 1;
          if (!stopping() && shouldRetry(outcome, attempt, opts.maxAttempts)) {
            attempts.set(job.trialId, attempt + 1);
            resubmit.unshift(job); // runs again before anything new is asked
            return;
          }
          const result = toTrialResult(outcome);
          // built by assignment: a literal made of spreads gives every result a hidden class of its own
          const extra: { worker?: WorkerInfo; durationMs?: number; queueWaitMs?: number } = {};
          if (outcome.worker !== undefined) extra.worker = outcome.worker;
          if (outcome.durationMs !== undefined) extra.durationMs = outcome.durationMs;
          if (outcome.queueWaitMs !== undefined) extra.queueWaitMs = outcome.queueWaitMs;
          const { recorded, improved, record, durable } = session.tell(job.trialId, result, extra);
          if (executor.recorded !== undefined) {
            // durable: the executor may drop its copy
            durable().then(() => executor.recorded?.(task), (err: unknown) => {
              failure ??= err;
              notify();
            });
          }
          if (session.backlogged) await durable(); // the disk is behind: let it catch up
          if (recorded) {
            told++;
            if (record !== undefined) opts.events?.onTrialEnd?.(record, { improved });
          }
        },
        (err: unknown) => {
          failure ??= err;
        },
      )
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        inFlight--;
        notify();
      });
  };

  try {
    for (;;) {
      if (session.journaled && startedCount - yieldedAt >= YIELD_EVERY) {
        // evaluations that finish at once (microtasks) would keep the event loop from ever seeing
        // the journal's write and fsync complete: the group commit would wait for the backlog
        // limit, and the disk would idle while the loop computes and vice versa
        yieldedAt = startedCount;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      askWaits = false;
      while (inFlight < executor.capacity && !stopping()) {
        const again = resubmit.shift();
        if (again !== undefined) {
          start(again);
          continue;
        }
        if (!mayAsk()) break;
        const r = session.ask(Number.isFinite(budget.bracketLimit) ? { maxBrackets: budget.bracketLimit } : {});
        if (!('job' in r)) {
          askWaits = true;
          break;
        }
        start(r.job);
      }
      if (inFlight === 0) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    if (timer !== null) clearTimeout(timer);
    opts.stopSignal?.removeEventListener('abort', onStop);
    unsubscribe?.();
    opts.killSignal?.removeEventListener('abort', forwardKill);
  }
  await session.flush();
  if (failure !== null) {
    throw failure instanceof DehbError
      ? failure
      : new DehbError('E_EXECUTOR', `evaluation infrastructure failed: ${serializeError(failure).message}`, {
          cause: failure,
        });
  }
  const reason: StopReason =
    opts.stopSignal?.aborted === true || opts.killSignal?.aborted === true
      ? 'stopped'
      : askWaits
        ? budget.kind === 'brackets'
          ? 'brackets'
          : 'no-work'
        : 'budget';
  return { reason, told, elapsedMs: now() - started };
}
