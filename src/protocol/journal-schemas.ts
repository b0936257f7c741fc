/**
 * The one definition of journal entries: a zod schema per entry kind, the TypeScript types
 * inferred from them (RunMeta, JournalEntry, StoredEntry), their format versions, and the parser
 * every journal backend (file, Redis, in-memory study storage, tails and summaries) reads stored
 * entries with. A journal is what a run or study remembers: append-only entries whose replay
 * rebuilds the optimizer state (study/replay.ts).
 *
 * The schemas are built when first used (`journalSchemas()`, see zod.ts): a writer never loads zod.
 *
 * Versioning: every stored entry carries `v`, the version of its kind's format (ENTRY_VERSION in
 * journal-versions.ts, kept free of zod for writers on the CLI's start-up path;
 * entries written by dehb 0.1.0 have none and read as version 1). A reader refuses an entry newer
 * than it knows (upgrade dehb) and reads every older one. The optimizer's own version
 * (OPTIMIZER_VERSION) is recorded in `created` and `snapshot` entries: a journal of another
 * optimizer version resumes by re-telling its results (replay.ts), never by refusing.
 *
 * Reading is forward compatible: unknown fields are kept. Nested optimizer data (options, jobs,
 * states, results: types owned by dehb/) is checked for shape here and typed as dehb/ defines it.
 * JSON turns NaN/Infinity into null: a null fitness or cost of a result is dropped (the optimizer
 * treats a missing fitness of a non-ok trial as +Infinity), a null report value reads as NaN.
 */
import type { z } from 'zod';
import type { Config, DehbState, Job, ResolvedOptimizerOptions, TrialResult } from '../dehb/types.js';
import { wireSchemas } from './schemas.js';
import { ENTRY_VERSION, FINISHED_STATUSES, type EntryKind } from './journal-versions.js';
import { lazily, type Zod } from './zod.js';

export { ENTRY_VERSION, FINISHED_STATUSES, withVersion } from './journal-versions.js';

/**
 * The format-1 and format-2 job of an `asked` entry. Format 2 (ENTRY_VERSION.asked) leaves out
 * the unit-cube `vector`: replay re-asks it and compares configurations, re-telling and readers
 * use `config`, and the report encodes `config` when it needs the cube. Format 1 entries carry it
 * (replay compares it).
 */
export type AskedJob = Omit<Job, 'vector'> & { vector?: Job['vector'] };

/** Every journal schema, made with `z` (see lazily). */
function build(z: Zod) {
  /** The shape check `schema` makes, typed as T (a type another layer owns). */
  function typed<T>(schema: z.ZodType): z.ZodType<T> {
    return schema.pipe(z.custom<T>());
  }
  const { objectiveRefSchema } = wireSchemas();

  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const config = typed<Config>(z.record(z.string(), scalar));
  const finiteOrNull = z.number().nullable();
  const trialId = z.number().int().nonnegative();
  const worker = z.looseObject({
    id: z.string().optional(),
    host: z.string().optional(),
    pid: z.number().optional(),
    devices: z.array(z.string()).optional(),
  });

  const jobFields = {
    trialId,
    configId: z.number().int(),
    bracketId: z.number().int(),
    rung: z.number().int(),
    fidelity: z.number(),
    parentId: z.number().int(),
    config,
    source: z.enum(['de', 'promotion', 'random', 'manual']),
  };
  const vector = z.array(finiteOrNull);
  const job = typed<Job>(z.looseObject({ ...jobFields, vector }));

  const askedJob = typed<AskedJob>(z.looseObject({ ...jobFields, vector: vector.optional() }));

  const result = typed<TrialResult>(
    z.looseObject({
      status: z.enum(FINISHED_STATUSES),
      fitness: finiteOrNull.optional(),
      cost: finiteOrNull.optional(),
      info: z.record(z.string(), z.unknown()).optional(),
      error: z.looseObject({ message: z.string(), name: z.string().optional(), code: z.string().optional() }).optional(),
    }),
  );

  const options = typed<ResolvedOptimizerOptions>(
    z.looseObject({
      space: z.record(z.string(), z.unknown()),
      minFidelity: z.number(),
      maxFidelity: z.number(),
      eta: z.number(),
      seed: z.number(),
    }),
  );

  /** What a run or study is: its name, objective and how it evaluates. */
  const runMetaSchema = z.looseObject({
    /** Run or study name; BullMQ job ids are `<runId>-<trialId>`. */
    runId: z.string(),
    /** The objective the run evaluates, if known (studies store it). */
    objective: objectiveRefSchema.optional(),
    /** Per-trial timeout, ms. */
    trialTimeoutMs: z.number().nullable().optional(),
    gpusPerTrial: z.number().optional(),
    /** Evaluations in flight the run was started with (a resume without -n reuses it). */
    nWorkers: z.number().optional(),
    /** Cluster fair-share weight the run was started with (a resume without --weight reuses it). */
    weight: z.number().positive().max(1000).optional(),
    /** Content-hashed input files shipped with a study. */
    inputFiles: z.array(z.object({ name: z.string(), sha256: z.string(), size: z.number() })).optional(),
    /** Free-form labels. */
    labels: z.record(z.string(), z.string()).optional(),
    /** Random id of this run instance (a cluster claims the run id for it; a resume keeps it). */
    instance: z.string().optional(),
  });

  const budget = z.object({
    fevals: z.number().optional(),
    brackets: z.number().optional(),
    runtimeMs: z.number().optional(),
  });
  const applied = z.object({ told: z.number().int().nonnegative(), pushed: z.number().int().nonnegative() });
  const v = z.number().int().positive().optional();

  const entrySchemas = {
    created: z.looseObject({
      type: z.literal('created'),
      options,
      meta: runMetaSchema,
      /** OPTIMIZER_VERSION of the writer (absent in 0.1.0 journals: version 1). */
      optimizer: z.number().int().positive().optional(),
      v,
    }),
    pushed: z.looseObject({ type: z.literal('pushed'), config, fidelity: z.number(), v }),
    asked: z.looseObject({
      type: z.literal('asked'),
      trialId,
      job: askedJob,
      /**
       * How many told and pushed entries the optimizer had applied when it asked. Replay applies
       * told/pushed entries in journal order but defers them until an ask needs them, so a leader
       * whose results arrive from other processes replays bit for bit.
       */
      applied: applied.optional(),
      /** Handed out by `study.ask()`: its caller evaluates it and tells it (optimize leaves it alone). */
      external: z.boolean().optional(),
      v,
    }),
    started: z.looseObject({ type: z.literal('started'), trialId, worker: worker.optional(), v }),
    report: z.looseObject({ type: z.literal('report'), trialId, step: z.number(), value: z.number(), v }),
    told: z.looseObject({
      type: z.literal('told'),
      trialId,
      result,
      worker: worker.optional(),
      durationMs: z.number().optional(),
      /** Cluster runs: time the job waited for a worker (absent in older journals). */
      queueWaitMs: z.number().optional(),
      /**
       * When the trial started, if its started entry was folded into this one (the trial ended
       * before that entry was written: study/journal-writer.ts); older readers ignore it.
       */
      startedAt: z.number().optional(),
      v,
    }),
    budget: z.looseObject({ type: z.literal('budget'), budget, v }),
    finished: z.looseObject({ type: z.literal('finished'), reason: z.string(), v }),
    /**
     * The whole optimizer state after every entry before it (a run's session writes one every
     * SNAPSHOT_EVERY entries): re-opening reads the last snapshot and the entries after it. A state
     * of another optimizer version is never loaded (replay.ts re-tells the results instead).
     */
    snapshot: z.looseObject({
      type: z.literal('snapshot'),
      optimizer: z.number().int().positive(),
      state: typed<DehbState>(
        z.looseObject({
          options,
          nextTrialId: z.number().int().nonnegative(),
          pending: z.record(z.string(), job),
          told: z.number().int().nonnegative(),
        }),
      ),
      applied,
      meta: runMetaSchema,
      /** The last budget entry before the snapshot, if any. */
      budget: budget.nullable(),
      /** Results per status so far (the CLI summary's counts without reading every record). */
      counts: z.record(z.string(), z.number().int().nonnegative()).optional(),
      /** Pending trials handed out by `study.ask()` (asked entries with `external`). */
      external: z.array(trialId).optional(),
      v,
    }),
  } satisfies Record<EntryKind, z.ZodType>;

  const head = { seq: z.number().int().positive(), at: z.number() };
  // a report's value may be NaN (stored as null); the stored form accepts that and reads it back as NaN
  const storedReport = entrySchemas.report.extend({ value: finiteOrNull.transform((x) => x ?? Number.NaN) });

  const storedEntrySchema = z.discriminatedUnion('type', [
    entrySchemas.created.extend(head),
    entrySchemas.pushed.extend(head),
    entrySchemas.asked.extend(head),
    entrySchemas.started.extend(head),
    storedReport.extend(head),
    entrySchemas.told.extend(head),
    entrySchemas.budget.extend(head),
    entrySchemas.finished.extend(head),
    entrySchemas.snapshot.extend(head),
  ]);
  return { runMetaSchema, entrySchemas, storedEntrySchema };
}

/** The journal schemas, built (and zod loaded) when first used: a writer never needs them. */
export const journalSchemas = lazily(build);
type Schemas = ReturnType<typeof build>;

export type RunMeta = z.infer<Schemas['runMetaSchema']>;
/** One journal entry as a writer hands it to a backend. */
export type JournalEntry = { [K in EntryKind]: z.infer<Schemas['entrySchemas'][K]> }[EntryKind];
/** An entry as stored: a 1-based sequence number and a wall-clock time (ms since epoch). */
export type StoredEntry = JournalEntry & { seq: number; at: number };

export type ParsedEntry = { ok: true; entry: StoredEntry } | { ok: false; reason: string; newer?: boolean };

/** Validates one decoded JSON value as a StoredEntry. */
export function parseStoredEntry(value: unknown): ParsedEntry {
  const r = journalSchemas().storedEntrySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') + ': ' : '';
    return { ok: false, reason: `${where}${issue?.message ?? 'invalid entry'}` };
  }
  const entry = r.data as StoredEntry;
  const known = ENTRY_VERSION[entry.type];
  if (entry.v !== undefined && entry.v > known) {
    return {
      ok: false,
      newer: true,
      reason: `a "${entry.type}" entry of format version ${entry.v}, newer than this dehb reads (${known}): upgrade dehb to open this journal`,
    };
  }
  if (entry.type === 'told') {
    const res = entry.result as TrialResult & { fitness?: number | null; cost?: number | null };
    if (res.fitness === null) delete res.fitness;
    if (res.cost === null) delete res.cost;
  }
  return { ok: true, entry };
}

/** Decodes and validates a JSON text; `reason` describes a syntax or schema problem. */
export function parseStoredLine(text: string): ParsedEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  return parseStoredEntry(value);
}
