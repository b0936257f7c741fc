/**
 * Owns opening a client from a Redis URL given on the command line (the study storage's
 * `--storage`) or a scheduler file's endpoint: `redis://`/`rediss://` to one server, or `redis+cluster://h1:p1,h2:p2` to a Redis
 * Cluster; a plain URL whose server says `cluster_enabled:1` is reopened as a Cluster client seeded
 * with that node (else every key outside its slots would fail with MOVED). Connects and pings
 * before returning.
 */
import { DehbError } from '../errors.js';
import { parseRedisUrl, type RedisEndpoint } from '../protocol/redis-url.js';
import { Cluster, clusterNodes, clusterOptions, Redis, redisOptions, type Redis as RedisClient } from './connection.js';
import { parseInfo } from './probe.js';

export interface UrlClientOptions {
  connectTimeoutMs?: number;
  /** Per command retries while reconnecting (ioredis' maxRetriesPerRequest). */
  maxRetriesPerRequest?: number;
  /** The flag or key the URL came from, for messages. */
  what?: string;
}

/** A connected client and whether it is a Redis Cluster's. E_USAGE for a malformed URL; connection errors are thrown as they come. */
export async function connectRedisUrl(url: string, opts: UrlClientOptions = {}): Promise<{ redis: RedisClient; cluster: boolean }> {
  let ep;
  try {
    ep = parseRedisUrl(url, opts.what ?? 'the Redis URL');
  } catch (err) {
    throw new DehbError('E_USAGE', (err as Error).message, { cause: err });
  }
  return connectRedisEndpoint(ep, opts);
}

/** The same for an endpoint (e.g. a scheduler file's): `cluster: 'off'` skips the detection. */
export async function connectRedisEndpoint(ep: RedisEndpoint, opts: UrlClientOptions = {}): Promise<{ redis: RedisClient; cluster: boolean }> {
  const extra = { lazyConnect: true, connectTimeout: opts.connectTimeoutMs ?? 5_000, maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 5 };
  const nodes = clusterNodes(ep);
  if (nodes === null) {
    const single = new Redis(redisOptions(ep, extra));
    single.on('error', () => undefined);
    try {
      await single.connect();
      if (ep.cluster === 'off') return { redis: single, cluster: false };
      const info = parseInfo(await single.info('cluster'));
      if (info.get('cluster_enabled') !== '1') return { redis: single, cluster: false };
    } catch (err) {
      single.disconnect();
      throw err;
    }
    single.disconnect();
  }
  const cluster = new Cluster(nodes ?? [{ host: ep.host, port: ep.port }], { ...clusterOptions(ep, extra), lazyConnect: true });
  cluster.on('error', () => undefined);
  try {
    await cluster.connect();
    await cluster.ping();
  } catch (err) {
    cluster.disconnect();
    throw err;
  }
  return { redis: cluster, cluster: true };
}
