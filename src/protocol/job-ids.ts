/**
 * Owns the job ids of trials on the queue: `<runId>-<trialId>` for a trial's first evaluation,
 * `<runId>-<trialId>.r<n>` for its n-th (a retry: cluster/bullmq/trial-job-ids.ts counts them),
 * `<runId>-<first trialId>.b<tag>` for a batch job of several trials (cluster/bullmq/batches.ts);
 * which ids belong to a run, and the Redis MATCH glob that finds them. Every producer and reader of
 * these ids goes through here.
 */

/** The job id of a trial's first evaluation, `<runId>-<trialId>`: never contains `:` and is never a bare integer (BullMQ rejects both). */
export function trialJobId(runId: string, trialId: number): string {
  return `${runId}-${trialId}`;
}

/** The job id of a trial's n-th evaluation: the first's for n <= 1, `<runId>-<trialId>.r<n>` for a retry. */
export function evaluationJobId(runId: string, trialId: number, n: number): string {
  const first = trialJobId(runId, trialId);
  return n <= 1 ? first : `${first}.r${n}`;
}

/** The id of a batch job whose first trial is `firstTrialId`; `tag` ([0-9a-z]+) tells the coordinator's batches apart. */
export function batchJobId(runId: string, firstTrialId: number, tag: string): string {
  return `${trialJobId(runId, firstTrialId)}.b${tag}`;
}

/** A Redis MATCH glob covering every job id of the run (and of runs whose id starts alike: filter with isJobOfRun). */
export function runJobIdGlob(runId: string): string {
  return `${runId}-*`;
}

/** The run a job id belongs to (a trial id is the last `-<digits>`, so the split is unambiguous), or null for anything else. */
export function runIdOfJob(jobId: string): string | null {
  const m = /^([^:]+)-\d+(?:\.r\d+|\.b[0-9a-z]+)?$/.exec(jobId);
  return m === null ? null : (m[1] as string);
}

/** True when `jobId` is one of this run's job ids, not another run's that starts alike. */
export function isJobOfRun(runId: string, jobId: string): boolean {
  // <trial>, a retry <trial>.r<n>, or a batch job <first trial>.b<tag>
  return jobId.startsWith(`${runId}-`) && /^\d+(?:\.r\d+|\.b[0-9a-z]+)?$/.test(jobId.slice(runId.length + 1));
}
