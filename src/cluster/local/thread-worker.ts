/**
 * Piscina worker-thread entry (never re-exported): evaluates one module-objective task with
 * runTask. Timeouts and aborts are enforced by the main thread, which terminates this thread, so
 * the task runs here without a deadline. Intermediate reports go back through a MessagePort.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import type { EvalOutcome, EvalTask } from '../executor.js';
import { runTask } from '../run-task.js';

export interface ThreadTaskMessage {
  task: EvalTask;
  devices: string[];
  /** Present when the submitter wants reports: receives {step, value}, then {done: true}. */
  reportPort?: MessagePort;
}

export async function evaluate(msg: ThreadTaskMessage): Promise<EvalOutcome> {
  const port = msg.reportPort;
  try {
    return await runTask(
      { ...msg.task, timeoutMs: null },
      {
        devices: msg.devices,
        workerInfo: { id: `thread-${threadId}` },
        ...(port === undefined ? {} : { onReport: (step: number, value: number) => port.postMessage({ step, value }) }),
      },
    );
  } finally {
    if (port !== undefined) {
      port.postMessage({ done: true });
      port.close();
    }
  }
}
