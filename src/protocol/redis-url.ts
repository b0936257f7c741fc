/**
 * Owns Redis URLs as plain data: parsing `redis://` / `rediss://` (user, password, db) and
 * `redis+cluster://h1:p1,h2:p2` into an endpoint, `host:port` node addresses, formatting an
 * endpoint back into a URL, and redacting passwords for messages. No Redis client here.
 */
import { DehbError } from '../errors.js';

export const REDIS_URL_HINT =
  'a redis:// or rediss:// URL such as redis://:PASSWORD@host:6379/0 (for a Redis Cluster: redis+cluster://:PASSWORD@host1:6379,host2:6379)';

/** A Redis Cluster node address. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** A Redis endpoint as plain data (no client library types). */
export interface RedisEndpoint {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** TLS when the URL is rediss:// or the file has a tls section. */
  tls?: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized?: boolean };
  /**
   * A Redis Cluster and its seed nodes (host/port above is the first; `natMap`: announced
   * `host:port` -> the address to connect to, for nodes behind NAT), 'off' when the user said it
   * is not one; absent: not known yet (`withClusterMode` in src/redis/cluster-mode.ts detects it).
   */
  cluster?: { nodes: NodeAddress[]; natMap?: Record<string, NodeAddress> } | 'off';
}

/** Whether `url` is a Redis URL parseRedisUrl takes. */
export function isRedisUrl(url: string): boolean {
  return parseUrlOrNull(url) !== null;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` (or rediss://), and
 * `redis+cluster://[user[:password]@]host:port,host:port[/0]` (or rediss+cluster://) for a Redis
 * Cluster. Throws E_CONFIG naming `what`.
 */
export function parseRedisUrl(url: string, what = 'redisUrl'): RedisEndpoint {
  const ep = parseUrlOrNull(url);
  if (ep === null) throw new DehbError('E_CONFIG', `${what} must be ${REDIS_URL_HINT} (got "${redactRedisUrl(url)}")`);
  if (ep.cluster !== undefined && ep.cluster !== 'off' && ep.db !== 0) {
    throw new DehbError('E_CONFIG', `${what}: a Redis Cluster has only database 0; drop "/${ep.db}" from the URL`);
  }
  return ep;
}

/** `host:port` (IPv6 as `[addr]:port`), or null. */
export function parseHostPort(text: string): NodeAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/,@[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}

function parseUrlOrNull(url: string): RedisEndpoint | null {
  const cluster = /^(rediss?)\+cluster:\/\/(.*)$/.exec(url);
  if (cluster !== null) return parseClusterUrl(cluster[1] === 'rediss', cluster[2] as string);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return null;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return null;
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\/+/, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) return null;
  const ep: RedisEndpoint = { host, port, db: dbText === '' ? 0 : Number(dbText) };
  if (u.username !== '') ep.username = decodeURIComponent(u.username);
  if (u.password !== '') ep.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') ep.tls = {};
  return ep;
}

/** The part after `redis+cluster://`: `[user[:password]@]host:port,host:port[/db]`. */
function parseClusterUrl(tls: boolean, rest: string): RedisEndpoint | null {
  const at = rest.lastIndexOf('@');
  const auth = at < 0 ? '' : rest.slice(0, at);
  const hostsAndDb = at < 0 ? rest : rest.slice(at + 1);
  const slash = hostsAndDb.indexOf('/');
  const hosts = slash < 0 ? hostsAndDb : hostsAndDb.slice(0, slash);
  const dbText = slash < 0 ? '' : hostsAndDb.slice(slash + 1);
  if (dbText !== '' && !/^\d+$/.test(dbText)) return null;
  const nodes = hosts.split(',').map(parseHostPort);
  if (nodes.length === 0 || nodes.length > 64 || nodes.some((n) => n === null)) return null;
  const list = nodes as NodeAddress[];
  const first = list[0] as NodeAddress;
  const ep: RedisEndpoint = { host: first.host, port: first.port, db: dbText === '' ? 0 : Number(dbText), cluster: { nodes: list } };
  if (auth !== '') {
    const colon = auth.indexOf(':');
    try {
      const user = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
      const pass = colon < 0 ? '' : decodeURIComponent(auth.slice(colon + 1));
      if (user !== '') ep.username = user;
      if (pass !== '') ep.password = pass;
    } catch {
      return null;
    }
  }
  if (tls) ep.tls = {};
  return ep;
}

/** Builds a redis URL from parts (password percent-encoded); `redis+cluster://` with the seed nodes of a cluster. */
export function formatRedisUrl(ep: {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  cluster?: RedisEndpoint['cluster'];
}): string {
  const auth =
    ep.password !== undefined
      ? `${ep.username !== undefined ? encodeURIComponent(ep.username) : ''}:${encodeURIComponent(ep.password)}@`
      : ep.username !== undefined
        ? `${encodeURIComponent(ep.username)}@`
        : '';
  const hostPort = (n: NodeAddress): string => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;
  const scheme = ep.tls === true ? 'rediss' : 'redis';
  if (ep.cluster !== undefined && ep.cluster !== 'off') return `${scheme}+cluster://${auth}${ep.cluster.nodes.map(hostPort).join(',')}/${ep.db ?? 0}`;
  return `${scheme}://${auth}${hostPort(ep)}/${ep.db ?? 0}`;
}

/** The URL with its password replaced by `***` (for messages and logs). */
export function redactRedisUrl(url: string): string {
  if (/^rediss?\+cluster:/.test(url)) return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}
