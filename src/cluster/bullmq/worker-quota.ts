/**
 * Owns how a cluster worker keeps to its `--max-trials` quota (cluster/trial-quota.ts, the rule
 * itself): a place taken before each trial and settled once the trial ends (worker-trial.ts), and
 * the BullMQ worker paused while the quota has no room (it would only hand the jobs it fetches
 * back), resumed when a trial that ended without a result gives room again. Without a quota every
 * call is a no-op.
 */
import type { Worker } from '../../redis/bullmq.js';
import type { TrialQuota } from '../trial-quota.js';

export class QuotaGate {
  private worker: Worker | undefined;

  constructor(
    private readonly quota: TrialQuota | undefined,
    private readonly host: { readonly isStopping: boolean },
    private readonly noteError: (err: unknown) => void,
  ) {}

  /** The BullMQ worker to pause and resume (made when the runtime starts). */
  attach(worker: Worker): void {
    this.worker = worker;
  }

  /** Takes a place for a trial about to start; false: the trial goes back to the queue unrun. */
  take(): boolean {
    const quota = this.quota;
    if (quota === undefined) return true;
    const ok = quota.take();
    this.gate();
    return ok;
  }

  /** A trial taken with `take` ended, with a result or without one. */
  settle(result: boolean): void {
    this.quota?.settle(result);
    this.gate();
  }

  /** With no room left in the quota the worker fetches no job (it would only hand it back); room again (a trial ended without a result), it fetches again. */
  private gate(): void {
    const quota = this.quota;
    const worker = this.worker;
    if (quota === undefined || worker === undefined || this.host.isStopping) return;
    if (quota.room === 0 && !worker.isPaused()) void worker.pause(true).catch((err: unknown) => this.noteError(err));
    else if (quota.room > 0 && worker.isPaused()) void worker.resume().catch((err: unknown) => this.noteError(err));
  }
}
