/**
 * Owns how the cluster talks to Redis: ioredis options from a plain endpoint (auth, db, TLS,
 * reconnect), ioredis' Cluster client when the endpoint is a Redis Cluster (seed nodes, natMap, waits
 * through a failover), the key names the cluster uses next to BullMQ's own (`<prefix>:<queue>:...`),
 * and small helpers to race a promise against a timeout and to close a client without hanging
 * while Redis is down. (The job ids of trials: protocol/job-ids.ts.)
 */
import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis as IORedis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import type { NodeAddress, RedisEndpoint } from '../protocol/redis-url.js';
import { refusesCredentials } from './error-codes.js';
import { describeTlsError } from './tls-errors.js';
import { closeFamily, FamilyCluster } from './cluster-family.js';

/** The ioredis client class, for the journal and study storage on Redis (ioredis is imported here only). */
export const Redis = IORedis;
/** A client of one Redis server or of a Redis Cluster (the same command API). */
export type Redis = IORedis | Cluster;
export { Cluster };

/** The seed nodes when the endpoint is a Redis Cluster, else null. */
export function clusterNodes(ep: RedisEndpoint): NodeAddress[] | null {
  return ep.cluster !== undefined && ep.cluster !== 'off' ? ep.cluster.nodes : null;
}

/** ioredis options for an endpoint. Commands wait for a reconnect (BullMQ needs that anyway). */
export function redisOptions(ep: RedisEndpoint, extra: Partial<RedisOptions> = {}): RedisOptions {
  const opts: RedisOptions = {
    host: ep.host,
    port: ep.port,
    db: ep.db,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: 10_000,
    // a socket already gone is otherwise kept referenced this long on disconnect (default 2 s)
    disconnectTimeout: 200,
    ...extra,
  };
  if (ep.username !== undefined) opts.username = ep.username;
  if (ep.password !== undefined) opts.password = ep.password;
  // the same names as node:tls (ca, cert, key, servername, rejectUnauthorized)
  if (ep.tls !== undefined) opts.tls = { ...ep.tls };
  return opts;
}

/** How often a Cluster client re-reads the slot map (one CLUSTER SLOTS per client). */
const SLOTS_REFRESH_MS = 5_000;

/**
 * ioredis Cluster options: per-node options from the endpoint (auth, TLS; db 0 only), reads from
 * masters, and commands that wait through a failover or a slot move instead of failing: MOVED/ASK
 * are followed, CLUSTERDOWN/TRYAGAIN and a lost node are retried every 200–300 ms, up to 100
 * redirections (about 20 s, longer than a replica takes to be promoted with the default
 * cluster-node-timeout of 15 s... plus slack), and the slot map is refreshed on each.
 */
export function clusterOptions(ep: RedisEndpoint, extra: Partial<RedisOptions> = {}): ClusterOptions {
  const { retryStrategy: _r, host: _h, port: _p, db: _d, ...node } = redisOptions(ep, extra);
  return {
    redisOptions: node,
    // a master that dies without a reset (a dead machine: its sockets stay open and silent) is
    // noticed by re-reading the slot map now and then: once its replica is promoted it holds no
    // slot, ioredis drops its connection, and what was pending there is retried on the new master
    slotsRefreshInterval: SLOTS_REFRESH_MS,
    clusterRetryStrategy: (times: number) => Math.min(200 * times, 2_000),
    retryDelayOnFailover: 200,
    retryDelayOnTryAgain: 200,
    retryDelayOnClusterDown: 300,
    maxRedirections: 100,
    // no cluster-level ready check: it sends one CLUSTER INFO to a random master, with no timeout, and
    // the client stays 'connect' until it answers, its commands queued and its slot refresh not
    // started; a reconnect (BullMQ's watchdog does one) while a master is frozen could pick that
    // master and never get ready (seen: the coordinator's QueueEvents reading nothing after an
    // unplanned failover, completions found only by the 5 s re-check). Commands that reach a
    // cluster that is down get CLUSTERDOWN and are retried (below).
    enableReadyCheck: false,
    enableOfflineQueue: true,
    slotsRefreshTimeout: 2_000,
    scaleReads: 'master',
    ...(ep.cluster !== undefined && ep.cluster !== 'off' && ep.cluster.natMap !== undefined ? { natMap: ep.cluster.natMap } : {}),
    // TLS certificates name hosts, not the addresses the cluster announces
    ...(ep.tls !== undefined ? { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) } : {}),
  };
}

/**
 * Connection options for BullMQ classes. For one server: options (BullMQ creates and owns its
 * connections). For a Redis Cluster: a Cluster client, which BullMQ uses but does not close
 * (blocking connections it duplicates it owns): close it with `closeBullConnection`.
 */
export function bullConnection(ep: RedisEndpoint, name?: string): ConnectionOptions {
  const nodes = clusterNodes(ep);
  if (nodes === null) return redisOptions(ep) as ConnectionOptions;
  return new FamilyCluster(nodes, clusterOptions(ep, name === undefined ? {} : { connectionName: name })) as unknown as ConnectionOptions;
}

/**
 * Closes what `bullConnection` created (a Cluster client) and the clients BullMQ duplicated from
 * it, for good (cluster-family.ts), after the BullMQ classes using it closed.
 */
export async function closeBullConnection(c: ConnectionOptions, ms = 1_000): Promise<void> {
  if (c instanceof Cluster) await closeFamily(c, (m) => closeRedis(m, ms));
}

/** A plain client for the cluster's own keys; reconnects quickly (0.2–2 s) after an outage. */
export function createRedis(ep: RedisEndpoint, name: string, extra: Partial<RedisOptions> = {}): Redis {
  const nodes = clusterNodes(ep);
  if (nodes !== null) return new Cluster(nodes, clusterOptions(ep, { connectionName: name, ...extra }));
  const client = new IORedis(
    redisOptions(ep, {
      connectionName: name,
      retryStrategy: (times: number) => Math.min(200 * times, 2_000),
      ...extra,
    }),
  );
  return client;
}

/**
 * The client to SCAN for keys that share `key`'s hash tag: on a Redis Cluster the master serving
 * its slot (SCAN sees one node's keys only), else the client itself.
 */
export async function scanClientFor(client: Redis, key: string): Promise<IORedis> {
  if (!(client instanceof Cluster)) return client;
  const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
  const owner = client.slots[slot]?.[0];
  const node = owner === undefined ? undefined : client.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (node === undefined) throw new Error(`CLUSTERDOWN no known master serves slot ${slot} (of ${key}); retry when the cluster is ok`);
  return node;
}

/**
 * Every key that starts with `head` (taken literally: glob characters in a prefix are escaped) and
 * whose rest matches the glob `tail`; on a Redis Cluster, on the master serving head's hash tag.
 */
export async function scanKeys(client: Redis, head: string, tail = '*'): Promise<string[]> {
  const node = await scanClientFor(client, head);
  const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}${tail}`;
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...found);
  } while (cursor !== '0');
  return out;
}

/** Key names of one cluster queue. */
export interface ClusterKeys {
  /** `<prefix>:<queue>` — BullMQ's key base for the queue. */
  base: string;
  results: string;
  events: string;
  cancelChannel: string;
  job(jobId: string): string;
  lock(jobId: string): string;
}

export function clusterKeys(conn: Pick<ClusterConnection, 'prefix' | 'queue' | 'resultsKey'>): ClusterKeys {
  const base = `${conn.prefix}:${conn.queue}`;
  return {
    base,
    results: conn.resultsKey,
    events: `${base}:events`,
    cancelChannel: `${base}:dehb:cancel`,
    job: (id) => `${base}:${id}`,
    lock: (id) => `${base}:${id}:lock`,
  };
}

/** The run id rule of a task (no `:`, so job ids stay valid): one rule for every backend. */
export { checkRunId } from '../protocol/schemas.js';


/** Resolves with the promise's value, or with `onTimeout()` after ms (the promise keeps running). */
export async function withTimeout<T, U>(p: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** QUIT within ms, else drop the socket. Never hangs (QUIT waits forever while Redis is down). */
export async function closeRedis(client: Redis, ms = 1_000): Promise<void> {
  // a Cluster client says 'ready' too once its slot map is known
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await withTimeout(
    client.quit().then(
      () => undefined,
      () => undefined,
    ),
    ms,
    () => undefined,
  );
  if ((client.status as string) !== 'end') client.disconnect();
}

/**
 * Disconnects the ioredis client inside a BullMQ Queue/QueueEvents (an internal field, checked).
 * BullMQ's own close()/disconnect() first wait for a connection that may never become usable
 * (Redis gone, or answering only errors); then its sockets would keep the process alive.
 */
export function dropBullSockets(owner: unknown): void {
  type Conn = { _client?: { disconnect?: unknown } } | undefined;
  const backend = (owner as { backend?: { connection?: Conn; blockingConnection?: Conn } } | undefined)?.backend;
  for (const conn of [backend?.connection, backend?.blockingConnection]) {
    const client = conn?._client;
    if (typeof client?.disconnect === 'function') (client.disconnect as () => void).call(client);
  }
}

/** A short description of a Redis error for messages (auth, refused, DNS, TLS: see tls-errors.ts). */
export function describeRedisError(err: unknown, where: string): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  const tls = describeTlsError(err, where);
  if (tls !== null) return tls;
  if (refusesCredentials(err)) {
    return `Redis at ${where} rejected the credentials (${msg.trim()}); check the user/password in the URL`;
  }
  if (e?.code === 'ECONNREFUSED') return `nothing listens at ${where} (connection refused); is redis-server running there?`;
  if (e?.code === 'ECONNRESET' && !where.startsWith('rediss:')) {
    return `Redis at ${where}: the server reset the connection (ECONNRESET); if it expects TLS, use a rediss:// URL`;
  }
  if (e?.code === 'ENOTFOUND' || e?.code === 'EAI_AGAIN') return `cannot resolve the host of ${where} (${e.code})`;
  if (e?.code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) return `Redis at ${where} did not answer in time (${msg})`;
  return `Redis at ${where}: ${msg}`;
}
