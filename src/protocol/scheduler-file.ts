/**
 * Owns the cluster rendezvous file: its versioned JSON shape (validated with zod on read, errors
 * naming the field), the atomic write (tmp + fsync + rename, mode 0600 because it holds the Redis
 * password), waiting for it with back-off (shared filesystems are slow), and turning it into the
 * connection data of a cluster (its Redis URL parsed by redis-url.ts; the `cluster`/`nodes` fields
 * for a Redis Cluster). No Redis client here.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { DehbError } from '../errors.js';
import { sleep } from '../util/sleep.js';
import { isRedisUrl, parseHostPort, parseRedisUrl, REDIS_URL_HINT, type NodeAddress, type RedisEndpoint } from './redis-url.js';
import { tlsOptionsOf } from './scheduler-tls.js';
import { lazily, type Zod } from './zod.js';

export const SCHEDULER_FILE_VERSION = 1;
export const DEFAULT_PREFIX = 'dehb';
export const DEFAULT_QUEUE = 'evals';

const NAME_RE = /^[^\s:]+$/;

/** The scheduler file's schema, made with `z` (see lazily). */
function build(z: Zod) {
  const redisUrlSchema = z.string().refine((u) => isRedisUrl(u), { message: `must be ${REDIS_URL_HINT}` });

  /** `host:port` of a cluster node (IPv6 in brackets). */
  const nodeSchema = z.string().refine((s) => parseHostPort(s) !== null, { message: 'must be host:port, such as 10.0.0.5:6379 or [::1]:6379' });

  return z.looseObject({
    version: z.literal(SCHEDULER_FILE_VERSION),
    redisUrl: redisUrlSchema,
    /** BullMQ key prefix (never an ioredis keyPrefix). Use `{name}` for Redis Cluster. */
    prefix: z.string().min(1).regex(/^\S+$/, 'must not contain whitespace'),
    queue: z.string().min(1).regex(NAME_RE, 'must not contain ":" or whitespace'),
    /** Redis hash holding results by job id. Default `<prefix>:<queue>:dehb:results`. */
    resultsKey: z.string().min(1).optional(),
    /** Default number of evaluations a coordinator keeps in flight. */
    capacity: z.number().int().positive().optional(),
    /**
     * Redis Cluster: true uses ioredis' Cluster client (the URL's host is a seed node); false never
     * does (no detection). Absent: detected from the server (`INFO cluster`).
     */
    cluster: z.boolean().optional(),
    /** More seed nodes of a Redis Cluster (`host:port`); implies `cluster: true`. */
    nodes: z.array(nodeSchema).min(1).max(64).optional(),
    /**
     * A Redis Cluster whose nodes announce addresses this machine cannot reach (containers, NAT):
     * announced `host:port` -> the `host:port` to connect to instead; implies `cluster: true`.
     */
    natMap: z.record(nodeSchema, nodeSchema).optional(),
    /**
     * TLS (also for a redis:// URL): the CA that signed the server certificate, a client certificate
     * and its key for servers with tls-auth-clients (PEM files readable on every machine), the name
     * to check the server certificate against. Unknown keys are refused (a typo would turn TLS checks off).
     */
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional(),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        servername: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().optional(),
      })
      .optional(),
    /** When the file was written (ISO 8601; informational, optional). */
    createdAt: z.string().min(1).optional(),
    createdBy: z.object({ host: z.string(), pid: z.number().int() }).optional(),
    /** Set by `dehb scheduler start`: the redis-server it runs. */
    server: z
      .object({ pid: z.number().int(), port: z.number().int(), bind: z.string(), dir: z.string() })
      .optional(),
  }).superRefine((f, ctx) => {
    for (const key of ['nodes', 'natMap'] as const) {
      if (f.cluster === false && f[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is for a Redis Cluster but "cluster" is false; drop one of them` });
      }
    }
    if (f.natMap !== undefined && Object.keys(f.natMap).length > 1024) {
      ctx.addIssue({ code: 'custom', path: ['natMap'], message: 'has more than 1024 entries' });
    }
    if ((f.tls?.certFile === undefined) !== (f.tls?.keyFile === undefined)) {
      const missing = f.tls?.certFile === undefined ? 'certFile' : 'keyFile';
      ctx.addIssue({ code: 'custom', path: ['tls', missing], message: 'a client certificate needs both "tls.certFile" and "tls.keyFile"; add the missing one' });
    }
  });
}

/** The schema, built (and zod loaded) when first used. */
export const schedulerFileSchema = lazily(build);
export type SchedulerFile = z.infer<ReturnType<typeof build>>;

/** What a coordinator or worker needs to talk to the cluster. */
export interface ClusterConnection {
  endpoint: RedisEndpoint;
  prefix: string;
  queue: string;
  resultsKey: string;
  capacity?: number;
  /** Where it came from (for messages). */
  source?: string;
}

export function defaultResultsKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:dehb:results`;
}

/** Validates parsed JSON as a scheduler file; errors name the field and the file. */
export function validateSchedulerFile(value: unknown, source = 'scheduler file'): SchedulerFile {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = (value as Record<string, unknown>).version;
    if (typeof v === 'number' && v > SCHEDULER_FILE_VERSION) {
      throw new DehbError(
        'E_SCHEDULER_FILE',
        `${source}: field "version" is ${v}, newer than this dehb understands (${SCHEDULER_FILE_VERSION}); upgrade dehb on this machine`,
      );
    }
  }
  const parsed = schedulerFileSchema().safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
  const problems = parsed.error.issues
    .map((i) => `field "${i.path.length === 0 ? '(root)' : i.path.map(String).join('.')}": ${i.message}`)
    .join('; ');
  throw new DehbError('E_SCHEDULER_FILE', `${source}: ${problems}`, { details: { field } });
}

/** Reads and validates a scheduler file. E_SCHEDULER_FILE for a missing, unreadable or invalid file. */
export async function readSchedulerFile(path: string): Promise<SchedulerFile> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`;
    throw new DehbError(
      'E_SCHEDULER_FILE',
      `scheduler file ${abs} ${why}; create it with \`dehb scheduler start\` or \`dehb scheduler init\``,
      { cause: err, details: { errno: code } },
    );
  }
  if (text.trim() === '') {
    throw new DehbError('E_SCHEDULER_FILE', `scheduler file ${abs} is empty (still being written?)`, { details: { errno: 'EEMPTY' } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DehbError('E_SCHEDULER_FILE', `scheduler file ${abs} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
      details: { errno: 'EJSON' },
    });
  }
  return validateSchedulerFile(json, `scheduler file ${abs}`);
}

/**
 * Writes the file atomically: a temporary file in the same directory (mode 0600), fsync, rename
 * over the target, fsync of the directory (best effort). Readers never see a partial file.
 */
export async function writeSchedulerFile(path: string, data: SchedulerFile): Promise<void> {
  const valid = validateSchedulerFile(data, 'scheduler file to write');
  const abs = resolve(path);
  await mkdir(dirname(abs), { recursive: true });
  const tmp = `${abs}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(valid, null, 2)}\n`, 'utf8');
    await fh.chmod(0o600);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw new DehbError('E_SCHEDULER_FILE', `cannot write scheduler file ${abs}: ${(err as Error).message}`, { cause: err });
  }
  await fh.close();
  try {
    await rename(tmp, abs);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new DehbError('E_SCHEDULER_FILE', `cannot write scheduler file ${abs}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const dh = await open(dirname(abs), 'r');
    await dh.sync().catch(() => undefined);
    await dh.close();
  } catch {
    // directories cannot be opened/fsynced on every filesystem; the rename is already atomic
  }
}

/** A new scheduler file body with defaults filled in. */
export function makeSchedulerFile(opts: {
  redisUrl: string;
  prefix?: string;
  queue?: string;
  resultsKey?: string;
  capacity?: number;
  tls?: SchedulerFile['tls'];
  server?: SchedulerFile['server'];
  cluster?: boolean;
  nodes?: string[];
}): SchedulerFile {
  const file: SchedulerFile = {
    version: SCHEDULER_FILE_VERSION,
    redisUrl: opts.redisUrl,
    prefix: opts.prefix ?? DEFAULT_PREFIX,
    queue: opts.queue ?? DEFAULT_QUEUE,
    createdAt: new Date().toISOString(),
    createdBy: { host: hostname(), pid: process.pid },
  };
  if (opts.resultsKey !== undefined) file.resultsKey = opts.resultsKey;
  if (opts.capacity !== undefined) file.capacity = opts.capacity;
  if (opts.cluster !== undefined) file.cluster = opts.cluster;
  if (opts.nodes !== undefined) file.nodes = opts.nodes;
  if (opts.tls !== undefined) file.tls = opts.tls;
  if (opts.server !== undefined) file.server = opts.server;
  return validateSchedulerFile(file, 'scheduler file');
}

export interface WaitForSchedulerFileOptions {
  /** Give up after this many ms (default 60 000). 0: try once. */
  timeoutMs?: number;
  /** First back-off delay, doubled up to maxDelayMs (defaults 100 / 5 000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Called before each wait (e.g. to log "waiting for ..." once). */
  onWait?: (attempt: number, reason: string) => void;
}

/**
 * Waits until the file exists, with exponential back-off. Only a missing (or still empty) file is
 * waited for: malformed JSON or a file that fails validation is an error at once.
 */
export async function waitForSchedulerFile(path: string, opts: WaitForSchedulerFileOptions = {}): Promise<SchedulerFile> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let delay = opts.initialDelayMs ?? 100;
  const maxDelay = opts.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await readSchedulerFile(path);
    } catch (err) {
      const errno = err instanceof DehbError ? err.details?.errno : undefined;
      const transient = errno === 'ENOENT' || errno === 'EEMPTY' || errno === 'ESTALE';
      if (!transient) throw err;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DehbError(
          'E_SCHEDULER_FILE',
          `scheduler file ${resolve(path)} did not appear within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} (${(err as Error).message}); ` +
            'start `dehb scheduler start --scheduler-file FILE` first, check the path is on a filesystem both machines share, or raise --wait-ms',
          { cause: err },
        );
      }
      opts.onWait?.(attempt, (err as Error).message);
      await sleep(Math.min(delay, left), opts.signal);
      if (opts.signal?.aborted === true) throw new DehbError('E_ABORTED', 'waiting for the scheduler file was aborted');
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}

/** Turns a validated file into connection data (the TLS files it names read by scheduler-tls.ts). */
export async function connectionFromSchedulerFile(file: SchedulerFile, source?: string): Promise<ClusterConnection> {
  const endpoint = parseRedisUrl(file.redisUrl, 'scheduler file field "redisUrl"');
  if (file.tls !== undefined) endpoint.tls = await tlsOptionsOf(file.tls, endpoint.tls);
  if (file.cluster === false) {
    if (endpoint.cluster !== undefined) {
      throw new DehbError('E_SCHEDULER_FILE', 'scheduler file field "cluster" is false but "redisUrl" is a redis+cluster:// URL; drop one of them');
    }
    endpoint.cluster = 'off';
  } else if (file.cluster === true || file.nodes !== undefined || file.natMap !== undefined) {
    const seeds = endpoint.cluster !== undefined && endpoint.cluster !== 'off' ? endpoint.cluster.nodes : [{ host: endpoint.host, port: endpoint.port }];
    const more = (file.nodes ?? []).map((n) => parseHostPort(n) as NodeAddress);
    const nodes = [...seeds, ...more.filter((m) => !seeds.some((s) => s.host === m.host && s.port === m.port))];
    endpoint.cluster = { nodes };
    if (file.natMap !== undefined) {
      // keyed as ioredis looks nodes up: `host:port`, an IPv6 host without brackets
      const key = (a: NodeAddress): string => `${a.host}:${a.port}`;
      endpoint.cluster.natMap = Object.fromEntries(Object.entries(file.natMap).map(([from, to]) => [key(parseHostPort(from) as NodeAddress), parseHostPort(to) as NodeAddress]));
    }
  }
  if (endpoint.cluster !== undefined && endpoint.cluster !== 'off' && endpoint.db !== 0) {
    throw new DehbError('E_SCHEDULER_FILE', `scheduler file field "redisUrl": a Redis Cluster has only database 0; drop "/${endpoint.db}" from the URL`);
  }
  const conn: ClusterConnection = {
    endpoint,
    prefix: file.prefix,
    queue: file.queue,
    resultsKey: file.resultsKey ?? defaultResultsKey(file.prefix, file.queue),
  };
  if (file.capacity !== undefined) conn.capacity = file.capacity;
  if (source !== undefined) conn.source = source;
  return conn;
}

/** Reads the file at `path` and returns its connection data. */
export async function loadClusterConnection(path: string): Promise<ClusterConnection> {
  const file = await readSchedulerFile(path);
  return connectionFromSchedulerFile(file, resolve(path));
}

/**
 * A warning when others may read the file (it holds the Redis password), else null. Coordinators
 * and workers say it when they use the file; `scheduler check` reports it too.
 */
export async function looseModeWarning(path: string): Promise<string | null> {
  const mode = await schedulerFileMode(path).catch(() => null);
  if (mode === null || (mode & 0o077) === 0) return null;
  return `scheduler file ${resolve(path)} has mode ${mode.toString(8)}: other users can read the Redis password in it; chmod 600 ${resolve(path)}`;
}

/** Permission bits of the file (e.g. 0o600), for `scheduler check`. */
export async function schedulerFileMode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}
