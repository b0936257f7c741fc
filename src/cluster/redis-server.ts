/**
 * Owns starting a redis-server child suited to a dehb cluster (`dehb scheduler start`): a config
 * file of its own (mode 0600, so the generated password never shows in `ps`), AOF with fsync every
 * second, noeviction, bound where asked, on a free port by default; waiting until it answers; and
 * stopping it (SIGTERM, then SIGKILL) so the AOF is flushed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { DehbError } from '../errors.js';
import { probeRedis, type RedisFacts } from '../redis/probe.js';
import { sleep } from '../util/sleep.js';

export interface RedisServerOptions {
  /** Data directory (AOF, log, config). Created with mode 0700. */
  dir: string;
  /** Port; default: a free port on the bind address. */
  port?: number;
  /** Address(es) to listen on, space-separated. Default 127.0.0.1. */
  bind?: string;
  /** Default: 32 random bytes, base64url. */
  password?: string;
  /** redis-server binary. Default `redis-server` on PATH. */
  redisServer?: string;
  /** e.g. `4gb`; default: no limit (noeviction makes writes fail instead of evicting when set). */
  maxmemory?: string;
  /** Wait this long for the server to answer, ms. Default 15 000. */
  startTimeoutMs?: number;
}

export interface RunningRedis {
  port: number;
  bind: string;
  dir: string;
  password: string;
  pid: number;
  facts: RedisFacts;
  /** Resolves when the server exits, with its exit code / signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (AOF flushed), SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
  /** Last lines of the server's log (for error messages). */
  logTail(lines?: number): Promise<string>;
}

/** A free TCP port on `host` (the OS picks it). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

function firstBind(bind: string): string {
  return (bind.trim().split(/\s+/)[0] ?? '127.0.0.1').replace(/^-/, '');
}

function isWildcard(addr: string): boolean {
  return addr === '0.0.0.0' || addr === '*' || addr === '::' || addr === '::*';
}

/** The host to put in the URL for a bind address: wildcard binds advertise this machine's address. */
export function advertisedHost(bind: string): string {
  const first = firstBind(bind);
  if (isWildcard(first)) {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    }
    return hostname();
  }
  return first;
}

function confValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export async function startRedisServer(opts: RedisServerOptions): Promise<RunningRedis> {
  const dir = resolve(opts.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const bind = opts.bind ?? '127.0.0.1';
  const password = opts.password ?? randomBytes(32).toString('base64url');
  const bin = opts.redisServer ?? 'redis-server';
  const attempts = opts.port === undefined ? 3 : 1;
  let lastErr: unknown = null;
  for (let i = 0; i < attempts; i++) {
    const first = firstBind(bind);
    const port = opts.port ?? (await findFreePort(isWildcard(first) ? '0.0.0.0' : first));
    try {
      return await launch({ ...opts, dir, bind, password, bin, port });
    } catch (err) {
      lastErr = err;
      if (!(err instanceof DehbError) || !/Address already in use/i.test(err.message)) throw err;
    }
  }
  throw lastErr;
}

async function launch(o: RedisServerOptions & { dir: string; bind: string; password: string; bin: string; port: number }): Promise<RunningRedis> {
  const confPath = join(o.dir, 'redis.conf');
  const logPath = join(o.dir, 'redis.log');
  const lines = [
    `port ${o.port}`,
    `bind ${o.bind}`,
    `requirepass ${confValue(o.password)}`,
    'appendonly yes',
    'appendfsync everysec',
    'maxmemory-policy noeviction',
    'save ""',
    `dir ${confValue(o.dir)}`,
    `logfile ${confValue(logPath)}`,
    'daemonize no',
    'protected-mode yes',
  ];
  if (o.maxmemory !== undefined) lines.push(`maxmemory ${o.maxmemory}`);
  await writeFile(confPath, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(confPath, 0o600);
  const logTail = async (n = 15): Promise<string> => {
    try {
      return (await readFile(logPath, 'utf8')).trimEnd().split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  };

  let child: ChildProcess;
  try {
    child = spawn(o.bin, [confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new DehbError('E_BROKER', `cannot start ${o.bin}: ${(err as Error).message}`, { cause: err });
  }
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
  });
  const spawnError = new Promise<Error>((res) => child.once('error', res));
  let gone: string | null = null;
  void exited.then(({ code, signal }) => {
    gone = `exited (code ${code}, signal ${signal})`;
  });
  void spawnError.then((e) => {
    gone = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${o.bin} not found on PATH; install redis-server or pass --redis-server PATH` : e.message;
  });

  const first = firstBind(o.bind);
  const local = { host: isWildcard(first) ? '127.0.0.1' : first, port: o.port, db: 0, password: o.password };
  const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
  let facts: RedisFacts | null = null;
  while (facts === null) {
    if (gone !== null) {
      const tail = `${stderr}\n${await logTail()}`.trim();
      throw new DehbError('E_BROKER', `redis-server ${gone}${tail === '' ? '' : `:\n${tail}`}`);
    }
    try {
      facts = await probeRedis(local, { timeoutMs: 1_000 });
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new DehbError('E_BROKER', `redis-server did not answer on port ${o.port} within ${o.startTimeoutMs ?? 15_000} ms: ${(err as Error).message}`);
      }
      await sleep(100);
    }
  }

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  };
  return { port: o.port, bind: o.bind, dir: o.dir, password: o.password, pid: child.pid ?? -1, facts, exited, stop, logTail };
}
