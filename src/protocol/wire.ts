/**
 * Owns the parse functions every boundary calls (ExecutorCore.submit, a thread's outcome, a Redis
 * job and its stored result) over the one set of schemas in ./schemas.ts, with messages naming
 * the field, and the outcomes a coordinator records for results it cannot use.
 */
import type { z } from 'zod';
import { isEngineTask } from './engine-tasks.js';
import { DehbError, serializeError } from '../errors.js';
import { describeIssues, MAX_TRIALS_PER_JOB, TASK_VERSION, wireSchemas, type BatchOutcome, type EvalOutcome, type EvalTask, type WireOutcome } from './schemas.js';
import { lazily } from './zod.js';

export { MAX_TRIALS_PER_JOB, type BatchOutcome, type WireOutcome };

/** Reason a worker gives for a job the coordinator cancelled; a coordinator still waiting for that job re-queues it. */
export const CANCEL_REQUEST_REASON = 'cancelled by the coordinator';

const describe: (error: z.ZodError) => string = describeIssues;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** The job-side schemas over wireSchemas(), built when first used. */
const jobSchemas = lazily((z) => {
  const { commandRefSchema, evalTaskSchema, functionRefSchema, moduleRefSchema } = wireSchemas();
  /**
   * What a worker accepts from a job: data only. The command objective keeps argv and shell (what
   * to run, checked against the allow-list); `cwd`, `env` and `trialDir` are dropped (zod strips
   * them): the worker alone decides the child's environment, working directory and trial directory.
   */
  const jobObjectiveSchema = z.discriminatedUnion('kind', [moduleRefSchema, commandRefSchema.omit({ cwd: true, env: true }), functionRefSchema]);
  const jobTaskSchema = evalTaskSchema.omit({ trialDir: true }).extend({ objective: jobObjectiveSchema });
  /**
   * A batch job: several trials of ONE run in one BullMQ job (`dehb run --trials-per-job`), each a
   * job task as above. Refused whole when a task is invalid, of another run than the job's, or
   * duplicated, or when it carries more than MAX_TRIALS_PER_JOB.
   */
  const batchJobSchema = z
    .object({
      v: evalTaskSchema.shape.v,
      runId: evalTaskSchema.shape.runId,
      batch: z.array(jobTaskSchema).min(1).max(MAX_TRIALS_PER_JOB, `must carry at most ${MAX_TRIALS_PER_JOB} trials`),
    })
    .superRefine((job, ctx) => {
      const seen = new Set<number>();
      job.batch.forEach((t, i) => {
        if (t.runId !== job.runId) ctx.addIssue({ code: 'custom', path: ['batch', i, 'runId'], message: `is "${t.runId}", not the job's run "${job.runId}"` });
        if (seen.has(t.trialId)) ctx.addIssue({ code: 'custom', path: ['batch', i, 'trialId'], message: `trial ${t.trialId} is in the job twice` });
        seen.add(t.trialId);
      });
    });
  /**
   * A directory study's queued task (`queue.json`, a file any process of the machine can write):
   * the task side of a trial, checked before a worker claims it. Unknown keys are dropped (an
   * `objective` there never runs: a study's objective is the one its journal names).
   */
  const queueTaskSchema = evalTaskSchema.pick({ trialId: true, config: true, fidelity: true }).extend({ priority: z.number() });
  return { jobTaskSchema, batchJobSchema, queueTaskSchema };
});

/** Fields a job carried that a worker ignores (instructions it takes only from its own command line). */
export const IGNORED_JOB_FIELDS = ['objective.cwd', 'objective.env', 'trialDir'] as const;

export interface JobTask {
  /** The job's trials: one, or a batch's in order. */
  tasks: EvalTask[];
  /** Whether the job is a batch (its returnvalue is then a BatchOutcome). */
  batch: boolean;
  /** Which of IGNORED_JOB_FIELDS the job carried. */
  ignored: string[];
}

/** Worker side: validates a job's data (one task, or a batch of them) and strips what only the worker decides. */
export function parseJob(value: unknown): Parsed<JobTask> {
  const batch = value !== null && typeof value === 'object' && 'batch' in value;
  const { batchJobSchema, jobTaskSchema } = jobSchemas();
  const r = batch ? batchJobSchema.safeParse(value) : jobTaskSchema.safeParse(value);
  if (!r.success) return { ok: false, message: `invalid ${batch ? 'batch' : 'task'}: ${describe(r.error)}` };
  const raws = (batch ? (value as { batch: unknown[] }).batch : [value]) as Array<{ trialDir?: unknown; objective?: { cwd?: unknown; env?: unknown } }>;
  const ignored = new Set<string>();
  for (const raw of raws) {
    if (raw.objective?.cwd !== undefined) ignored.add('objective.cwd');
    if (raw.objective?.env !== undefined) ignored.add('objective.env');
    if (raw.trialDir !== undefined) ignored.add('trialDir');
  }
  const tasks = (batch ? (r.data as { batch: EvalTask[] }).batch : [r.data]) as EvalTask[];
  return { ok: true, value: { tasks, batch, ignored: [...ignored] } };
}

/** Coordinator side: a batch job's data. */
export function batchJobData(runId: string, tasks: EvalTask[]): { v: number; runId: string; batch: EvalTask[] } {
  return { v: TASK_VERSION, runId, batch: tasks };
}

/** A batch job's returnvalue, or one outcome for the whole job (a worker's refusal). */
export function parseBatchOutcome(value: unknown): Parsed<BatchOutcome | WireOutcome> {
  if (value !== null && typeof value === 'object' && 'batch' in value) {
    const r = wireSchemas().batchOutcomeSchema.safeParse(value);
    return r.success ? { ok: true, value: r.data } : { ok: false, message: `invalid batch outcome: ${describe(r.error)}` };
  }
  return parseOutcome(value);
}

/** Parses a returnvalue stored as JSON text (a batch job's when `batch`). */
export function parseStoredOutcome(text: string, batch: boolean): Parsed<BatchOutcome | WireOutcome> {
  try {
    const v: unknown = JSON.parse(text);
    return batch ? parseBatchOutcome(v) : parseOutcome(v);
  } catch (err) {
    return { ok: false, message: `invalid outcome JSON: ${(err as Error).message}` };
  }
}

/** Coordinator side: the task as a job carries it (what a worker would ignore is left out). */
export function jobData(task: EvalTask): EvalTask {
  const { trialDir: _dir, ...rest } = task;
  if (rest.objective.kind !== 'command') return rest;
  const { cwd: _cwd, env: _env, ...objective } = rest.objective;
  return { ...rest, objective };
}

export function parseTask(value: unknown): Parsed<EvalTask> {
  if (isEngineTask(value)) return { ok: true, value };
  const r = wireSchemas().evalTaskSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: `invalid task: ${describe(r.error)}` };
}

/** A directory study's queued task (see jobSchemas). */
export type QueuedTask = z.infer<ReturnType<typeof jobSchemas>['queueTaskSchema']>;

export function parseQueueTask(value: unknown): Parsed<QueuedTask> {
  const r = jobSchemas().queueTaskSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: `invalid task: ${describe(r.error)}` };
}

export function parseOutcome(value: unknown): Parsed<WireOutcome> {
  const r = wireSchemas().evalOutcomeSchema.safeParse(value);
  return r.success
    ? { ok: true, value: r.data }
    : { ok: false, message: `invalid outcome: ${describe(r.error)}` };
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
