/**
 * Where cluster workers' host facts live in Redis: one hash per worker,
 * `<prefix>:<queue>:worker-host:<workerId>` (field `facts`: JSON), with a TTL that the worker
 * refreshes; a worker that dies drops out when its key expires. Reads validate every entry.
 */
import type { Redis } from './connection.js';
import { describeHostFacts, hostFactsSchema, type HostFacts } from '../protocol/host-facts.js';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { closeRedis, clusterKeys, createRedis, scanKeys, withTimeout, type ClusterKeys } from './connection.js';
import type { Finding } from './probe.js';

const keyOf = (keys: Pick<ClusterKeys, 'base'>, workerId: string): string => `${keys.base}:worker-host:${workerId}`;

export async function publishHostFacts(redis: Redis, keys: Pick<ClusterKeys, 'base'>, facts: HostFacts, ttlSeconds: number): Promise<void> {
  const key = keyOf(keys, facts.workerId);
  await redis.multi().hset(key, 'facts', JSON.stringify(facts)).expire(key, ttlSeconds).exec();
}

export async function removeHostFacts(redis: Redis, keys: Pick<ClusterKeys, 'base'>, workerId: string): Promise<void> {
  await redis.del(keyOf(keys, workerId));
}

/** The facts of every live worker of the queue; entries that fail validation are counted, not returned. */
export async function readHostFacts(redis: Redis, keys: Pick<ClusterKeys, 'base'>): Promise<{ hosts: HostFacts[]; invalid: number }> {
  const found = await scanKeys(redis, keyOf(keys, ''));
  const hosts: HostFacts[] = [];
  let invalid = 0;
  for (const key of found.sort()) {
    const text = await redis.hget(key, 'facts');
    if (text === null) continue; // expired between SCAN and HGET
    let parsed;
    try {
      parsed = hostFactsSchema().safeParse(JSON.parse(text));
    } catch {
      parsed = { success: false as const };
    }
    if (parsed.success) hosts.push(parsed.data);
    else invalid++;
  }
  return { hosts, invalid };
}

/** `dehb scheduler check`'s view of the workers: one finding per live worker's host facts. */
export async function checkHostFacts(conn: ClusterConnection, timeoutMs: number): Promise<{ hosts: HostFacts[]; findings: Finding[] }> {
  const redis = createRedis(conn.endpoint, 'dehb:check-hosts');
  redis.on('error', () => undefined);
  try {
    const r = await withTimeout(readHostFacts(redis, clusterKeys(conn)), timeoutMs, () => null);
    if (r === null) throw new Error(`no answer within ${timeoutMs} ms`);
    const findings: Finding[] = r.hosts.map((f) => ({ level: 'ok', what: `worker ${f.workerId}`, message: describeHostFacts(f) }));
    if (r.hosts.length === 0) findings.push({ level: 'ok', what: 'workers', message: 'no worker has published its host facts (none running?)' });
    if (r.invalid > 0) findings.push({ level: 'warn', what: 'workers', message: `${r.invalid} worker host entr${r.invalid === 1 ? 'y is' : 'ies are'} not valid (another dehb version?)` });
    return { hosts: r.hosts, findings };
  } finally {
    await closeRedis(redis);
  }
}
