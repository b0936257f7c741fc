/**
 * Owns the parse functions every boundary calls (ExecutorCore.submit, a thread's outcome, a Redis
 * job and its stored result) over the one set of schemas in ./schemas.ts, with messages naming
 * the field, and the outcomes a coordinator records for results it cannot use.
 */
import type { z } from 'zod';
import { DehbError, serializeError } from '../errors.js';
import { describeIssues, evalOutcomeSchema, evalTaskSchema, type EvalOutcome, type EvalTask } from './schemas.js';

export { evalOutcomeSchema, evalTaskSchema };

/** Reason a worker gives for a job the coordinator cancelled; a coordinator still waiting for that job re-queues it. */
export const CANCEL_REQUEST_REASON = 'cancelled by the coordinator';

const describe: (error: z.ZodError) => string = describeIssues;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseTask(value: unknown): Parsed<EvalTask> {
  const r = evalTaskSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: `invalid task: ${describe(r.error)}` };
}

export function parseOutcome(value: unknown): Parsed<EvalOutcome> {
  const r = evalOutcomeSchema.safeParse(value);
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, message: `invalid outcome: ${describe(r.error)}` };
}

/** Parses an outcome stored as JSON text. */
export function parseOutcomeText(text: string): Parsed<EvalOutcome> {
  try {
    return parseOutcome(JSON.parse(text));
  } catch (err) {
    return { ok: false, message: `invalid outcome JSON: ${(err as Error).message}` };
  }
}

/** The outcome recorded when a worker's stored result cannot be read. */
export function invalidOutcome(jobId: string, message: string): EvalOutcome {
  return {
    status: 'failed',
    retryable: false,
    error: serializeError(new DehbError('E_EXECUTOR', `worker returned an unusable result for job ${jobId}: ${message}`)),
  };
}

/** The outcome recorded for a job BullMQ failed (attempts used up, or stalled too often). */
export function workerFailure(jobId: string, reason: string): EvalOutcome {
  const stalled = /stalled more than allowable limit/.test(reason);
  const message = stalled
    ? `job ${jobId} was abandoned by workers too many times (worker killed or cut off repeatedly; see --max-stalled-count): ${reason}`
    : `job ${jobId} failed on the cluster: ${reason}`;
  return { status: 'failed', retryable: true, error: serializeError(new DehbError('E_EXECUTOR', message)) };
}
