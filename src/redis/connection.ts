/**
 * Owns how the cluster talks to Redis: ioredis options from a plain endpoint (auth, db, TLS,
 * reconnect), the key names the cluster uses next to BullMQ's own (`<prefix>:<queue>:...`), the
 * job id rule (`<runId>-<trialId>`), and small helpers to race a promise against a timeout and to
 * close a client without hanging while Redis is down.
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { ClusterConnection, RedisEndpoint } from '../protocol/scheduler-file.js';

/** The ioredis client class, for the journal and study storage on Redis (ioredis is imported here only). */
export { Redis };

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
  if (ep.tls !== undefined) {
    const tls: NonNullable<RedisOptions['tls']> = {};
    if (ep.tls.ca !== undefined) tls.ca = ep.tls.ca;
    if (ep.tls.servername !== undefined) tls.servername = ep.tls.servername;
    if (ep.tls.rejectUnauthorized !== undefined) tls.rejectUnauthorized = ep.tls.rejectUnauthorized;
    opts.tls = tls;
  }
  return opts;
}

/** Connection options for BullMQ classes (they create and own their connections). */
export function bullConnection(ep: RedisEndpoint): ConnectionOptions {
  return redisOptions(ep) as ConnectionOptions;
}

/** A plain client for the cluster's own keys; reconnects quickly (0.2–2 s) after an outage. */
export function createRedis(ep: RedisEndpoint, name: string, extra: Partial<RedisOptions> = {}): Redis {
  const client = new Redis(
    redisOptions(ep, {
      connectionName: name,
      retryStrategy: (times: number) => Math.min(200 * times, 2_000),
      ...extra,
    }),
  );
  return client;
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

/** `<runId>-<trialId>`: never contains `:` and is never a bare integer (BullMQ rejects both). */
export function jobIdFor(runId: string, trialId: number): string {
  return `${runId}-${trialId}`;
}

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

/** A short description of a Redis error for messages (auth, refused, DNS, TLS). */
export function describeRedisError(err: unknown, where: string): string {
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  if (/WRONGPASS|invalid username-password|NOAUTH|AUTH.*without any password/i.test(msg)) {
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
