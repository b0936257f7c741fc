/**
 * The boundary check for journal entries read back from a storage (a JSON line of a file journal,
 * an element of a Redis list): a zod schema per entry type (discriminator + required fields) and
 * `parseStoredEntry`, which returns a typed StoredEntry or a short reason. Nested optimizer data
 * (options, jobs, configs) is checked for shape only; unknown fields are kept (forward compatible).
 */
import { z } from 'zod';
import { ENTRY_VERSION, type StoredEntry } from './journal-types.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const config = z.record(z.string(), scalar);
const finiteOrNull = z.number().nullable();
const worker = z.looseObject({
  id: z.string().optional(),
  host: z.string().optional(),
  pid: z.number().optional(),
  devices: z.array(z.string()).optional(),
});

const job = z.looseObject({
  trialId: z.number().int().nonnegative(),
  configId: z.number().int(),
  bracketId: z.number().int(),
  rung: z.number().int(),
  fidelity: z.number(),
  parentId: z.number().int(),
  vector: z.array(finiteOrNull),
  config,
  source: z.enum(['de', 'promotion', 'random', 'manual']),
});

const result = z.looseObject({
  status: z.enum(['ok', 'failed', 'timed-out', 'cancelled']),
  // JSON turns NaN/Infinity into null; the optimizer treats a missing fitness of a non-ok trial
  // as +Infinity, so null is accepted and normalised away below.
  fitness: finiteOrNull.optional(),
  cost: finiteOrNull.optional(),
  info: z.record(z.string(), z.unknown()).optional(),
  error: z
    .looseObject({ message: z.string(), name: z.string().optional(), code: z.string().optional() })
    .optional(),
});

const head = { seq: z.number().int().positive(), at: z.number(), v: z.number().int().positive().optional() };

const options = z.looseObject({
  space: z.record(z.string(), z.unknown()),
  minFidelity: z.number(),
  maxFidelity: z.number(),
  eta: z.number(),
  seed: z.number(),
});
const meta = z.looseObject({ runId: z.string() });
const budget = z.looseObject({
  fevals: z.number().optional(),
  brackets: z.number().optional(),
  runtimeMs: z.number().optional(),
});
const applied = z.object({ told: z.number().int().nonnegative(), pushed: z.number().int().nonnegative() });

export const storedEntrySchema = z.discriminatedUnion('type', [
  z.looseObject({
    ...head,
    type: z.literal('created'),
    options,
    meta,
    optimizer: z.number().int().positive().optional(),
  }),
  z.looseObject({ ...head, type: z.literal('pushed'), config, fidelity: z.number() }),
  z.looseObject({ ...head, type: z.literal('asked'), trialId: z.number().int().nonnegative(), job }),
  z.looseObject({
    ...head,
    type: z.literal('started'),
    trialId: z.number().int().nonnegative(),
    worker: worker.optional(),
  }),
  z.looseObject({
    ...head,
    type: z.literal('report'),
    trialId: z.number().int().nonnegative(),
    step: z.number(),
    value: finiteOrNull,
  }),
  z.looseObject({
    ...head,
    type: z.literal('told'),
    trialId: z.number().int().nonnegative(),
    result,
    worker: worker.optional(),
    durationMs: z.number().optional(),
  }),
  z.looseObject({
    ...head,
    type: z.literal('budget'),
    budget,
  }),
  z.looseObject({ ...head, type: z.literal('finished'), reason: z.string() }),
  z.looseObject({
    ...head,
    type: z.literal('snapshot'),
    optimizer: z.number().int().positive(),
    // the optimizer state is checked for shape here; a state of another optimizer version is
    // never loaded (replay.ts re-tells the results instead)
    state: z.looseObject({
      options,
      nextTrialId: z.number().int().nonnegative(),
      pending: z.record(z.string(), job),
      told: z.number().int().nonnegative(),
    }),
    applied,
    meta,
    budget: budget.nullable(),
    counts: z.record(z.string(), z.number().int().nonnegative()).optional(),
  }),
]);

export type ParsedEntry = { ok: true; entry: StoredEntry } | { ok: false; reason: string; newer?: boolean };

/** Validates one decoded JSON value as a StoredEntry. */
export function parseStoredEntry(value: unknown): ParsedEntry {
  const r = storedEntrySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') + ': ' : '';
    return { ok: false, reason: `${where}${issue?.message ?? 'invalid entry'}` };
  }
  const entry = r.data as unknown as StoredEntry;
  const known = ENTRY_VERSION[entry.type];
  if (entry.v !== undefined && entry.v > known) {
    return {
      ok: false,
      newer: true,
      reason: `a "${entry.type}" entry of format version ${entry.v}, newer than this dehb reads (${known}): upgrade dehb to open this journal`,
    };
  }
  if (entry.type === 'told') {
    if (entry.result.fitness === null) delete entry.result.fitness;
    if (entry.result.cost === null) delete entry.result.cost;
  }
  if (entry.type === 'report' && entry.value === null) entry.value = Number.NaN;
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
