/**
 * How a cluster worker evaluates: module objectives in a piscina thread pool (so a CPU-bound or
 * synchronous JS objective cannot block the worker's event loop, which renews BullMQ locks —
 * blocking it would make the trial look stalled and run again elsewhere), and commands through
 * runTask (one child process each). Timeouts, aborts and devices carry over unchanged. The task
 * was validated with its job (wire.ts parseJob): the pool does not validate it again.
 */
import type { EvalOutcome, EvalTask } from '../../protocol/executor.js';
import { LocalExecutor } from '../local/local-executor.js';
import { runTask, type RunTaskContext } from '../run-task.js';

export interface ThreadedEvaluator {
  evaluate(task: EvalTask, ctx: RunTaskContext): Promise<EvalOutcome>;
  /** Starts the threads now (they boot while the worker waits for jobs, not on its first trials). */
  warm(): void;
  close(): Promise<void>;
}

export function createThreadedEvaluator(threads: number): ThreadedEvaluator {
  let pool: LocalExecutor | null = null;
  return {
    warm() {
      pool ??= new LocalExecutor({ nWorkers: threads });
    },
    async evaluate(task, ctx) {
      if (task.objective.kind !== 'module') return runTask(task, ctx);
      pool ??= new LocalExecutor({ nWorkers: threads });
      const out = await pool.submitChecked(task, {
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        ...(ctx.onReport === undefined ? {} : { onReport: ctx.onReport, liveReports: true }),
        devices: ctx.devices ?? [],
        ...(ctx.lazyTrialDir === true ? { lazyTrialDir: true } : {}),
      });
      return ctx.workerInfo === undefined ? out : { ...out, worker: { ...ctx.workerInfo, ...(out.worker?.devices ? { devices: out.worker.devices } : {}) } };
    },
    async close() {
      await pool?.close({ force: true });
    },
  };
}
