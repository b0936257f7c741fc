/**
 * Owns this process's evaluation slots on a study's local queue (a directory, or the in-memory
 * storage; api/study-loop.ts): claim a queued trial while a slot is free and the --max-trials
 * quota (TrialQuota) has room, evaluate it through StudyWorker, leave its outcome in the queue
 * and settle the quota. Idle slots wait on the Waker: at once when a trial was queued or a slot
 * freed, else polling from 20 ms backing off to 250 ms.
 */
import { toTrialResult } from '../protocol/trial-result.js';
import type { TrialQuota } from '../cluster/trial-quota.js';
import type { ClaimedTask } from '../study/storage.js';
import type { StudyWorker } from '../study/study-worker.js';
import type { StudyRunOptions } from './study-run-options.js';
import type { Waker } from './study-waker.js';

export interface ClaimLoopContext {
  opts: StudyRunOptions;
  worker: StudyWorker;
  slots: number;
  /** This process's running trials by id: the loop adds each claimed one, its end removes it. */
  running: Map<number, Promise<void>>;
  quota: TrialQuota;
  waker: Waker;
  /** False once the study process stops (its loops ended, or a stop signal). */
  active: () => boolean;
  /** Cancels running trials (they go back to the queue): a forced stop, or the grace period over. */
  kill: AbortSignal;
  /** An outcome was left in the queue (a lease holder in this process reads it now). */
  onOutcome: () => void;
}

/** This process's slots on a local queue: claim, evaluate, leave the outcome. */
export async function claimLoop(ctx: ClaimLoopContext): Promise<void> {
  const { running, slots, quota } = ctx;
  let backoff = 20;
  while (ctx.active()) {
    let claimed = false;
    while (running.size < slots && ctx.active() && quota.take()) {
      const task = await ctx.worker.claim().catch((err: unknown) => {
        quota.settle(false);
        throw err;
      });
      if (task === null) {
        quota.settle(false);
        break;
      }
      claimed = true;
      running.set(task.trialId, evaluate(ctx, task));
    }
    // a trial queued by this process wakes the loop at once; polls only find other processes' work
    backoff = claimed ? 20 : Math.min(250, backoff * 1.5);
    // every slot busy: wait for one to finish; otherwise look again soon
    await ctx.waker.wait(running.size >= slots ? 60_000 : backoff, ctx.opts.signal);
  }
}

function evaluate(ctx: ClaimLoopContext, task: ClaimedTask): Promise<void> {
  const { opts, quota } = ctx;
  return ctx.worker
    .run(task, ctx.kill, opts.signal)
    .then(
      (outcome) => {
        quota.settle(outcome !== null);
        if (outcome === null) return;
        ctx.onOutcome();
        if (opts.mode === 'worker') opts.onTold?.({ type: 'told', trialId: task.trialId, result: toTrialResult(outcome), ...(outcome.worker === undefined ? {} : { worker: outcome.worker }) });
      },
      (err: unknown) => {
        quota.settle(false);
        opts.log?.(`trial ${task.trialId}: ${(err as Error).message}`);
      },
    )
    .finally(() => {
      ctx.running.delete(task.trialId);
      ctx.waker.wake();
    });
}
