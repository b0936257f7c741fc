/**
 * Owns the cluster side of a Redis study process (api/study-loop.ts): its evaluation slots (the
 * `dehb worker` runtime in process, taking only this study's jobs), the lease holder's cluster
 * executor for one term, and the default allow-list of a process serving one study (the study's
 * own objective). Both cluster modules are imported on use.
 */
import type { Executor, ObjectiveRef } from '../protocol/executor.js';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import type { ClusterWorker } from '../cluster/bullmq/worker-runtime.js';
import type { ObjectivePolicyOptions } from '../cluster/bullmq/allow-list.js';
import type { TrialQuota } from '../cluster/trial-quota.js';
import { studyRunId } from '../study/storage.js';
import type { StudyWorker } from '../study/study-worker.js';
import type { StudyRunOptions } from './study-run-options.js';

/** The lease holder's executor for one term: the cluster executor of `dehb run --cluster`, keeping `capacity` trials out. */
export async function clusterExecutor(connection: ClusterConnection, opts: StudyRunOptions, capacity: number): Promise<Executor> {
  const { createClusterExecutor } = await import('../cluster/bullmq/client.js');
  // cancelOnClose false: a term cut short leaves its jobs queued for the next lease holder
  return createClusterExecutor({ connection, runId: studyRunId(opts.study), capacity, cancelOnClose: false, ...(opts.log === undefined ? {} : { log: opts.log }) });
}

/**
 * This process's evaluation slots on a cluster study: the `dehb worker` runtime, in process,
 * taking only this study's jobs and allowing only its objective; each trial runs the study's own
 * objective reference with its shipped files in a kept trial directory.
 */
export async function clusterSlots(
  connection: ClusterConnection,
  study: StudyWorker,
  opts: StudyRunOptions & { allow: ObjectivePolicyOptions; graceMs: number },
  slots: number,
  gpusPerTrial: number,
  quota: TrialQuota,
): Promise<ClusterWorker> {
  const { startClusterWorker } = await import('../cluster/bullmq/worker-runtime.js');
  return startClusterWorker({
    connection,
    id: study.workerId,
    concurrency: slots,
    runs: [studyRunId(opts.study)],
    ...opts.allow,
    quota,
    graceMs: opts.graceMs,
    ...(gpusPerTrial === 0 ? { gpus: 'none', gpusPerTrial: 0 } : { gpus: 'auto', gpusPerTrial }),
    trialsDir: study.clusterTrialsDir(),
    // a claim TTL is the job lock: a trial of a dead process is taken over after about this long
    ...(opts.claimTtlMs === undefined ? {} : { lockDurationMs: opts.claimTtlMs, stalledIntervalMs: Math.max(250, Math.floor(opts.claimTtlMs / 2)) }),
    prepare: (task) => study.localTask(task),
    waitMs: 10_000,
    log: opts.log ?? (() => undefined),
  });
}

/** The allow-list of a process that names the study it serves: the study's own objective. */
export function ownObjective(ref: ObjectiveRef | undefined): ObjectivePolicyOptions {
  return ref?.kind === 'module' ? { objective: ref.path } : ref?.kind === 'command' ? { command: ref.argv } : {};
}
