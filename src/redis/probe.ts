/**
 * Owns one-shot inspection of a Redis server: connect once (no retries) with a deadline, read
 * version, eviction policy, persistence and memory, and turn that into the findings
 * `dehb scheduler check` prints (errors vs warnings) and the executor/worker warn about.
 */
import { Redis } from 'ioredis';
import { DehbError } from '../errors.js';
import type { RedisEndpoint } from '../protocol/scheduler-file.js';
import { describeRedisError, redisOptions, withTimeout } from './connection.js';

export interface RedisFacts {
  version: string;
  maxmemoryPolicy: string | null;
  aofEnabled: boolean | null;
  usedMemory: number | null;
  mode: string | null;
}

export interface Finding {
  level: 'ok' | 'warn' | 'error';
  what: string;
  message: string;
}

function where(ep: RedisEndpoint): string {
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
      return {
        version: info.get('redis_version') ?? '0.0.0',
        maxmemoryPolicy: policy,
        aofEnabled: aof === undefined ? null : aof === '1',
        usedMemory: used === undefined ? null : Number(used),
        mode: info.get('redis_mode') ?? null,
      };
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
  if (facts.mode === 'cluster') {
    if (prefix !== undefined && /\{[^{}]+\}/.test(prefix)) {
      out.push({ level: 'ok', what: 'mode', message: `Redis Cluster; prefix ${prefix} is a hash tag, so every queue key lands in one slot` });
    } else {
      out.push({ level: 'warn', what: 'mode', message: 'Redis Cluster: use a hash-tag prefix such as {dehb} so every queue key lands in one slot' });
    }
  }
  return out;
}
