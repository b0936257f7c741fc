/**
 * Owns the shapes of one study process's run (api/study-loop.ts `runStudy`): what it is asked
 * to do (`StudyRunOptions`), what it reports (`StudyRunSummary`) and the default lease TTL.
 * study-loop.ts re-exports them; the study-*.ts modules it is cut into import them from here.
 */
import type { Executor } from '../protocol/executor.js';
import type { ObjectivePolicyOptions } from '../cluster/bullmq/allow-list.js';
import type { JournalEntry } from '../study/journal-types.js';
import type { StudyStorage } from '../study/storage.js';
import type { Budget } from '../driver/budget.js';

export interface StudyRunOptions {
  storage: StudyStorage;
  study: string;
  mode: 'optimize' | 'worker';
  /** optimize: exactly one budget, a total over the study (runtime is this invocation's). */
  budget?: Budget;
  /** Evaluations this process runs at once. Default 1. */
  nWorkers?: number;
  /** Pin each trial to the least-loaded GPU of this node (as `dehb run --single-node-with-gpus`). */
  singleNodeWithGpus?: boolean;
  /** GPUs per trial when pinned. Default 1. */
  gpusPerTrial?: number;
  /** Kill a trial after this many ms (default: the study's own `trialTimeoutMs`). */
  trialTimeoutMs?: number;
  /** optimize: evaluate on this executor (a cluster's); this process then evaluates nothing. */
  executor?: Executor;
  acceptStudyFiles?: boolean;
  trialsDir?: string;
  workerId?: string;
  /** A dead process's trial goes to another after about this long (Redis: the job lock). Default 30 s (Redis: 10 s). */
  claimTtlMs?: number;
  /** Default 10 s. */
  leaseTtlMs?: number;
  /** Unclaimed trials kept queued for other processes. Default max(2, nWorkers); 0 asks exactly as `dehb run`. */
  queueAhead?: number;
  /** worker mode: exit after this long without work. Default: never. */
  idleExitMs?: number;
  /** worker mode: exit after this many results of this process's slots (TrialQuota: never more). */
  maxTrials?: number;
  /**
   * What this process's slots may run (`dehb worker --allow/--objective/--command`): the study's
   * objective must be allowed, or the process refuses the study before it takes a trial. Default:
   * the study's own objective.
   */
  allow?: Pick<ObjectivePolicyOptions, 'objective' | 'command' | 'allow'>;
  /** Graceful stop: claim nothing more; running trials get `graceMs` to finish, then go back to the queue. */
  signal?: AbortSignal;
  /** On a graceful stop: how long running trials may finish before they are handed back. Default 30 s (as `dehb worker --grace-ms`). */
  graceMs?: number;
  /** Forced stop: cancel running trials (they go back to the queue). */
  killSignal?: AbortSignal;
  log?: (msg: string) => void;
  onTold?: (entry: Extract<JournalEntry, { type: 'told' }>) => void;
}

export interface StudyRunSummary {
  reason: 'budget' | 'no-work' | 'stopped' | 'idle' | 'max-trials';
  /** optimize: results its lease terms journaled; worker: trials its slots evaluated. */
  toldHere: number;
  /** Told trials in the study when this process stopped. */
  toldTotal: number;
  /** Whether this process held the lease at some point. */
  led: boolean;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;
