/**
 * Owns the process backend: command objectives, one child process per evaluation (its own process
 * group), at most `capacity` at a time. With a GPU allocator, each evaluation acquires its devices
 * before the spawn, the child gets CUDA_VISIBLE_DEVICES / CUDA_DEVICE_ORDER=PCI_BUS_ID, and the
 * devices are released on every outcome. Timeouts, aborts and forced close kill the whole group.
 */
import { hostname } from 'node:os';
import { DehbError } from '../../errors.js';
import { ExecutorCore, runTaskContext, type DeviceAllocatorLike } from '../executor-core.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../protocol/executor.js';
import { runTask } from '../run-task.js';

export interface ProcessExecutorOptions {
  /** Child processes running at most. */
  capacity: number;
  /** Pins `task.gpus` devices per evaluation (e.g. src/gpu GpuAllocator). */
  gpuAllocator?: DeviceAllocatorLike;
  /** SIGTERM -> SIGKILL grace when a group is killed. Default 2000 ms. */
  killGraceMs?: number;
  /** Worker id reported in outcomes. Default `process`. */
  id?: string;
}

export class ProcessExecutor implements Executor {
  private readonly core: ExecutorCore;

  constructor(opts: ProcessExecutorOptions) {
    const workerInfo = { id: opts.id ?? 'process', host: hostname() };
    this.core = new ExecutorCore(
      'process',
      opts.capacity,
      (task, control) => runTask(task, runTaskContext(control, workerInfo, { killGraceMs: opts.killGraceMs })),
      opts.gpuAllocator,
    );
  }

  get capacity(): number {
    return this.core.capacity;
  }

  submit(task: EvalTask, opts?: SubmitOptions): Promise<EvalOutcome> {
    if (task?.objective?.kind !== 'command') {
      return Promise.reject(
        new DehbError('E_EXECUTOR', `the process executor runs command objectives only (got kind '${String(task?.objective?.kind)}')`),
      );
    }
    return this.core.submit(task, opts);
  }

  close(opts: { force?: boolean } = {}): Promise<void> {
    return this.core.close(opts.force === true);
  }
}
