/**
 * Owns what a cluster worker does with one job once it holds a slot: validate the job's data with
 * the wire schema (instructions it carries are dropped, said once per field), refuse the job when
 * this worker may not run its trials (another run's, shipped input files it cannot fetch, an
 * objective outside the allow-list: it goes back to the queue for workers that may), then
 * evaluate it: a batch job's trials through worker-batch.ts, a single job's one trial through
 * worker-trial.ts, whose outcome is the job's returnvalue (a lost lock or a hand-back throws the
 * error BullMQ expects instead).
 */
import type { Job } from '../../redis/bullmq.js';
import type { EvalTask, WorkerInfo } from '../../protocol/executor.js';
import { parseJob } from '../../protocol/wire.js';
import type { ObjectivePolicy } from './allow-list.js';
import { refusal } from './job-verdicts.js';
import { runBatch, type BatchHost } from './worker-batch.js';
import type { ClusterWorkerOptions } from './worker-options.js';

export interface JobHost extends BatchHost {
  readonly info: WorkerInfo;
  readonly options: Pick<ClusterWorkerOptions, 'runs' | 'prepare'>;
  readonly policy: ObjectivePolicy;
  /** Says once per field that a job's instruction was ignored. */
  noteIgnored(jobId: string, fields: string[]): void;
  /** Sends a job this worker may not run back to the queue for other workers; never returns. */
  leave(job: Job, token: string, why: string): Promise<never>;
}

export async function runJob(host: JobHost, job: Job, jobId: string, token: string): Promise<unknown> {
  const parsed = parseJob(job.data);
  if (!parsed.ok) return refusal('E_EXECUTOR', `job ${jobId} carries ${parsed.message}`, host.info);
  const { tasks, batch, ignored } = parsed.value;
  if (ignored.length > 0) host.noteIgnored(jobId, ignored);
  const why = await leaveReason(host, tasks);
  if (why !== null) return await host.leave(job, token, why);
  if (batch) return await runBatch(host, job, token, tasks);
  const r = await host.trials.evaluate(job, jobId, tasks[0] as EvalTask, false);
  if ('outcome' in r) return r.outcome;
  if (r.verdict === 'lost-lock') return host.lostLock(jobId);
  return host.handBack(job, token);
}

/** Why this worker may not run these trials (null: it may): the job then goes to workers that may. */
async function leaveReason(host: JobHost, tasks: EvalTask[]): Promise<string | null> {
  const { runs, prepare } = host.options;
  const checked = new Set<string>();
  for (const data of tasks) {
    if (runs !== undefined && !runs.includes(data.runId)) return `this worker only takes jobs of run(s) ${runs.join(', ')}`;
    if (data.extra?.inputFiles === true && prepare === undefined) {
      return `the trial needs its study's shipped input files, which only a worker of the study fetches (dehb worker --study ${String(data.extra.study)} --storage URL --accept-study-files)`;
    }
    const ref = JSON.stringify(data.objective);
    if (checked.has(ref)) continue;
    checked.add(ref);
    const why = await host.policy.check(data.objective);
    if (why !== null) return why;
  }
  return null;
}
