/**
 * Piscina worker-thread entry (never re-exported): evaluates one module-objective task with
 * runTask. Timeouts and aborts are enforced by the main thread, which terminates this thread, so
 * the task runs here without a deadline. Intermediate reports go back through a MessagePort, or
 * (cheaper) buffered and returned with the outcome.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import type { EvalTask } from '../../protocol/executor.js';
import type { WireOutcome } from '../../protocol/schemas.js';
import { runTask } from '../run-task.js';

export interface ThreadTaskMessage {
  task: EvalTask;
  devices: string[];
  /** Present when the submitter wants reports: receives {step, value}, then {done: true}. */
  reportPort?: MessagePort;
  /** Collect reports and return them with the outcome (instead of a port). */
  bufferReports?: boolean;
  /** task.trialDir is made on the objective's first read of ctx.trialDir (run-task.ts). */
  lazyTrialDir?: boolean;
}

export type ThreadTaskResult = WireOutcome;

export async function evaluate(msg: ThreadTaskMessage): Promise<ThreadTaskResult> {
  const port = msg.reportPort;
  const buffer: Array<[number, number]> | undefined = msg.bufferReports === true ? [] : undefined;
  const onReport =
    port !== undefined
      ? (step: number, value: number) => port.postMessage({ step, value })
      : buffer !== undefined
        ? (step: number, value: number) => void buffer.push([step, value])
        : undefined;
  try {
    const outcome: ThreadTaskResult = await runTask(
      { ...msg.task, timeoutMs: null },
      {
        devices: msg.devices,
        workerInfo: { id: `thread-${threadId}` },
        ...(msg.lazyTrialDir === true ? { lazyTrialDir: true } : {}),
        ...(onReport === undefined ? {} : { onReport }),
      },
    );
    if (buffer !== undefined && buffer.length > 0) outcome.reports = buffer;
    return outcome;
  } finally {
    if (port !== undefined) {
      port.postMessage({ done: true });
      port.close();
    }
  }
}
