/**
 * Owns what `dehb scheduler runs` shows: every run id that has jobs or a claim on one queue, with
 * its jobs queued, running (a worker holds the lock) and finished (kept until their coordinator
 * records them), its claim's run directory, and its coordinator's address when one is connected.
 * Job ids name their run (`<runId>-<trialId>` and its retry and batch forms, protocol/job-ids.ts:
 * the trial id is the last `-<digits>`), so the list needs no index of its own.
 */
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { closeRedis, Cluster, clusterKeys, createRedis, scanClientFor, type Redis } from './connection.js';
import { claimKey, readClaim } from './run-claim.js';
import { isJobOfRun } from '../protocol/job-ids.js';

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

const JOB_ID = /^(.+)-(\d+)(?:\.r\d+|\.b[0-9a-z]+)?$/;
const COORDINATOR = 'dehb:coordinator:';
const CHUNK = 500;

/** The name the coordinator of `runId` gives its Redis connections (cluster/bullmq/executor.ts). */
export function coordinatorClientName(runId: string): string {
  return `${COORDINATOR}${runId}`;
}

/** The runs on the queue of `conn`, by run id. */
export async function listRuns(conn: ClusterConnection): Promise<RunOnQueue[]> {
  const keys = clusterKeys(conn);
  const redis = createRedis(conn.endpoint, 'dehb:runs', { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    const base = `${keys.base}:`;
    const claimPrefix = `${claimKey(keys, '')}`;
    const jobs = new Map<string, string[]>();
    const claimed = new Set<string>();
    for (const key of await scanAll(redis, `${base}*`)) {
      if (key.startsWith(claimPrefix)) {
        claimed.add(key.slice(claimPrefix.length));
        continue;
      }
      const id = key.slice(base.length);
      const m = id.includes(':') ? null : JOB_ID.exec(id);
      if (m === null || !isJobOfRun(m[1] as string, id)) continue;
      const list = jobs.get(m[1] as string) ?? [];
      list.push(id);
      jobs.set(m[1] as string, list);
    }
    const coordinators = await connectedCoordinators(redis);
    const runs: RunOnQueue[] = [];
    for (const runId of [...new Set([...jobs.keys(), ...claimed])].sort()) {
      const ids = jobs.get(runId) ?? [];
      const r: RunOnQueue = { runId, queued: 0, running: 0, finished: 0, output: null, claimed: claimed.has(runId), coordinator: coordinators.get(runId) ?? null };
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const [locks, done] = await Promise.all([
          Promise.all(chunk.map((id) => redis.exists(keys.lock(id)))),
          Promise.all(chunk.map((id) => redis.hexists(keys.job(id), 'finishedOn'))),
        ]);
        chunk.forEach((_, k) => {
          if (locks[k] === 1) r.running++;
          else if (done[k] === 1) r.finished++;
          else r.queued++;
        });
      }
      if (r.claimed) r.output = (await readClaim(redis, keys, runId))?.output ?? null;
      runs.push(r);
    }
    return runs;
  } finally {
    await closeRedis(redis);
  }
}

/** Every key matching `pattern` (on the node that holds the queue's slot on a Redis Cluster). */
export async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const node = await scanClientFor(redis, pattern.slice(0, pattern.indexOf('*')));
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
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
