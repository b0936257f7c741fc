/**
 * Owns `dehb scheduler check`'s diagnosis: the scheduler file (exists, valid, not readable by
 * others), the server it names (reachable, credentials, version, eviction policy, AOF; a Redis
 * Cluster's state, slots and nodes, then read through ioredis' Cluster client) and the
 * queue (jobs per state, workers connected, stored results). Returns findings; prints nothing.
 */
import { Queue } from 'bullmq';
import { DehbError } from '../errors.js';
import { connectionFromSchedulerFile, readSchedulerFile, looseModeWarning } from '../protocol/scheduler-file.js';
import { redactRedisUrl } from '../protocol/redis-url.js';
import { bullConnection, closeBullConnection, closeRedis, clusterKeys, createRedis, dropBullSockets, withTimeout } from './connection.js';
import { isServerError } from './health.js';
import { assessRedis, probeRedis, type Finding, type RedisFacts } from './probe.js';
import { checkHostFacts } from './host-facts-store.js';
import { withClusterMode } from './cluster-mode.js';
import type { HostFacts } from '../protocol/host-facts.js';

export interface SchedulerCheck {
  file: string;
  redisUrl?: string;
  facts?: RedisFacts;
  queue?: { waiting: number; active: number; delayed: number; failed: number; workers: number; results: number };
  findings: Finding[];
  ok: boolean;
  /** Host facts of the live workers (CPU, cores, memory, load). */
  hosts?: HostFacts[];
}

export async function checkScheduler(path: string, opts: { timeoutMs?: number } = {}): Promise<SchedulerCheck> {
  const findings: Finding[] = [];
  const out: SchedulerCheck = { file: path, findings, ok: false };
  let file;
  try {
    file = await readSchedulerFile(path);
  } catch (err) {
    findings.push({ level: 'error', what: 'scheduler file', message: (err as Error).message });
    return out;
  }
  out.redisUrl = redactRedisUrl(file.redisUrl);
  findings.push({ level: 'ok', what: 'scheduler file', message: `valid (version ${file.version}, prefix ${file.prefix}, queue ${file.queue})` });
  const loose = await looseModeWarning(path);
  if (loose !== null) findings.push({ level: 'warn', what: 'file mode', message: loose });
  let conn;
  try {
    conn = await connectionFromSchedulerFile(file, path);
  } catch (err) {
    findings.push({ level: 'error', what: 'tls', message: (err as Error).message });
    return out;
  }
  if (conn.endpoint.password === undefined) {
    findings.push({ level: 'warn', what: 'auth', message: 'the URL has no password: anyone who can reach the port can run jobs on your workers' });
  }
  try {
    out.facts = await probeRedis(conn.endpoint, { timeoutMs: opts.timeoutMs ?? 5_000 });
    findings.push({ level: 'ok', what: 'connection', message: `reachable at ${out.redisUrl}, credentials accepted` });
  } catch (err) {
    findings.push({ level: 'error', what: 'connection', message: err instanceof DehbError ? err.message : String(err) });
    return finish(out);
  }
  findings.push(...assessRedis(out.facts, file.prefix));
  try {
    conn = withClusterMode(conn, out.facts.clusterEnabled);
  } catch (err) {
    findings.push({ level: 'error', what: 'mode', message: (err as Error).message });
    return finish(out);
  }
  // a Redis Cluster that is not ok answers the queue's commands with errors, or not at all
  if (findings.some((f) => f.level === 'error' && f.what === 'cluster slots')) return finish(out);
  try {
    out.queue = await queueStats(conn, opts.timeoutMs ?? 5_000);
    const q = out.queue;
    findings.push({
      level: 'ok',
      what: 'queue',
      message: `${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.failed} failed; ${q.workers} worker connection(s); ${q.results} unrecorded result(s)`,
    });
  } catch (err) {
    // the server answering with an error (MOVED/CLUSTERDOWN after the slot map was read: a cluster
    // in transition) is a broken set-up, not a passing check
    const message = (err as Error).message;
    const moved = /^(MOVED|ASK|CLUSTERDOWN|CROSSSLOT)\b/.test(message);
    findings.push({
      level: isServerError(err) ? 'error' : 'warn',
      what: 'queue',
      message: moved
        ? `cannot read the queue: the server answered ${message}: a Redis Cluster moving slots or failing over? Run the check again, and redis-cli --cluster check HOST:PORT`
        : `cannot read the queue: ${message}`,
    });
  }
  const hosts = await checkHostFacts(conn, opts.timeoutMs ?? 5_000).catch((err: unknown) => ({
    hosts: [],
    findings: [{ level: 'warn' as const, what: 'workers', message: `cannot read the workers' host facts: ${(err as Error).message}` }],
  }));
  out.hosts = hosts.hosts;
  findings.push(...hosts.findings);
  return finish(out);
}

function finish(out: SchedulerCheck): SchedulerCheck {
  out.ok = !out.findings.some((f) => f.level === 'error');
  return out;
}

async function queueStats(conn: Awaited<ReturnType<typeof connectionFromSchedulerFile>>, timeoutMs: number): Promise<NonNullable<SchedulerCheck['queue']>> {
  const connection = bullConnection(conn.endpoint, 'dehb:check-queue');
  const queue = new Queue(conn.queue, { connection, prefix: conn.prefix });
  const redis = createRedis(conn.endpoint, 'dehb:check');
  queue.on('error', () => undefined);
  redis.on('error', () => undefined);
  try {
    const work = async (): Promise<NonNullable<SchedulerCheck['queue']>> => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'completed');
      const workers = await queue.getWorkersCount().catch(() => -1);
      // unrecorded results: finished jobs kept until their run records them (and an older version's results hash)
      const results = (counts.completed ?? 0) + (await redis.hlen(clusterKeys(conn).results));
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        workers,
        results,
      };
    };
    const r = await withTimeout(work(), timeoutMs, () => null);
    if (r === null) throw new Error(`no answer within ${timeoutMs} ms`);
    return r;
  } finally {
    const closed = await withTimeout(queue.close().then(() => true), 1_000, () => false).catch(() => false);
    if (!closed) dropBullSockets(queue);
    await Promise.all([closeRedis(redis), closeBullConnection(connection)]);
  }
}
