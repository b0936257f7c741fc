/**
 * The journal seam: the two-method backend interface every storage implements (memory, file,
 * Redis) and the per-trial record views are built from. The entries themselves (RunMeta,
 * JournalEntry, StoredEntry, their versions and parser) are defined once, in
 * protocol/journal-schemas.ts; their types are re-exported here for the study layer.
 */
import type { Config, Job, TrialResult } from '../dehb/types.js';
import type { WorkerInfo } from '../protocol/executor.js';
import type { JournalEntry, StoredEntry } from '../protocol/journal-schemas.js';
import type { TrialStatusName } from '../protocol/journal-versions.js';

export type { AskedJob, JournalEntry, RunMeta, StoredEntry } from '../protocol/journal-schemas.js';

export interface JournalBackend {
  /** Appends entries in order; resolves with the seq of the last one once durable. */
  append(entries: JournalEntry[]): Promise<number>;
  /** Entries with seq >= fromSeq (1-based), in order. */
  read(fromSeq?: number): Promise<StoredEntry[]>;
  close(): Promise<void>;
}

/** One record per trial, as history, `dehb show` and exports present it. */
export interface TrialRecord {
  trialId: number;
  configId: number;
  bracketId: number;
  rung: number;
  fidelity: number;
  config: Config;
  source: Job['source'];
  status: TrialStatusName;
  fitness: number | null;
  cost: number | null;
  info: Record<string, unknown>;
  error: TrialResult['error'] | null;
  worker: WorkerInfo | null;
  askedAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  /** Cluster runs: time the job waited for a worker before it ran (not part of durationMs). */
  queueWaitMs?: number;
  reports: Array<{ step: number; value: number }>;
}
