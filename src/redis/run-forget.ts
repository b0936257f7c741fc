/**
 * Owns giving up on a run id for good (`dehb scheduler forget`): what a crashed or abandoned run
 * left on its queue — the run-id claim, its jobs in every state (waiting, prioritized, delayed,
 * completed, failed) with their stored results, its batch map — found by the exact job id shape
 * (protocol/job-ids.ts), so forgetting `exp` never touches `exp-2`. Refused while the run's
 * coordinator is connected (run-list.ts: the name its connections carry). A job a
 * worker holds (its lock key exists: it is running) is left alone and reported; the claim then
 * stays too, so no fresh run can take that job's result, until a second forget finds it gone.
 */
import { Queue } from 'bullmq';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { bullConnection, closeBullConnection, closeRedis, clusterKeys, createRedis, withTimeout, type ClusterKeys, type Redis } from './connection.js';
import { CHUNK, connectedCoordinators, jobStates } from './run-list.js';
import { claimKey, readClaim, runJobIds, type RunClaim } from './run-claim.js';
import { ResultsStore } from './results-store.js';

export interface RunLeftovers {
  /** Whether the id's claim key exists, and who it names (null: none, or not a claim dehb wrote). */
  claimed: boolean;
  claim: RunClaim | null;
  /** Job ids of the run on the queue that no worker holds. */
  idle: string[];
  /** Job ids a worker holds (running). */
  running: string[];
}

/** The address of a connected coordinator of `runId`, or null. */
export async function liveCoordinator(redis: Redis, runId: string): Promise<string | null> {
  return (await connectedCoordinators(redis)).get(runId) ?? null;
}

/** What the run left on the queue: its claim and its job ids, idle or running. */
export async function runLeftovers(redis: Redis, keys: ClusterKeys, runId: string): Promise<RunLeftovers> {
  const ids = await runJobIds(redis, keys, runId);
  const states = await jobStates(redis, keys, ids);
  const claim = await readClaim(redis, keys, runId);
  return {
    claimed: claim !== null || (await redis.exists(claimKey(keys, runId))) === 1,
    claim,
    idle: ids.filter((_, k) => states[k] !== 'running'),
    running: ids.filter((_, k) => states[k] === 'running'),
  };
}

/**
 * Removes the run's idle jobs (through BullMQ, from whatever list or set holds them), its stored
 * results and batch map, and — when no job of it is running — its claim. Returns what it removed
 * and the jobs still running (removed by a later forget, once their workers let go).
 */
export async function forgetRun(redis: Redis, queue: Queue, keys: ClusterKeys, runId: string): Promise<{ removed: number; running: string[]; claimReleased: boolean }> {
  const left = await runLeftovers(redis, keys, runId);
  let removed = 0;
  const running = [...left.running];
  for (let i = 0; i < left.idle.length; i += CHUNK) {
    const chunk = left.idle.slice(i, i + CHUNK);
    const codes = await Promise.all(chunk.map((id) => queue.remove(id)));
    for (const [k, id] of chunk.entries()) {
      // 0: a worker took it since the look (locked): it is running now
      if (codes[k] === 1) removed++;
      else if ((await redis.exists(keys.job(id))) === 1) running.push(id);
    }
  }
  await new ResultsStore(redis, keys).purgeRun(runId);
  const claimReleased = running.length === 0 && (await redis.del(claimKey(keys, runId))) === 1;
  return { removed, running, claimReleased };
}

/** One run id's leftovers on one queue, with the connections to look at and remove them. */
export interface RunForgetter {
  liveCoordinator(): Promise<string | null>;
  leftovers(): Promise<RunLeftovers>;
  forget(): ReturnType<typeof forgetRun>;
  close(): Promise<void>;
}

export function openRunForgetter(conn: ClusterConnection, runId: string): RunForgetter {
  const keys = clusterKeys(conn);
  const redis = createRedis(conn.endpoint, 'dehb:forget', { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const connection = bullConnection(conn.endpoint);
  const queue = new Queue(conn.queue, { connection, prefix: conn.prefix });
  queue.on('error', () => undefined);
  return {
    liveCoordinator: () => liveCoordinator(redis, runId),
    leftovers: () => runLeftovers(redis, keys, runId),
    forget: () => forgetRun(redis, queue, keys, runId),
    async close() {
      await withTimeout(queue.close(), 1_000, () => undefined);
      await closeBullConnection(connection);
      await closeRedis(redis);
    },
  };
}
