/**
 * Owns the parse functions every boundary calls (ExecutorCore.submit, a thread's outcome, a Redis
 * job and its stored result) over the one set of schemas in ./schemas.ts, with messages naming
 * the field, and the outcomes a coordinator records for results it cannot use.
 */
import { z } from 'zod';
import { DehbError, serializeError } from '../errors.js';
import {
  commandRefSchema,
  describeIssues,
  evalOutcomeSchema,
  evalTaskSchema,
  functionRefSchema,
  moduleRefSchema,
  type EvalOutcome,
  type EvalTask,
  type WireOutcome,
} from './schemas.js';

export { evalOutcomeSchema, evalTaskSchema, type WireOutcome };

/** Reason a worker gives for a job the coordinator cancelled; a coordinator still waiting for that job re-queues it. */
export const CANCEL_REQUEST_REASON = 'cancelled by the coordinator';

const describe: (error: z.ZodError) => string = describeIssues;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * What a worker accepts from a job: data only. The command objective keeps argv and shell (what to
 * run, checked against the allow-list); `cwd`, `env` and `trialDir` are dropped (zod strips them):
 * the worker alone decides the child's environment, working directory and trial directory.
 */
const jobObjectiveSchema = z.discriminatedUnion('kind', [moduleRefSchema, commandRefSchema.omit({ cwd: true, env: true }), functionRefSchema]);

export const jobTaskSchema = evalTaskSchema.omit({ trialDir: true }).extend({ objective: jobObjectiveSchema });

/** Fields a job carried that a worker ignores (instructions it takes only from its own command line). */
export const IGNORED_JOB_FIELDS = ['objective.cwd', 'objective.env', 'trialDir'] as const;

export interface JobTask {
  task: EvalTask;
  /** Which of IGNORED_JOB_FIELDS the job carried. */
  ignored: string[];
}

/** Worker side: validates a job's data and strips what only the worker decides. */
export function parseJob(value: unknown): Parsed<JobTask> {
  const r = jobTaskSchema.safeParse(value);
  if (!r.success) return { ok: false, message: `invalid task: ${describe(r.error)}` };
  const raw = value as { trialDir?: unknown; objective?: { cwd?: unknown; env?: unknown } };
  const ignored: string[] = [];
  if (raw.objective?.cwd !== undefined) ignored.push('objective.cwd');
  if (raw.objective?.env !== undefined) ignored.push('objective.env');
  if (raw.trialDir !== undefined) ignored.push('trialDir');
  return { ok: true, value: { task: r.data as EvalTask, ignored } };
}

/** Coordinator side: the task as a job carries it (what a worker would ignore is left out). */
export function jobData(task: EvalTask): EvalTask {
  const { trialDir: _dir, ...rest } = task;
  if (rest.objective.kind !== 'command') return rest;
  const { cwd: _cwd, env: _env, ...objective } = rest.objective;
  return { ...rest, objective };
}

export function parseTask(value: unknown): Parsed<EvalTask> {
  const r = evalTaskSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: `invalid task: ${describe(r.error)}` };
}

export function parseOutcome(value: unknown): Parsed<WireOutcome> {
  const r = evalOutcomeSchema.safeParse(value);
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, message: `invalid outcome: ${describe(r.error)}` };
}

/** Parses an outcome stored as JSON text. */
export function parseOutcomeText(text: string): Parsed<WireOutcome> {
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
