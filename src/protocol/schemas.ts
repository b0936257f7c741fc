/**
 * The one definition of the evaluation wire types: zod schemas for the task a run hands to an
 * executor (EvalTask, versioned `v: 1`) and the outcome it gets back (EvalOutcome). The TypeScript
 * types are inferred from them, and the same schemas check every boundary: ExecutorCore.submit
 * (inline, thread and process backends), a thread's returned outcome, a Redis job and its result.
 *
 * Rules stated once here: `timeoutMs` is `null` for no limit, else a number of ms > 0 (0 is
 * refused everywhere, locally and on the cluster); unknown keys of a task or an outcome are
 * dropped, not refused (a job from a newer coordinator still runs; a result is never lost for an
 * extra key); a task of another version `v` is refused.
 * The schemas are built when first used (`wireSchemas()`, see zod.ts): importing this module does
 * not load zod.
 */
import type { z } from 'zod';
import { DehbError, type DehbErrorCode } from '../errors.js';
import { lazily, type Zod } from './zod.js';

export const TASK_VERSION = 1;

/** A run or study name: also a BullMQ job id prefix and a trial directory name, so a safe word. */
const RUN_ID_PATTERN = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,199}$/;

/** Most trials one cluster job may carry (a batch job: see wire.ts jobDataSchema). */
export const MAX_TRIALS_PER_JOB = 256;

/** Every wire schema, made with `z` (see lazily). */
function build(z: Zod) {
  const scalar = z.union([z.string(), z.number(), z.boolean()]);

  /** How a worker finds the objective. Functions only work in-process (inline backend). */
  const moduleRefSchema = z.object({ kind: z.literal('module'), path: z.string().min(1), exportName: z.string().min(1).optional() });
  const commandRefSchema = z.object({
    kind: z.literal('command'),
    argv: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
    shell: z.boolean().optional(),
  });
  const functionRefSchema = z.object({ kind: z.literal('function'), name: z.string().optional() });
  const objectiveRefSchema = z.discriminatedUnion('kind', [moduleRefSchema, commandRefSchema, functionRefSchema]);

  const evalTaskSchema = z.object({
    v: z.literal(TASK_VERSION, {
      error: (i) => `task version v=${JSON.stringify(i.input)} is not supported; this dehb speaks v=${TASK_VERSION} (run the same dehb version on coordinator and workers)`,
    }),
    runId: z.string().regex(RUN_ID_PATTERN, 'must be letters, digits, "_", "." or "-" (at most 200, not starting with "-")'),
    trialId: z.number().int().nonnegative(),
    config: z.record(z.string(), scalar),
    fidelity: z.number(),
    objective: objectiveRefSchema,
    /** Kill the evaluation after this many ms (null: no limit; 0 is refused). */
    timeoutMs: z.number().positive('must be null (no limit) or a number of ms > 0').nullable(),
    /** Devices this evaluation needs (0: none). */
    gpus: z.number().int().nonnegative(),
    /** Directory for per-trial files (stdout, stderr, result file); created by the backend. */
    trialDir: z.string().optional(),
    /** Free-form JSON the run passes to every evaluation (e.g. study name, input files). */
    extra: z.record(z.string(), z.unknown()).optional(),
  });

  /** Where an evaluation ran: worker id, host, devices, pid, and the trial directory it kept there. */
  const workerInfoSchema = z.object({
    id: z.string().optional(),
    host: z.string().optional(),
    pid: z.number().optional(),
    devices: z.array(z.string()).optional(),
    trialDir: z.string().optional(),
  });

  /** An error as plain JSON (the shape of errors.ts serializeError). */
  const serializedErrorSchema = z.object({
    name: z.string(),
    message: z.string(),
    code: z.string().optional(),
    stack: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  });

  // `reports`: every intermediate value the objective reported, in order, carried by an outcome
  // that crosses a thread or Redis. The receiver hands on those its live channel (thread port,
  // progress events) did not deliver before the outcome, so no report is lost; an Executor's
  // submit() delivers them through onReport and resolves without them. A NaN or infinite value
  // (JSON makes it null) is still a report, read back as NaN, never a reason to lose the outcome.
  const common = {
    worker: workerInfoSchema.optional(),
    /** The evaluation's own run time (queue wait excluded). */
    durationMs: z.number().optional(),
    /** Cluster: from the job being queued to its evaluation starting on a worker. */
    queueWaitMs: z.number().nonnegative().optional(),
    reports: z.array(z.tuple([z.number(), z.union([z.custom<number>((v) => typeof v === 'number'), z.null().transform(() => Number.NaN)])])).optional(),
  };

  const evalOutcomeSchema = z.discriminatedUnion('status', [
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

  /**
   * A batch job's returnvalue: per trial of the job, its outcome, or `handedBack` (the worker
   * stopped before running it: the coordinator queues it again). A job the worker refused as a
   * whole returns one EvalOutcome instead, which holds for each of its trials.
   */
  const batchOutcomeSchema = z.object({
    batch: z
      .array(z.union([z.object({ trialId: z.number().int().nonnegative(), outcome: evalOutcomeSchema }), z.object({ trialId: z.number().int().nonnegative(), handedBack: z.literal(true) })]))
      .max(MAX_TRIALS_PER_JOB),
  });
  return { moduleRefSchema, commandRefSchema, functionRefSchema, objectiveRefSchema, evalTaskSchema, workerInfoSchema, serializedErrorSchema, evalOutcomeSchema, batchOutcomeSchema };
}

/** The wire schemas, built (and zod loaded) when first used. */
export const wireSchemas = lazily(build);
type Schemas = ReturnType<typeof build>;

export type ObjectiveRef = z.infer<Schemas['objectiveRefSchema']>;
export type EvalTask = z.infer<Schemas['evalTaskSchema']>;
export type WorkerInfo = z.infer<Schemas['workerInfoSchema']>;
/** An outcome as it travels from a thread or a worker: with the reports it made. */
export type WireOutcome = z.infer<Schemas['evalOutcomeSchema']>;
export type BatchOutcome = z.infer<Schemas['batchOutcomeSchema']>;
type WithoutReports<T> = T extends unknown ? Omit<T, 'reports'> : never;
/** What Executor.submit resolves with. */
export type EvalOutcome = WithoutReports<WireOutcome>;

/** The runId rule where a user types it (new DEHB, a cluster executor): the word a task must carry. */
export function checkRunId<T extends string | undefined>(value: T, key = 'runId', code: DehbErrorCode = 'E_CONFIG'): T {
  // a good id needs no zod (the schema's own pattern); zod words what is wrong with a bad one
  if (value === undefined || (typeof value === 'string' && RUN_ID_PATTERN.test(value))) return value;
  const r = wireSchemas().evalTaskSchema.shape.runId.safeParse(value);
  if (!r.success) {
    throw new DehbError(code, `${key} ${r.error.issues[0]?.message ?? 'is invalid'} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * Run ids starting with this name a study's trials on a cluster queue (job ids
 * `study.<name>-<trialId>`, study/storage.ts studyRunId): a run may not take one, or its jobs and
 * the study's would share ids and each would take the other's results.
 */
export const STUDY_RUN_PREFIX = 'study.';

/** A run id a user gives a run (new DEHB, dehb run --run-id): the task's word, not a study's. */
export function checkRunName<T extends string | undefined>(value: T, key = 'runId', code: DehbErrorCode = 'E_CONFIG'): T {
  checkRunId(value, key, code);
  if (value !== undefined && value.startsWith(STUDY_RUN_PREFIX)) {
    const study = value.slice(STUDY_RUN_PREFIX.length);
    throw new DehbError(
      code,
      `${key} "${value}" is taken: ids starting with "${STUDY_RUN_PREFIX}" name a study's trials on a cluster; pick another name, or make it a study (dehb optimize ${study || 'NAME'}, createStudy)`,
    );
  }
  return value;
}

/** The timeoutMs rule where a user types it (new DEHB, createStudy): absent or null is no limit. */
export function checkTrialTimeout(value: unknown, key = 'trialTimeoutMs'): void {
  if (value !== undefined && !wireSchemas().evalTaskSchema.shape.timeoutMs.safeParse(value).success) {
    throw new DehbError('E_CONFIG', `${key} must be a number of ms > 0 (got ${String(value)}); leave it out for no limit`);
  }
}

/** One line per problem (at most three): `path: message`, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}: ${i.message}`)
    .join('; ');
}
