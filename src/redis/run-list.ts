/**
 * Owns what `dehb scheduler runs` shows: every run id that has jobs or a claim on one queue, with
 * its jobs queued, running (a worker holds the lock) and finished (kept until their coordinator
 * records them), its claim's run directory, and its coordinator's address when one is connected.
 * Job ids name their run (`<runId>-<trialId>` and its retry and batch forms, protocol/job-ids.ts:
 * the trial id is the last `-<digits>`), so the list needs no index of its own.
 */
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { closeRedis, Cluster, clusterKeys, createRedis, scanKeys, type ClusterKeys, type Redis } from './connection.js';
import { claimKey, readClaim } from './run-claim.js';
import { runIdOfJob } from '../protocol/job-ids.js';

export interface RunOnQueue {
  runId: string;
  queued: number;
  running: number;
  finished: number;
  /** The claim's run directory (null: claimed without one, or no claim). */
  output: string | null;
  claimed: boolean;
  /** Address of the run's connected coordinator, or null. */
  coordinator: string | null;
}

const COORDINATOR = 'dehb:coordinator:';
/** Jobs looked at per round trip. */
export const CHUNK = 500;

/** The name the coordinator of `runId` gives its Redis connections (cluster/bullmq/executor.ts). */
export function coordinatorClientName(runId: string): string {
  return `${COORDINATOR}${runId}`;
}

/** Where a job stands: a worker holds its lock (running), it has finished (kept for its coordinator), or it waits. */
export type JobState = 'queued' | 'running' | 'finished';

/** The state of each job, `CHUNK` jobs per round trip (ioredis pipelines concurrent commands). */
export async function jobStates(redis: Redis, keys: ClusterKeys, ids: readonly string[]): Promise<JobState[]> {
  const states: JobState[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const [locks, done] = await Promise.all([
      Promise.all(chunk.map((id) => redis.exists(keys.lock(id)))),
      Promise.all(chunk.map((id) => redis.hexists(keys.job(id), 'finishedOn'))),
    ]);
    for (let k = 0; k < chunk.length; k++) states.push(locks[k] === 1 ? 'running' : done[k] === 1 ? 'finished' : 'queued');
  }
  return states;
}

/** The runs on the queue of `conn`, by run id. */
export async function listRuns(conn: ClusterConnection): Promise<RunOnQueue[]> {
  const keys = clusterKeys(conn);
  const redis = createRedis(conn.endpoint, 'dehb:runs', { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    const base = `${keys.base}:`;
    const claimPrefix = claimKey(keys, '');
    const jobs = new Map<string, string[]>();
    const claimed = new Set<string>();
    for (const key of await scanKeys(redis, base)) {
      if (key.startsWith(claimPrefix)) {
        claimed.add(key.slice(claimPrefix.length));
        continue;
      }
      const id = key.slice(base.length);
      const runId = runIdOfJob(id);
      if (runId !== null) jobs.set(runId, [...(jobs.get(runId) ?? []), id]);
    }
    const coordinators = await connectedCoordinators(redis);
    const runs: RunOnQueue[] = [];
    for (const runId of [...new Set([...jobs.keys(), ...claimed])].sort()) {
      const r: RunOnQueue = { runId, queued: 0, running: 0, finished: 0, output: null, claimed: claimed.has(runId), coordinator: coordinators.get(runId) ?? null };
      for (const state of await jobStates(redis, keys, jobs.get(runId) ?? [])) r[state]++;
      if (r.claimed) r.output = (await readClaim(redis, keys, runId))?.output ?? null;
      runs.push(r);
    }
    return runs;
  } finally {
    await closeRedis(redis);
  }
}

/** Run id -> address of each connected coordinator (CLIENT LIST on every master). */
export async function connectedCoordinators(redis: Redis): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    for (const line of String(await node.call('CLIENT', 'LIST', 'TYPE', 'normal')).split('\n')) {
      const fields = new Map(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      const name = fields.get('name') ?? '';
      if (name.startsWith(COORDINATOR)) found.set(name.slice(COORDINATOR.length), fields.get('addr') ?? 'unknown address');
    }
  }
  return found;
}
