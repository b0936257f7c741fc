/**
 * Owns opening a client from a Redis URL given on the command line (the study storage's
 * `--storage`) or a scheduler file's endpoint: `redis://`/`rediss://` to one server, or `redis+cluster://h1:p1,h2:p2` to a Redis
 * Cluster; a plain URL whose server says `cluster_enabled:1` is reopened as a Cluster client seeded
 * with that node (else every key outside its slots would fail with MOVED). Connects and pings
 * before returning; a failure is an E_BROKER saying what failed (TLS set-up, credentials, refused).
 */
import { DehbError } from '../errors.js';
import type { RedisEndpoint } from '../protocol/redis-url.js';
import { Cluster, clusterNodes, clusterOptions, describeRedisError, Redis, redisOptions, type Redis as RedisClient } from './connection.js';
import { parseInfo, where } from './probe.js';

export interface UrlClientOptions {
  connectTimeoutMs?: number;
  /** Per command retries while reconnecting (ioredis' maxRetriesPerRequest). */
  maxRetriesPerRequest?: number;
}

/** A connected client for an endpoint (e.g. a scheduler file's) and whether it is a Redis Cluster's: `cluster: 'off'` skips the detection. */
export async function connectRedisEndpoint(ep: RedisEndpoint, opts: UrlClientOptions = {}): Promise<{ redis: RedisClient; cluster: boolean }> {
  const extra = { lazyConnect: true, connectTimeout: opts.connectTimeoutMs ?? 5_000, maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 5 };
  const nodes = clusterNodes(ep);
  if (nodes === null) {
    const single = new Redis(redisOptions(ep, extra));
    const failed = lastError(single);
    try {
      await single.connect();
      if (ep.cluster === 'off') return { redis: single, cluster: false };
      const info = parseInfo(await single.info('cluster'));
      if (info.get('cluster_enabled') !== '1') return { redis: single, cluster: false };
    } catch (err) {
      single.disconnect();
      throw described(failed() ?? err, ep);
    }
    single.disconnect();
  }
  const cluster = new Cluster(nodes ?? [{ host: ep.host, port: ep.port }], { ...clusterOptions(ep, extra), lazyConnect: true });
  const failed = lastError(cluster);
  try {
    await cluster.connect();
    await cluster.ping();
  } catch (err) {
    cluster.disconnect();
    throw described(failed() ?? err, ep);
  }
  return { redis: cluster, cluster: true };
}

/** Keeps the client's last 'error' event: connect() itself only says "Connection is closed". */
function lastError(client: RedisClient): () => unknown {
  let last: unknown;
  client.on('error', (err: unknown) => {
    last = err;
  });
  return () => last;
}

/** An E_BROKER saying what failed (TLS set-up, credentials, refused), the raw error as its cause. */
function described(err: unknown, ep: RedisEndpoint): DehbError {
  return new DehbError('E_BROKER', describeRedisError(err, where(ep)), { cause: err });
}
