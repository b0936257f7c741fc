/**
 * Owns the mark on tasks the engine built itself (driver/drive.ts trialTask) from parts that were
 * checked where the user gave them (run id, objective, timeout, GPUs) and from the optimizer's own
 * jobs: valid by construction, so wire.ts parseTask takes them as they are instead of running the
 * schema on every trial (a tenth of a journaled run's CPU). Anything else (a task from a caller
 * of the Executor API, a job from Redis, a copy of a marked task) is parsed. A WeakSet: it keeps
 * no task alive, and only this module reads or writes it. No zod here: the CLI's start-up loads
 * trialTask's module, and zod stays out of `dehb --help`.
 */
import type { EvalTask } from './executor.js';

const engineMade = new WeakSet<object>();

/** Marks a task the engine built, once it is complete; returns it. */
export function engineTask(task: EvalTask): EvalTask {
  engineMade.add(task);
  return task;
}

/** Whether `value` is a task object engineTask marked (the very object, not a copy). */
export function isEngineTask(value: unknown): value is EvalTask {
  return typeof value === 'object' && value !== null && engineMade.has(value);
}
