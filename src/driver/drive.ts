/**
 * The one loop call of every front door: `new DEHB().run()` (and so `dehb run`) and a study's
 * lease holder (`dehb optimize`, `Study.optimize`) both drive an open RunSession through here —
 * the stated budget resolved (and journaled when it is a total), the run loop over an Executor,
 * and each trial's task built by `trialTask`, the one definition of what an evaluation is given.
 */
import { join } from 'node:path';
import type { Job } from '../dehb/types.js';
import { taskTimeout, type EvalTask, type Executor, type ObjectiveRef } from '../protocol/executor.js';
import { engineTask } from '../protocol/engine-tasks.js';
import type { RunSession } from '../study/run-session.js';
import { checkBudget, resolveBudget, type Budget } from './budget.js';
import { runLoop, type RunLoopOptions, type RunLoopSummary } from './run-loop.js';

/** What every task of a run carries besides its job. */
export interface TaskSpec {
  /** The run's name (cluster job ids are `<runId>-<trialId>`). */
  runId: string;
  objective: ObjectiveRef;
  /** The per-trial limit (the caller's override, else the journal's; 0 and null: none). */
  trialTimeoutMs: number | null | undefined;
  /** Devices per trial the executor pins. */
  gpus: number;
  /** Command trials keep their stdout/stderr and result file in `<trialsDir>/<trialId>`. */
  trialsDir?: string;
  /** What a study's workers need to know of a trial (study name, shipped files). */
  extra?: (job: Job) => EvalTask['extra'];
}

/** A trial's task: the one builder of `EvalTask`s. */
export function trialTask(job: Job, s: TaskSpec): EvalTask {
  const task: EvalTask = {
    v: 1,
    runId: s.runId,
    trialId: job.trialId,
    config: job.config,
    fidelity: job.fidelity,
    objective: s.objective,
    timeoutMs: taskTimeout(s.trialTimeoutMs),
    gpus: s.gpus,
  };
  if (s.trialsDir !== undefined && s.objective.kind === 'command') task.trialDir = join(s.trialsDir, String(job.trialId));
  const extra = s.extra?.(job);
  if (extra !== undefined) task.extra = extra;
  return engineTask(task);
}

export interface DriveOptions extends Omit<RunLoopOptions, 'budget' | 'makeTask' | 'executor'> {
  executor: Executor;
  /** `total: true` counts from the start of the run and is journaled (a resume reuses it). */
  budget: Budget;
  /** When this call started (a runtime budget counts from here). Default: now. */
  started?: number;
  task: TaskSpec;
}

/** Runs the session through the run loop until the budget is used or a stop. */
export function drive(o: DriveOptions): Promise<RunLoopSummary> {
  const { session, budget, started, task, ...loop } = o;
  const progress = { told: session.told, bracketsOpened: session.state.iterationCounter + 1 };
  const resolved = resolveBudget(budget, progress, started ?? Date.now());
  if (budget.total === true) session.recordBudget(checkBudget(budget));
  return runLoop({ ...loop, session, budget: resolved, makeTask: (job) => trialTask(job, task) });
}

