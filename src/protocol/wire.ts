/**
 * Owns validation of what crosses Redis: the EvalTask a coordinator puts in a job and the
 * EvalOutcome a worker writes back (zod at the boundary, messages naming the field).
 */
import { z } from 'zod';
import { DehbError, serializeError } from '../errors.js';
import type { EvalOutcome, EvalTask } from './executor.js';

/** Reason a worker gives for a job the coordinator cancelled; a coordinator still waiting for that job re-queues it. */
export const CANCEL_REQUEST_REASON = 'cancelled by the coordinator';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const objectiveSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('module'), path: z.string().min(1), exportName: z.string().min(1).optional() }),
  z.object({
    kind: z.literal('command'),
    argv: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    shell: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('function'), name: z.string().optional() }),
]);

export const evalTaskSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  trialId: z.number().int().nonnegative(),
  config: z.record(z.string(), scalar),
  fidelity: z.number(),
  objective: objectiveSchema,
  timeoutMs: z.number().positive().nullable(),
  gpus: z.number().int().nonnegative(),
  trialDir: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

const workerInfoSchema = z
  .object({
    id: z.string().optional(),
    host: z.string().optional(),
    pid: z.number().optional(),
    devices: z.array(z.string()).optional(),
  })
  .optional();

const serializedErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  code: z.string().optional(),
  stack: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

// `reports`: every intermediate value the objective reported, in order. The coordinator hands on
// those its progress events did not deliver before the outcome (a result read from the results
// hash can overtake the events stream), so no report is lost.
const common = {
  worker: workerInfoSchema,
  durationMs: z.number().optional(),
  queueWaitMs: z.number().nonnegative().optional(),
  reports: z.array(z.tuple([z.number(), z.number()])).optional(),
};

/** An outcome as it travels from a worker: with the reports it sent as progress events. */
export type WireOutcome = EvalOutcome & { reports?: Array<[number, number]> };

export const evalOutcomeSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('ok'),
    fitness: z.number(),
    cost: z.number().optional(),
    info: z.record(z.string(), z.unknown()).optional(),
    ...common,
  }),
  z.object({ status: z.literal('failed'), error: serializedErrorSchema, retryable: z.boolean(), ...common }),
  z.object({ status: z.literal('timed-out'), timeoutMs: z.number(), ...common }),
  z.object({ status: z.literal('cancelled'), reason: z.string().optional(), ...common }),
]);

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}: ${i.message}`)
    .join('; ');
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * What a worker accepts from a job: data only. The command objective keeps argv and shell (what to
 * run, checked against the allow-list); `cwd`, `env` and `trialDir` are dropped (zod strips them):
 * the worker alone decides the child's environment, working directory and trial directory.
 */
const jobObjectiveSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('module'), path: z.string().min(1), exportName: z.string().min(1).optional() }),
  z.object({ kind: z.literal('command'), argv: z.array(z.string()).min(1), shell: z.boolean().optional() }),
  z.object({ kind: z.literal('function'), name: z.string().optional() }),
]);

export const jobTaskSchema = evalTaskSchema.omit({ trialDir: true }).extend({
  runId: z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,199}$/, 'must be letters, digits, "_", "." or "-"'),
  objective: jobObjectiveSchema,
});

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
  return r.success ? { ok: true, value: r.data as EvalTask } : { ok: false, message: `invalid task: ${describe(r.error)}` };
}

export function parseOutcome(value: unknown): Parsed<EvalOutcome> {
  const r = evalOutcomeSchema.safeParse(value);
  return r.success
    ? { ok: true, value: r.data as EvalOutcome }
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
