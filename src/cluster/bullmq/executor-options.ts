/**
 * Owns the cluster executor's options: what a caller may set (units and defaults in TSDoc) and
 * their resolution into the values the executor uses.
 */
import { DehbError } from '../../errors.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import type { KeyList } from '../../unknown-keys.js';
import type { RunOwner } from '../../redis/run-claim.js';
import { DEFAULT_ATTEMPTS, RETRY_BACKOFF_MS } from '../../protocol/retry-policy.js';
import { MAX_TRIALS_PER_JOB } from '../../protocol/schemas.js';

export interface ClusterExecutorOptions {
  /** Path of the scheduler file (or give `connection`). */
  schedulerFile?: string;
  connection?: ClusterConnection;
  /** Run id: job ids are `<runId>-<trialId>`. Letters, digits, `_ . -`. */
  runId: string;
  /**
   * The run instance using the id (DEHB passes its journal's): the id is claimed for it on the
   * queue, so a fresh run reusing the id of an earlier run that left jobs or results behind is
   * refused (E_USAGE) instead of taking them; a resumed run (same instance) re-attaches.
   * Without it the id is not claimed.
   */
  owner?: RunOwner;
  /** Evaluations in flight at most. Default: the scheduler file's `capacity`, else 32. */
  capacity?: number;
  /** BullMQ attempts per job for infrastructure failures (the objective's own failures are outcomes). Default 3. */
  attempts?: number;
  /** First retry delay (exponential), ms. Default 1000. */
  backoffMs?: number;
  /** How often in-flight jobs are reconciled against Redis, ms. Default 2000. */
  reconcileIntervalMs?: number;
  /** Reject in-flight submissions (E_BROKER) after Redis has been unreachable this long, ms. Default 120 000. */
  brokerTimeoutMs?: number;
  /** Limit for closing the Queue/QueueEvents (they hang while Redis is down), ms. Default 5000. */
  closeTimeoutMs?: number;
  /** Limit for the first connection, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Jobs per addBulk. Default 500. */
  maxBatch?: number;
  /** Approximate length of BullMQ's event stream (about 4 entries per trial). Default 20 000. */
  eventsMaxLen?: number;
  /** close({force:true}) removes/cancels remote jobs (true) or leaves them for a resume (false). Default true. */
  cancelOnClose?: boolean;
  /** Warn when jobs wait this long with no worker connected, ms. Default 30 000. */
  noWorkerWarnMs?: number;
  /**
   * This run's share of the workers against the other runs on the queue (default 1: equal shares,
   * whatever each run's capacity; 2: twice the share). See docs/cluster.md "Fair share".
   */
  weight?: number;
  /**
   * Trials one job carries at most: trials submitted together are packed into jobs of up to this
   * many (1 to 256), run one after another in one worker slot. `'auto'` (default) packs only when
   * trials are short against the measured per-job overhead, and never so much that fewer jobs than
   * worker slots are queued (cluster/bullmq/batches.ts; docs/cluster.md "Trials per job").
   */
  trialsPerJob?: number | 'auto';
  /** Where warnings go. Default: stderr. */
  log?: (message: string) => void;
}

/** Every key of ClusterExecutorOptions (an unknown key in code is an error with "did you mean"). */
export const CLUSTER_EXECUTOR_OPTION_KEYS: KeyList<ClusterExecutorOptions> = {
  schedulerFile: true,
  connection: true,
  runId: true,
  owner: true,
  capacity: true,
  attempts: true,
  backoffMs: true,
  reconcileIntervalMs: true,
  brokerTimeoutMs: true,
  closeTimeoutMs: true,
  connectTimeoutMs: true,
  maxBatch: true,
  eventsMaxLen: true,
  cancelOnClose: true,
  noWorkerWarnMs: true,
  weight: true,
  trialsPerJob: true,
  log: true,
};

export interface ResolvedClusterExecutorOptions {
  capacity: number;
  attempts: number;
  backoffMs: number;
  reconcileIntervalMs: number;
  brokerTimeoutMs: number;
  closeTimeoutMs: number;
  connectTimeoutMs: number;
  maxBatch: number;
  eventsMaxLen: number;
  cancelOnClose: boolean;
  noWorkerWarnMs: number;
  trialsPerJob: number | 'auto';
}

export const DEFAULT_CLUSTER_CAPACITY = 32;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new DehbError('E_CONFIG', `${name} must be an integer >= 1 (got ${value})`);
  return value;
}

export function resolveClusterExecutorOptions(o: ClusterExecutorOptions, conn: ClusterConnection): ResolvedClusterExecutorOptions {
  return {
    capacity: positiveInt('capacity', o.capacity ?? conn.capacity ?? DEFAULT_CLUSTER_CAPACITY),
    attempts: positiveInt('attempts', o.attempts ?? DEFAULT_ATTEMPTS),
    backoffMs: o.backoffMs ?? RETRY_BACKOFF_MS,
    reconcileIntervalMs: positiveInt('reconcileIntervalMs', o.reconcileIntervalMs ?? 2_000),
    brokerTimeoutMs: o.brokerTimeoutMs ?? 120_000,
    closeTimeoutMs: o.closeTimeoutMs ?? 5_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    maxBatch: positiveInt('maxBatch', o.maxBatch ?? 500),
    eventsMaxLen: positiveInt('eventsMaxLen', o.eventsMaxLen ?? 20_000),
    cancelOnClose: o.cancelOnClose ?? true,
    noWorkerWarnMs: o.noWorkerWarnMs ?? 30_000,
    trialsPerJob: checkTrialsPerJob(o.trialsPerJob),
  };
}

/** Validates trialsPerJob (the CLI's --trials-per-job, `name`): 'auto' or an integer 1..256. */
export function checkTrialsPerJob(value: unknown, name = 'trialsPerJob'): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TRIALS_PER_JOB) return value;
  throw new DehbError('E_CONFIG', `${name} must be "auto" or an integer from 1 to ${MAX_TRIALS_PER_JOB} (got ${JSON.stringify(value)}); 1 sends one job per trial`);
}

/** The BullMQ options of one trial's job (its id, fair-share priority, attempts, retention). */
export function bullJobOptions(e: { jobId: string; priority?: number | undefined }, opts: ResolvedClusterExecutorOptions): Record<string, unknown> {
  return {
    jobId: e.jobId,
    priority: e.priority, // workers take the lowest first: fair share between runs (fair-share.ts)
    attempts: opts.attempts,
    backoff: { type: 'exponential', delay: opts.backoffMs },
    // Kept on completion: the finished job holds the result (returnvalue) until the coordinator
    // has recorded it and removes it (results-store.ts); failed jobs stay until the coordinator
    // has recorded them (age as backstop).
    removeOnComplete: false,
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    keepLogs: 5, // workers that may not run a job note why in its log
  };
}
