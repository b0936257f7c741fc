/**
 * The format version of each journal entry kind (entries are defined in journal-schemas.ts), the
 * names of how a trial ended, and `withVersion`, which every backend applies before storing. Kept
 * apart from the schemas so a writer does not load zod: the CLI's command modules reach the
 * journal writer statically.
 */
import type { TrialStatus } from '../dehb/types.js';

/** How a trial ended: the same words in runs, studies, the CLI, exports and journals. */
export const FINISHED_STATUSES = ['ok', 'failed', 'timed-out', 'cancelled'] as const satisfies readonly TrialStatus[];

/**
 * Every status a trial shows (records, `dehb show`, `dehb trials`, the report, the Study API):
 * `queued` (asked, waiting for an evaluator), `running` (being evaluated, or handed out by
 * `study.ask()` and not told yet), then how it ended.
 */
export const TRIAL_STATUSES = ['queued', 'running', ...FINISHED_STATUSES] as const;
export type TrialStatusName = (typeof TRIAL_STATUSES)[number];

/** Whether a trial with this status has its result (not queued, not running). */
export function isFinished(status: TrialStatusName): boolean {
  return status !== 'queued' && status !== 'running';
}

/** Format version of each entry kind, written into every entry as `v`. */
export const ENTRY_VERSION = {
  created: 1,
  pushed: 1,
  /** 2: the job without its unit-cube vector (journal-schemas.ts AskedJob). */
  asked: 2,
  started: 1,
  report: 1,
  told: 1,
  budget: 1,
  finished: 1,
  snapshot: 1,
} as const satisfies Record<string, number>;

/** The kinds of journal entry (journal-schemas.ts has a schema for each, no other). */
export type EntryKind = keyof typeof ENTRY_VERSION;

/** The entry with its kind's format version (what every backend stores). */
export function withVersion<E extends { type: EntryKind; v?: number | undefined }>(entry: E): E {
  return entry.v === undefined ? { v: ENTRY_VERSION[entry.type], ...entry } : entry;
}

