/**
 * Owns one-shot inspection of a Redis server: connect once (no retries) with a deadline, read
 * version, eviction policy, persistence and memory, and whether it is a Redis Cluster node (then
 * also the cluster's state, slot coverage and nodes; a cluster endpoint tries its seed nodes in
 * turn), and turn that into the findings
 * `dehb scheduler check` prints (errors vs warnings) and the executor/worker warn about.
 */
import { Redis } from 'ioredis';
import { DehbError } from '../errors.js';
import type { RedisEndpoint } from '../protocol/redis-url.js';
import { clusterNodes, describeRedisError, redisOptions, withTimeout } from './connection.js';
import { hashTaggedPrefix } from './cluster-mode.js';
import { isPermanentRedisError } from './tls-errors.js';

/** A Redis Cluster as one of its nodes sees it (`CLUSTER INFO`, `CLUSTER NODES`). */
export interface ClusterFacts {
  state: string;
  slotsAssigned: number;
  slotsOk: number;
  knownNodes: number;
  /** Masters serving slots: address, slot count, replicas' addresses. */
  masters: Array<{ address: string; slots: number; replicas: string[] }>;
}

export interface RedisFacts {
  version: string;
  maxmemoryPolicy: string | null;
  aofEnabled: boolean | null;
  usedMemory: number | null;
  mode: string | null;
  /** `cluster_enabled:1`: a Redis Cluster node. */
  clusterEnabled: boolean;
  cluster?: ClusterFacts;
  /** The node said cluster mode but CLUSTER INFO/NODES failed: its answer. */
  clusterError?: string;
}

/** Parses `CLUSTER NODES` into masters with slots and their replicas (failed nodes left out). */
export function parseClusterNodes(text: string): ClusterFacts['masters'] {
  type Line = { id: string; address: string; master: boolean; masterId: string; slots: number; failed: boolean };
  const lines: Line[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const f = raw.trim().split(' ');
    if (f.length < 8) continue;
    const flags = f[2] ?? '';
    let slots = 0;
    for (const r of f.slice(8)) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r);
      if (m !== null) slots += (m[2] === undefined ? 0 : Number(m[2]) - Number(m[1])) + 1;
    }
    lines.push({ id: f[0] as string, address: (f[1] ?? '').split('@')[0] as string, master: flags.includes('master'), masterId: f[3] as string, slots, failed: /fail\b|noaddr/.test(flags) && !flags.includes('fail?') });
  }
  return lines
    .filter((l) => l.master && l.slots > 0 && !l.failed)
    .map((m) => ({ address: m.address, slots: m.slots, replicas: lines.filter((l) => !l.master && !l.failed && l.masterId === m.id).map((l) => l.address) }))
    .sort((a, b) => a.address.localeCompare(b.address));
}

export interface Finding {
  level: 'ok' | 'warn' | 'error';
  what: string;
  message: string;
}

/** `redis[s]://host:port/db` of an endpoint, for messages (no password). */
export function where(ep: RedisEndpoint): string {
  const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
  return `${ep.tls !== undefined ? 'rediss' : 'redis'}://${host}:${ep.port}/${ep.db}`;
}

/** Parses `INFO` text into a flat map. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/**
 * Connects once and reads the server's facts. Throws DehbError E_BROKER saying exactly what failed
 * (refused, credentials, DNS, timeout).
 */
export async function probeRedis(ep: RedisEndpoint, opts: { timeoutMs?: number } = {}): Promise<RedisFacts> {
  const nodes = clusterNodes(ep);
  if (nodes === null || nodes.length === 1) return probeNode(nodes === null ? ep : { ...ep, ...(nodes[0] as { host: string; port: number }) }, opts);
  let first: unknown = null;
  for (const node of nodes) {
    try {
      return await probeNode({ ...ep, host: node.host, port: node.port }, opts);
    } catch (err) {
      first ??= err;
      // a wrong password or TLS set-up is wrong on every node
      if (isPermanentRedisError(err)) throw err;
    }
  }
  throw first;
}

async function probeNode(ep: RedisEndpoint, opts: { timeoutMs?: number }): Promise<RedisFacts> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const client = new Redis(
    redisOptions(ep, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: timeoutMs,
      connectionName: 'dehb:probe',
    }),
  );
  let lastError: unknown = null;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  try {
    const run = async (): Promise<RedisFacts> => {
      await client.connect();
      const info = parseInfo(await client.info());
      let policy = info.get('maxmemory_policy') ?? null;
      if (policy === null) {
        const cfg = (await client.config('GET', 'maxmemory-policy').catch(() => null)) as string[] | null;
        policy = cfg !== null && cfg.length >= 2 ? String(cfg[1]) : null;
      }
      const aof = info.get('aof_enabled');
      const used = info.get('used_memory');
      const facts: RedisFacts = {
        version: info.get('redis_version') ?? '0.0.0',
        maxmemoryPolicy: policy,
        aofEnabled: aof === undefined ? null : aof === '1',
        usedMemory: used === undefined ? null : Number(used),
        mode: info.get('redis_mode') ?? null,
        clusterEnabled: info.get('cluster_enabled') === '1' || info.get('redis_mode') === 'cluster',
      };
      if (facts.clusterEnabled) {
        try {
          const ci = parseInfo(String(await client.call('CLUSTER', 'INFO')));
          facts.cluster = {
            state: ci.get('cluster_state') ?? 'unknown',
            slotsAssigned: Number(ci.get('cluster_slots_assigned') ?? 0),
            slotsOk: Number(ci.get('cluster_slots_ok') ?? 0),
            knownNodes: Number(ci.get('cluster_known_nodes') ?? 0),
            masters: parseClusterNodes(String(await client.call('CLUSTER', 'NODES'))),
          };
        } catch (err) {
          facts.clusterError = String((err as Error).message ?? err).trim();
        }
      }
      return facts;
    };
    const r = await withTimeout(run(), timeoutMs + 500, () => null);
    if (r === null) throw new Error(`no answer within ${timeoutMs} ms`);
    return r;
  } catch (err) {
    const cause = lastError ?? err;
    throw new DehbError('E_BROKER', describeRedisError(cause, where(ep)), { cause });
  } finally {
    client.disconnect();
  }
}

/** Compares dotted versions: -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** What is wrong or risky with a server for a dehb cluster (`prefix`: the file's key prefix, if known). */
export function assessRedis(facts: RedisFacts, prefix?: string): Finding[] {
  const out: Finding[] = [];
  if (compareVersions(facts.version, '5.0.0') < 0) {
    out.push({ level: 'error', what: 'version', message: `Redis ${facts.version} is too old: BullMQ needs >= 5.0.0 (6.2 or newer recommended)` });
  } else if (compareVersions(facts.version, '6.2.0') < 0) {
    out.push({ level: 'warn', what: 'version', message: `Redis ${facts.version} works but 6.2 or newer is recommended` });
  } else {
    out.push({ level: 'ok', what: 'version', message: `Redis ${facts.version}` });
  }
  if (facts.maxmemoryPolicy === null) {
    out.push({ level: 'warn', what: 'maxmemory-policy', message: 'cannot read maxmemory-policy (INFO and CONFIG GET refused); it must be noeviction' });
  } else if (facts.maxmemoryPolicy !== 'noeviction') {
    out.push({
      level: 'error',
      what: 'maxmemory-policy',
      message: `maxmemory-policy is ${facts.maxmemoryPolicy}: Redis may evict queued jobs and results; set it to noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf)`,
    });
  } else {
    out.push({ level: 'ok', what: 'maxmemory-policy', message: 'maxmemory-policy noeviction' });
  }
  if (facts.aofEnabled === false) {
    out.push({
      level: 'warn',
      what: 'appendonly',
      message: 'AOF persistence is off: a Redis restart loses queued jobs and unrecorded results (set appendonly yes, appendfsync everysec)',
    });
  } else if (facts.aofEnabled === true) {
    out.push({ level: 'ok', what: 'appendonly', message: 'AOF persistence on' });
  }
  if (facts.clusterEnabled) out.push(...assessCluster(facts, prefix));
  return out;
}

/** Cluster mode findings: state, slot coverage, masters without replicas (no failover for their slots). */
function assessCluster(facts: RedisFacts, prefix?: string): Finding[] {
  const c = facts.cluster;
  const tagged = prefix === undefined ? '' : prefix === hashTaggedPrefix(prefix) ? `; prefix ${prefix} is a hash tag` : `; prefix ${prefix} is used as ${hashTaggedPrefix(prefix)} (a hash tag)`;
  if (c === undefined) {
    return [
      { level: 'ok', what: 'mode', message: `Redis Cluster${tagged}, so every key of the queue lands in one slot` },
      {
        level: 'error',
        what: 'cluster slots',
        message: `the node says it is in cluster mode but CLUSTER INFO failed (${facts.clusterError ?? 'no answer'}); check the cluster with redis-cli --cluster check HOST:PORT`,
      },
    ];
  }
  const nodes = c.masters.map((m) => `${m.address} (${m.slots} slots; replicas: ${m.replicas.length === 0 ? 'none' : m.replicas.join(', ')})`).join(', ');
  const out: Finding[] = [
    {
      level: 'ok',
      what: 'mode',
      message: `Redis Cluster, ${c.masters.length} master(s) and ${c.masters.reduce((n, m) => n + m.replicas.length, 0)} replica(s) of ${c.knownNodes} known node(s): ${nodes}${tagged}, so every key of the queue lands in one slot`,
    },
  ];
  if (c.state !== 'ok' || c.slotsOk < 16_384) {
    out.push({
      level: 'error',
      what: 'cluster slots',
      message: `cluster_state is ${c.state}, ${c.slotsOk} of 16384 slots served (${c.slotsAssigned} assigned): commands on the missing slots fail; fix the cluster (redis-cli --cluster check/fix)`,
    });
  } else {
    out.push({ level: 'ok', what: 'cluster slots', message: 'cluster_state ok, all 16384 slots served' });
  }
  const alone = c.masters.filter((m) => m.replicas.length === 0).map((m) => m.address);
  if (alone.length > 0) {
    out.push({ level: 'warn', what: 'cluster replicas', message: `master(s) ${alone.join(', ')} have no replica: if one fails, its slots (and a queue there) are down until it returns` });
  }
  return out;
}
