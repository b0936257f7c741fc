/**
 * A controllable in-process Executor for driver tests: evaluates a function after an optional
 * delay, records concurrency, and can be told to fail the infrastructure for a trial.
 */
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../src/protocol/executor.js';

export class FakeExecutor implements Executor {
  inFlight = 0;
  maxInFlight = 0;
  submitted: number[] = [];
  closed = false;

  constructor(
    readonly capacity: number,
    private readonly evaluate: (task: EvalTask) => number | EvalOutcome | Promise<number | EvalOutcome>,
    private readonly delayMs: (task: EvalTask) => number = () => 0,
  ) {}

  async submit(task: EvalTask, opts: SubmitOptions = {}): Promise<EvalOutcome> {
    if (this.closed) throw new Error('executor closed');
    this.submitted.push(task.trialId);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const delay = this.delayMs(task);
      if (delay > 0) {
        await new Promise<void>((resolve) => {
          const onAbort = (): void => {
            clearTimeout(t);
            resolve();
          };
          const t = setTimeout(() => {
            opts.signal?.removeEventListener('abort', onAbort);
            resolve();
          }, delay);
          opts.signal?.addEventListener('abort', onAbort, { once: true });
        });
      }
      if (opts.signal?.aborted) return { status: 'cancelled', reason: 'killed' };
      const v = await this.evaluate(task);
      return typeof v === 'number' ? { status: 'ok', fitness: v, cost: task.fidelity } : v;
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
