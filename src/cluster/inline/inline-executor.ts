/**
 * Owns the inline backend: evaluations run in this process, on the coordinator's event loop.
 * It runs a JS function objective given at construction (`{kind:'function'}` tasks), module
 * objectives (imported here) and command objectives (one child each). Capacity defaults to 1;
 * a larger capacity only helps async objectives (synchronous ones block the event loop anyway).
 *
 * Timeouts are cooperative here: an async objective's ctx.signal is aborted and the evaluation
 * resolves `timed-out` at the deadline; a synchronous objective cannot be interrupted, so an
 * overrun is reported `timed-out` only when it returns. Use the local backend for hard timeouts.
 */
import { hostname } from 'node:os';
import type { ObjectiveFn } from '../../objective.js';
import { ExecutorCore, runTaskContext, type DeviceAllocatorLike } from '../executor-core.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../protocol/executor.js';
import { runTask } from '../run-task.js';

export interface InlineExecutorOptions {
  /** The function objective for `{kind:'function'}` tasks (any name matches). */
  objective?: ObjectiveFn;
  /** Evaluations in flight at most. Default 1. */
  capacity?: number;
  /** Devices for tasks with gpus > 0 (given to ctx.devices; pinned only for command objectives). */
  gpuAllocator?: DeviceAllocatorLike;
  /** SIGTERM -> SIGKILL grace for command objectives. Default 2000 ms. */
  killGraceMs?: number;
}

export class InlineExecutor implements Executor {
  private readonly core: ExecutorCore;

  constructor(opts: InlineExecutorOptions = {}) {
    const fn = opts.objective;
    const workerInfo = { id: 'inline', host: hostname(), pid: process.pid };
    this.core = new ExecutorCore(
      'inline',
      opts.capacity ?? 1,
      (task, control) => runTask(task, runTaskContext(control, workerInfo, { killGraceMs: opts.killGraceMs, allowFunction: () => fn })),
      opts.gpuAllocator,
    );
  }

  get capacity(): number {
    return this.core.capacity;
  }

  submit(task: EvalTask, opts?: SubmitOptions): Promise<EvalOutcome> {
    return this.core.submit(task, opts);
  }

  close(opts: { force?: boolean } = {}): Promise<void> {
    return this.core.close(opts.force === true);
  }
}
