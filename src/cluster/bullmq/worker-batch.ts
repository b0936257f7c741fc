/**
 * Owns how a cluster worker runs a batch job (several trials of one run, `--trials-per-job`): each
 * trial exactly as a single job's (validation, allow-list: worker-job.ts; GPUs, timeout, trial
 * directory: worker-trial.ts), in the job's own slot plus the slots free when the job starts (one
 * lane per slot, each taking the job's next trial when its last one is done), a cancel naming one
 * trial's job id skipping or stopping that trial only. A stop (SIGTERM) starts no further trial:
 * the job completes with the outcomes it has and `handedBack` for the rest (the coordinator queues
 * those again singly); with none finished, the whole job goes back to the queue. A lost lock drops
 * them all (the job runs again elsewhere; the coordinator records only the lock holder's
 * completion).
 */
import type { Job } from '../../redis/bullmq.js';
import { trialJobId } from '../../protocol/job-ids.js';
import type { EvalTask } from '../../protocol/executor.js';
import type { BatchOutcome } from '../../protocol/wire.js';
import type { MemberResult, TrialEvaluator } from './worker-trial.js';

export interface BatchHost {
  readonly isStopping: boolean;
  readonly trials: Pick<TrialEvaluator, 'evaluate'>;
  /** A free evaluation slot taken now (false: none free). */
  tryTakeSlot(): boolean;
  releaseSlot(): void;
  handBack(job: Job, token: string): Promise<never>;
  lostLock(jobId: string): never;
}

export async function runBatch(host: BatchHost, job: Job, token: string, tasks: EvalTask[]): Promise<BatchOutcome> {
  const results: Array<MemberResult | undefined> = [];
  let next = 0;
  let lost = false;
  const lane = async (extraSlot: boolean): Promise<void> => {
    try {
      while (next < tasks.length && !host.isStopping && !lost) {
        const i = next++;
        const task = tasks[i] as EvalTask;
        const r = await host.trials.evaluate(job, trialJobId(task.runId, task.trialId), task, true);
        results[i] = r;
        if ('verdict' in r) {
          if (r.verdict === 'lost-lock') lost = true;
          return;
        }
      }
    } finally {
      if (extraSlot) host.releaseSlot();
    }
  };
  const lanes = [lane(false)];
  while (lanes.length < tasks.length && host.tryTakeSlot()) lanes.push(lane(true));
  await Promise.all(lanes);
  if (lost) host.lostLock(String(job.id));
  const out: BatchOutcome['batch'] = tasks.map((t, i) => {
    const r = results[i];
    return r !== undefined && 'outcome' in r ? { trialId: t.trialId, outcome: r.outcome } : { trialId: t.trialId, handedBack: true };
  });
  if (!out.some((o) => 'outcome' in o)) return host.handBack(job, token);
  return { batch: out };
}
