/**
 * The journal of a run or study: append-only entries whose replay rebuilds the optimizer state
 * exactly (the optimizer is pure), and the two-method backend interface every storage implements.
 */
import type { Config, Job, ResolvedOptimizerOptions, TrialResult } from '../dehb/types.js';
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
  /** Content-hashed input files shipped with a study (name -> sha256 hex). */
  inputFiles?: Array<{ name: string; sha256: string; size: number }>;
  /** Free-form labels. */
  labels?: Record<string, string>;
  /** Random id of this run instance (a cluster claims the run id for it; a resume keeps it). */
  instance?: string;
}

export type JournalEntry =
  | { type: 'created'; options: ResolvedOptimizerOptions; meta: RunMeta }
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
    }
  | { type: 'budget'; budget: { fevals?: number; brackets?: number; runtimeMs?: number } }
  | { type: 'finished'; reason: string };

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
  reports: Array<{ step: number; value: number }>;
}
