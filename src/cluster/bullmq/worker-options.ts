/**
 * The options of a cluster worker (`dehb worker`, and the in-process workers of a Redis study)
 * and the handle one returns; the runtime that uses them is worker-lifecycle.ts, started by
 * worker-runtime.ts.
 */
import type { GpuDevice } from '../../gpu/types.js';
import type { EvalOutcome, EvalTask } from '../../protocol/executor.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import type { RunTaskContext } from '../run-task.js';
import type { TrialQuota } from '../trial-quota.js';

export interface ClusterWorkerOptions {
  schedulerFile?: string;
  connection?: ClusterConnection;
  /** How long to wait for the scheduler file and for Redis to answer, ms. Default 120 000. */
  waitMs?: number;
  /** Evaluations at once. Default: GPUs / gpus-per-trial when the node has GPUs, else 1. */
  concurrency?: number;
  /**
   * Jobs taken ahead of a free slot (default 0): the next job is already here when an evaluation
   * ends, so no Redis round trip sits between two evaluations. Worth it when the coordinators keep
   * more trials in flight than all workers have slots; with fewer, a prefetched job waits here while
   * another worker idles. Prefetched jobs are handed back at once when the worker stops.
   */
  prefetch?: number;
  /** `auto`, `none` or `0,1` / UUIDs. Default `auto`. */
  gpus?: string;
  /** The pool itself (tests); overrides `gpus`. */
  gpuDevices?: GpuDevice[];
  /**
   * Devices per evaluation on this node. Default: on a node with GPUs, what the task asks but at
   * least 1 (every evaluation is pinned to its own device); without GPUs, what the task asks (a
   * task that needs GPUs then fails with E_NO_GPU). 0 runs everything without devices.
   */
  gpusPerTrial?: number;
  objective?: string;
  command?: string[];
  allow?: string[];
  /**
   * Root of the trial directories this worker creates (`<trialsDir>/<run id>/<trial id>`, names
   * sanitised; logs are kept). Default: a temporary folder of this worker, each trial's directory
   * removed once its result is stored.
   */
  trialsDir?: string;
  /** BullMQ lock TTL, ms (default 10 000; renewed every lockDuration/2). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired, ms (default 5 000). */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails (default 3). */
  maxStalledCount?: number;
  /** On stop: how long running evaluations may finish before they are handed back, ms. Default 30 000. */
  graceMs?: number;
  /**
   * Run module objectives in worker threads (default true): a synchronous or CPU-bound objective
   * then cannot block lock renewal. false: on the worker's event loop (async objectives only).
   */
  threads?: boolean;
  /**
   * At most this many results (`--max-trials`, TrialQuota): a job past it goes back to the queue
   * unrun, and the worker fetches none while the quota has no room. The caller stops the worker
   * once `quota.signal` aborts.
   */
  quota?: TrialQuota;
  /** Take only jobs of these run ids (`dehb worker --study NAME`); others are left for other workers. */
  runs?: string[];
  /**
   * Last step before a trial runs, after the allow-list and with its trial directory made (a study
   * process materialises the study's shipped input files and uses its own objective reference).
   */
  prepare?: (task: EvalTask) => Promise<EvalTask>;
  /** Evaluation function (default runTask); tests inject their own. */
  evaluate?: (task: EvalTask, ctx: RunTaskContext) => Promise<EvalOutcome>;
  /**
   * The evaluator honours `ctx.lazyTrialDir` (runTask does): a module objective's temporary trial
   * directory is then made only when it reads `ctx.trialDir`. Set by the worker for its own
   * evaluators; a custom `evaluate` gets its directories made up front.
   */
  lazyTrialDirs?: boolean;
  log?: (message: string) => void;
  id?: string;
}

export interface ClusterWorker {
  readonly id: string;
  readonly concurrency: number;
  readonly connection: ClusterConnection;
  readonly stats: { started: number; stored: number; refused: number; handedBack: number; lostLock: number; cancelled: number };
  /**
   * Stop taking jobs, let running ones finish within graceMs, hand the rest back, disconnect.
   * Calling it again with graceMs 0 cuts a grace period that is running.
   */
  stop(opts?: { graceMs?: number }): Promise<void>;
}
