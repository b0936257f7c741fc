/**
 * The tiny surface a user's objective module imports (`dehb/objective`): the objective function
 * type, its result type, the context it receives, and ObjectiveError to say whether a failure is
 * worth retrying. Nothing here pulls in the rest of the package.
 */
import type { ObjectiveContext } from './protocol/executor.js';
import type { Config } from './dehb/types.js';

export type { ObjectiveContext } from './protocol/executor.js';
export type { Config } from './dehb/types.js';

/**
 * What an objective returns: a plain number (the fitness, lower is better) or an object with a
 * finite numeric `fitness`, an optional `cost` (e.g. seconds or epochs spent) and optional
 * JSON-serialisable `info` (stored with the trial).
 */
export type ObjectiveResult =
  | number
  | { fitness: number; cost?: number; info?: Record<string, unknown> };

/**
 * An objective: called with the configuration, the fidelity (in user units, e.g. epochs) and a
 * context carrying the trial id, assigned devices, an abort signal and `report(step, value)`.
 * It may be synchronous or async. Throwing (or returning NaN / no fitness) records a failed trial.
 */
export type ObjectiveFn<C extends Config = Config> = (
  config: C,
  fidelity: number,
  ctx: ObjectiveContext,
) => ObjectiveResult | Promise<ObjectiveResult>;

/**
 * Throw this from an objective to control retries. Plain errors (objective bugs) are never
 * retried; `new ObjectiveError('CUDA busy', { retryable: true })` asks the run to try again.
 * Recognised by name and shape, so it works across package copies, threads and processes.
 */
export class ObjectiveError extends Error {
  readonly retryable: boolean;
  readonly code = 'E_OBJECTIVE';
  readonly details?: Record<string, unknown>;

  constructor(
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ObjectiveError';
    this.retryable = options.retryable ?? false;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** True for an ObjectiveError from any copy of this package (checked by shape, not instanceof). */
export function isObjectiveError(err: unknown): err is ObjectiveError {
  return (
    err instanceof Error &&
    err.name === 'ObjectiveError' &&
    typeof (err as { retryable?: unknown }).retryable === 'boolean'
  );
}
