/**
 * The one seam between the run loop and evaluation: the Executor interface and the versioned
 * plain-JSON wire types (EvalTask, EvalOutcome) that cross postMessage, a child's stdin and Redis.
 */
import type { SerializedError } from '../errors.js';
import type { Config } from '../dehb/types.js';

/** How a worker finds the objective. Functions only work in-process (inline backend). */
export type ObjectiveRef =
  | { kind: 'module'; path: string; exportName?: string }
  | { kind: 'command'; argv: string[]; cwd?: string; env?: Record<string, string>; shell?: boolean }
  | { kind: 'function'; name?: string };

export interface EvalTask {
  v: 1;
  runId: string;
  trialId: number;
  config: Config;
  fidelity: number;
  objective: ObjectiveRef;
  /** Kill the evaluation after this many ms (null: no limit). */
  timeoutMs: number | null;
  /** Devices this evaluation needs (0: none). */
  gpus: number;
  /** Directory for per-trial files (stdout, stderr, result file); created by the backend. */
  trialDir?: string;
  /** Free-form JSON the run passes to every evaluation (e.g. study name, input files). */
  extra?: Record<string, unknown>;
}

export type EvalOutcome =
  | {
      status: 'ok';
      fitness: number;
      cost?: number;
      info?: Record<string, unknown>;
      /** Where it ran: worker id, host, devices, pid. */
      worker?: WorkerInfo;
      /** The evaluation's own run time (queue wait excluded). */
      durationMs?: number;
      /** Cluster: from the job being queued to its evaluation starting on a worker. */
      queueWaitMs?: number;
    }
  | {
      status: 'failed';
      error: SerializedError;
      retryable: boolean;
      worker?: WorkerInfo;
      durationMs?: number;
      queueWaitMs?: number;
    }
  | { status: 'timed-out'; timeoutMs: number; worker?: WorkerInfo; durationMs?: number; queueWaitMs?: number }
  | { status: 'cancelled'; reason?: string; worker?: WorkerInfo; durationMs?: number; queueWaitMs?: number };

export interface WorkerInfo {
  id?: string;
  host?: string;
  pid?: number;
  devices?: string[];
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
