/**
 * Owns which BullMQ job id a trial's evaluation has on the coordinator: `<run>-<trial>` for its
 * first evaluation, `<run>-<trial>.r<n>` for the n-th (the format: protocol/job-ids.ts). A retry (retry-policy.ts: a failed,
 * retryable evaluation run again) needs an id of its own: under the first id the add would find
 * the finished job, and the retry would get the same failure back instead of a new run.
 */
import { evaluationJobId } from '../../protocol/job-ids.js';

export class TrialJobIds {
  /** Evaluations settled here per trial, until the run has recorded the trial. */
  private readonly settled = new Map<number, number>();

  constructor(private readonly runId: string) {}

  /** The id of the trial's next evaluation (the one a submit now adds or re-attaches to). */
  next(trialId: number): string {
    return this.idOf(trialId, (this.settled.get(trialId) ?? 0) + 1);
  }

  /** An evaluation of the trial has settled: a later submit of it is a retry. */
  settle(trialId: number): void {
    this.settled.set(trialId, (this.settled.get(trialId) ?? 0) + 1);
  }

  /** The id of the trial's last evaluation, forgetting the trial (its result is recorded). */
  recorded(trialId: number): string {
    const id = this.idOf(trialId, this.settled.get(trialId) ?? 1);
    this.settled.delete(trialId);
    return id;
  }

  private idOf(trialId: number, n: number): string {
    return evaluationJobId(this.runId, trialId, n);
  }
}
