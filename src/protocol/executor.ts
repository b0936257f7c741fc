/**
 * The one seam between the run loop and evaluation: the Executor interface, what a submit
 * takes besides the task, and a task's timeoutMs from a run's recorded one. The wire types (EvalTask, EvalOutcome) are inferred from the zod
 * schemas in ./schemas.ts and re-exported here for the seam's users.
 */
import type { EvalOutcome, EvalTask } from './schemas.js';

export type { EvalOutcome, EvalTask, ObjectiveRef, WorkerInfo } from './schemas.js';

/**
 * The timeoutMs of a task from a run's recorded trialTimeoutMs: journals of older releases may
 * hold 0, which meant no limit there. (Here, not in schemas.ts: modules the CLI loads eagerly use
 * it, and they must not load zod.)
 */
export function taskTimeout(recorded: number | null | undefined): number | null {
  return recorded === undefined || recorded === null || recorded === 0 ? null : recorded;
}

/** Context an in-process or thread objective receives as its third argument. */
export interface ObjectiveContext {
  trialId: number;
  runId: string;
  fidelity: number;
  /** Devices assigned to this evaluation (threads cannot pin them; see README). */
  devices: string[];
  signal: AbortSignal;
  /** Report an intermediate value (e.g. validation loss after an epoch). */
  report(step: number, value: number): void;
  trialDir?: string;
}

export interface SubmitOptions {
  signal?: AbortSignal;
  /** Called for every intermediate value the objective reports. */
  onReport?: (step: number, value: number) => void;
  /**
   * Deliver reports while the evaluation runs (true) or all at once just before the outcome
   * (false: cheaper, e.g. no message channel per thread task). Default true.
   */
  liveReports?: boolean;
  /** Devices the caller already assigned to this evaluation: used as they are, not allocated. */
  devices?: string[];
  /** A JS objective's `task.trialDir` is made when it first reads `ctx.trialDir` and removed after it. */
  lazyTrialDir?: boolean;
}

export interface Executor {
  /** Evaluations in flight at most. */
  readonly capacity: number;
  /**
   * Resolves for everything the objective did (ok, failed, timed-out, cancelled); rejects only when
   * the infrastructure failed (pool closed, broker unreachable, payload invalid).
   */
  submit(task: EvalTask, opts?: SubmitOptions): Promise<EvalOutcome>;
  /**
   * Optional: the run has durably recorded this trial's outcome, so any copy the executor keeps
   * for a resume (e.g. a result in Redis) can go. The run loop calls it after each recorded result.
   */
  recorded?(task: EvalTask): void;
  /**
   * Optional: the run is stopping (Ctrl-C / SIGTERM) and only waits for evaluations in flight. An
   * executor whose outcomes cannot arrive soon (a cluster whose Redis is gone) resolves them as
   * cancelled, so they stay pending for a resume instead of holding the stop.
   */
  interrupt?(): void;
  /** Graceful: wait for running evaluations. force: kill them (they resolve as cancelled). */
  close(opts?: { force?: boolean }): Promise<void>;
}
