/**
 * Owns what changes when the Redis is a Redis Cluster: the key prefix becomes a hash tag (`dehb`
 * -> `{dehb}`, so every key of a queue, its results hash, run claims and host facts, or of a study
 * storage, lands in one slot and multi-key scripts work), an explicit results key must carry the
 * same tag, and a plain redis:// endpoint found to be a cluster node (`cluster_enabled:1`) becomes
 * a cluster endpoint seeded with that node. Pure: the facts come from probe.ts.
 */
import { DehbError } from '../errors.js';
import { defaultResultsKey, type ClusterConnection } from '../protocol/scheduler-file.js';

/** Redis' hash tag rule: the text between the first `{` and the next `}`, when not empty; else null. */
export function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  return close < 0 || close === open + 1 ? null : key.slice(open + 1, close);
}

/**
 * A prefix whose keys share one slot: kept when it has a hash tag, else wrapped (`dehb` ->
 * `{dehb}`, `dehb:` -> `{dehb}:`, so the separator stays outside the tag).
 */
export function hashTaggedPrefix(prefix: string): string {
  if (hashTagOf(prefix) !== null) return prefix;
  const sep = prefix.endsWith(':') ? ':' : '';
  return `{${prefix.slice(0, prefix.length - sep.length)}}${sep}`;
}

/**
 * The connection to use, given whether the server answered `cluster_enabled:1`: a cluster endpoint
 * (seeded with the given node when it was a plain URL) with a hash-tagged prefix, or the
 * connection unchanged. E_SCHEDULER_FILE when the file said `cluster: false` to a cluster node,
 * or names a results key in another slot.
 */
export function withClusterMode(conn: ClusterConnection, clusterEnabled: boolean): ClusterConnection {
  const ep = conn.endpoint;
  if (ep.cluster === 'off') {
    if (!clusterEnabled) return conn;
    throw new DehbError(
      'E_SCHEDULER_FILE',
      `${where(conn)}: field "cluster" is false but Redis at ${ep.host}:${ep.port} is a Redis Cluster node (cluster_enabled:1); set "cluster": true or remove the field`,
    );
  }
  if (ep.cluster === undefined && !clusterEnabled) return conn;
  if (ep.db !== 0) {
    throw new DehbError('E_SCHEDULER_FILE', `${where(conn)}: field "redisUrl" names database ${ep.db}, but a Redis Cluster has only database 0; drop "/${ep.db}" from the URL`);
  }
  const prefix = hashTaggedPrefix(conn.prefix);
  const tag = hashTagOf(prefix) as string;
  const wasDefault = conn.resultsKey === defaultResultsKey(conn.prefix, conn.queue);
  const resultsKey = wasDefault ? defaultResultsKey(prefix, conn.queue) : conn.resultsKey;
  if (hashTagOf(resultsKey) !== tag) {
    throw new DehbError(
      'E_SCHEDULER_FILE',
      `${where(conn)}: field "resultsKey" (${resultsKey}) is in another Redis Cluster slot than the queue (hash tag {${tag}}); remove it or write it as {${tag}}:...`,
    );
  }
  const cluster = ep.cluster ?? { nodes: [{ host: ep.host, port: ep.port }] };
  return { ...conn, endpoint: { ...ep, cluster }, prefix, resultsKey };
}

function where(conn: ClusterConnection): string {
  return conn.source === undefined ? 'cluster connection' : `scheduler file ${conn.source}`;
}
