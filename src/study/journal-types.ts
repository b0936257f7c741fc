/**
 * The journal of a run or study: append-only entries whose replay rebuilds the optimizer state
 * exactly (the optimizer is pure), and the two-method backend interface every storage implements.
 *
 * Versioning: every stored entry carries `v`, the version of its kind's format (ENTRY_VERSION;
 * entries written by dehb 0.1.0 have none and read as version 1). A reader refuses an entry newer
 * than it knows (upgrade dehb) and reads every older one. The optimizer's own version
 * (OPTIMIZER_VERSION) is recorded in `created` and `snapshot` entries: a journal of another
 * optimizer version resumes by re-telling its results (replay.ts), never by refusing.
 */
import type { Config, DehbState, Job, ResolvedOptimizerOptions, TrialResult } from '../dehb/types.js';
import type { ObjectiveRef, WorkerInfo } from '../protocol/executor.js';

export interface RunMeta {
  /** Run or study name; BullMQ job ids are `<runId>-<trialId>`. */
  runId: string;
  /** The objective the run evaluates, if known (studies store it). */
  objective?: ObjectiveRef;
  /** Per-trial timeout, ms. */
  trialTimeoutMs?: number | null;
  gpusPerTrial?: number;
  /** Evaluations in flight the run was started with (a resume without -n reuses it). */
  nWorkers?: number;
  /** Cluster fair-share weight the run was started with (a resume without --weight reuses it). */
  weight?: number;
  /** Content-hashed input files shipped with a study (name -> sha256 hex). */
  inputFiles?: Array<{ name: string; sha256: string; size: number }>;
  /** Free-form labels. */
  labels?: Record<string, string>;
  /** Random id of this run instance (a cluster claims the run id for it; a resume keeps it). */
  instance?: string;
}

type Budget = { fevals?: number; brackets?: number; runtimeMs?: number };

export type JournalEntry = (
  | {
      type: 'created';
      options: ResolvedOptimizerOptions;
      meta: RunMeta;
      /** OPTIMIZER_VERSION of the writer (absent in 0.1.0 journals: version 1). */
      optimizer?: number;
    }
  | { type: 'pushed'; config: Config; fidelity: number }
  | {
      type: 'asked';
      trialId: number;
      job: Job;
      /**
       * How many told and pushed entries the optimizer had applied when it asked. Replay applies
       * told/pushed entries in journal order but defers them until an ask needs them, so a leader
       * whose results arrive from other processes replays bit for bit.
       */
      applied?: { told: number; pushed: number };
    }
  | { type: 'started'; trialId: number; worker?: WorkerInfo }
  | { type: 'report'; trialId: number; step: number; value: number }
  | {
      type: 'told';
      trialId: number;
      result: TrialResult;
      worker?: WorkerInfo;
      durationMs?: number;
      /** Cluster runs: time the job waited for a worker (absent in older journals). */
      queueWaitMs?: number;
    }
  | { type: 'budget'; budget: Budget }
  | { type: 'finished'; reason: string }
  | {
      /**
       * The whole optimizer state after every entry before it (a run's session writes one every
       * SNAPSHOT_EVERY entries): re-opening reads the last snapshot and the entries after it.
       */
      type: 'snapshot';
      optimizer: number;
      state: DehbState;
      applied: { told: number; pushed: number };
      meta: RunMeta;
      /** The last budget entry before the snapshot, if any. */
      budget: Budget | null;
      /** Results per status so far (the CLI summary's counts without reading every record). */
      counts?: Record<string, number>;
    }
) & { v?: number };

/** Format version of each entry kind, written into every entry as `v`. */
export const ENTRY_VERSION: Record<JournalEntry['type'], number> = {
  created: 1,
  pushed: 1,
  asked: 1,
  started: 1,
  report: 1,
  told: 1,
  budget: 1,
  finished: 1,
  snapshot: 1,
};

/** The entry with its kind's format version (what every backend stores). */
export function withVersion<E extends JournalEntry>(entry: E): E {
  return entry.v === undefined ? { v: ENTRY_VERSION[entry.type], ...entry } : entry;
}

/** An entry as stored: a 1-based sequence number and a wall-clock time (ms since epoch). */
export type StoredEntry = JournalEntry & { seq: number; at: number };

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
  status: 'queued' | 'running' | TrialResult['status'];
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
