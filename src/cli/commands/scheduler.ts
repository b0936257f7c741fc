/**
 * Owns `dehb scheduler start|init|check` (and registers `runs` and `forget`, scheduler-runs.ts): start a redis-server suited for a cluster and publish
 * its scheduler file (foreground until SIGINT/SIGTERM), write a scheduler file for a Redis that
 * already runs, and diagnose a file plus the server it names. Human text on stderr, `--json` on
 * stdout; problems are DehbErrors (E_USAGE, E_CONFIG, E_SCHEDULER_FILE, E_BROKER).
 */
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { intFlag } from '../flags.js';
import { registerRunsCommands } from './scheduler-runs.js';
import type { Finding } from '../../redis/probe.js';
import type { SchedulerFile } from '../../protocol/scheduler-file.js';

/** The backends of these commands, loaded when one runs (so `dehb --help` stays cheap). */
async function backends() {
  const [inspect, probe, server, file, url] = await Promise.all([
    import('../../redis/inspect.js'),
    import('../../redis/probe.js'),
    import('../../cluster/redis-server.js'),
    import('../../protocol/scheduler-file.js'),
    import('../../protocol/redis-url.js'),
  ]);
  return { ...inspect, ...probe, ...server, ...file, ...url };
}

export interface SchedulerCommandIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env?: NodeJS.ProcessEnv;
  /** Stops `scheduler start` (tests); by default SIGINT/SIGTERM do. */
  stopSignal?: AbortSignal;
}

interface CommonFlags {
  schedulerFile: string;
  json?: boolean;
}


/** Adds `dehb scheduler` and its subcommands. `io` is for tests. */
export function registerSchedulerCommand(program: Command, io?: SchedulerCommandIo): Command {
  const out = (): SchedulerCommandIo => io ?? { stdout: process.stdout, stderr: process.stderr };
  const sched = program.command('scheduler').description('set up the Redis a cluster run and its workers meet through');

  sched
    .command('start')
    .description('start a redis-server for the cluster, write the scheduler file, and run until Ctrl-C')
    .requiredOption('--scheduler-file <file>', 'where to write the scheduler file (use a path workers can read)')
    .option('--port <port>', 'port to listen on (default: a free port)')
    .option('--bind <addr>', 'address(es) to listen on; 0.0.0.0 for other machines', '127.0.0.1')
    .option('--host <host>', 'host name workers use to reach this server (default: from --bind)')
    .option('--dir <dir>', 'data directory for the AOF and log (default: <scheduler-file>.redis)')
    .option('--prefix <prefix>', 'BullMQ key prefix', 'dehb')
    .option('--queue <name>', 'queue name', 'evals')
    .option('--capacity <n>', 'default evaluations in flight for coordinators using this file')
    .option('--maxmemory <size>', 'Redis memory limit, e.g. 4gb (default: none)')
    .option('--redis-server <path>', 'redis-server binary', 'redis-server')
    .option('--json', 'print the connection summary as JSON on stdout')
    .action(async (flags: CommonFlags & Record<string, string | undefined>) => startCommand(flags, out()));

  sched
    .command('init')
    .description('write a scheduler file for a Redis that already runs')
    .requiredOption('--scheduler-file <file>', 'where to write the scheduler file')
    .requiredOption('--redis-url <url>', 'redis://[user:password@]host:port/db or rediss:// (password may come from DEHB_REDIS_PASSWORD)')
    .option('--prefix <prefix>', 'BullMQ key prefix (use {name} on Redis Cluster)', 'dehb')
    .option('--queue <name>', 'queue name', 'evals')
    .option('--capacity <n>', 'default evaluations in flight for coordinators using this file')
    .option('--tls-ca <file>', 'CA certificate for rediss:// (path readable on every machine)')
    .option('--force', 'overwrite an existing file')
    .option('--no-check', 'do not contact the server')
    .option('--json', 'print the file path and redacted URL as JSON on stdout')
    .action(async (flags: CommonFlags & Record<string, string | boolean | undefined>) => initCommand(flags, out()));

  sched
    .command('check')
    .description('validate a scheduler file and the Redis it names, and say what is wrong')
    .requiredOption('--scheduler-file <file>', 'the scheduler file')
    .option('--timeout <ms>', 'connection timeout in ms', '5000')
    .option('--json', 'print the findings as JSON on stdout')
    .action(async (flags: CommonFlags & { timeout: string }) => {
      const io2 = out();
      const path = resolve(flags.schedulerFile);
      const { checkScheduler } = await backends();
      const r = await checkScheduler(path, { timeoutMs: intFlag(flags.timeout, '--timeout', 1) ?? 5000 });
      if (flags.json === true) io2.stdout.write(`${JSON.stringify(r)}\n`);
      io2.stderr.write(`${path}\n${formatFindings(r.findings)}`);
      if (!r.ok) {
        const errors = r.findings.filter((f) => f.level === 'error');
        const fileProblem = errors.some((f) => f.what === 'scheduler file');
        throw new DehbError(fileProblem ? 'E_SCHEDULER_FILE' : 'E_BROKER', `scheduler check failed: ${errors.map((f) => f.message).join('; ')}`);
      }
    });
  registerRunsCommands(sched, out);
  return sched;
}

export function formatFindings(findings: Finding[]): string {
  const tag = { ok: 'ok   ', warn: 'WARN ', error: 'ERROR' } as const;
  return findings.map((f) => `  ${tag[f.level]} ${f.what}: ${f.message}\n`).join('');
}

async function startCommand(flags: CommonFlags & Record<string, string | undefined>, io: SchedulerCommandIo): Promise<void> {
  const { advertisedHost, formatRedisUrl, makeSchedulerFile, parseRedisUrl, redactRedisUrl, startRedisServer, writeSchedulerFile } = await backends();
  const file = resolve(flags.schedulerFile);
  const stale = await refuseIfLive(file);
  const port = intFlag(flags.port, '--port', 1);
  const capacity = intFlag(flags.capacity, '--capacity', 1);
  const bind = flags.bind ?? '127.0.0.1';
  const dir = resolve(flags.dir ?? `${file}.redis`);
  // A crashed server of this file and data dir: come back on its password (and port, if free and
  // not overridden) so workers still holding the old file reconnect by themselves; the AOF in the
  // data dir brings the queue back.
  const prev = stale?.server !== undefined && resolve(stale.server.dir) === dir ? parseRedisUrl(stale.redisUrl) : null;
  const reusePort = port === undefined && prev !== null && (await portIsFree(prev.port, bind)) ? prev.port : port;
  const server = await startRedisServer({
    dir,
    bind,
    ...(reusePort === undefined ? {} : { port: reusePort }),
    ...(prev?.password === undefined ? {} : { password: prev.password }),
    ...(flags.maxmemory === undefined ? {} : { maxmemory: flags.maxmemory }),
    ...(flags.redisServer === undefined ? {} : { redisServer: flags.redisServer }),
  });
  if (prev !== null) {
    io.stderr.write(
      `restarted the server of ${file} (data in ${dir}) with its previous password${server.port === prev.port ? ' and port' : ''}; ` +
        `${server.port === prev.port ? 'running workers reconnect by themselves' : 'restart workers: the port changed'}\n`,
    );
  }
  const host = flags.host ?? advertisedHost(bind);
  let body: SchedulerFile;
  try {
    body = makeSchedulerFile({
      redisUrl: formatRedisUrl({ host, port: server.port, password: server.password, db: 0 }),
      prefix: flags.prefix ?? 'dehb',
      queue: flags.queue ?? 'evals',
      ...(capacity === undefined ? {} : { capacity }),
      server: { pid: server.pid, port: server.port, bind, dir },
    });
    await writeSchedulerFile(file, body);
  } catch (err) {
    await server.stop();
    throw err;
  }
  const summary = { schedulerFile: file, redisUrl: redactRedisUrl(body.redisUrl), version: server.facts.version, port: server.port, pid: server.pid, dir };
  if (flags.json === true) io.stdout.write(`${JSON.stringify(summary)}\n`);
  io.stderr.write(
    `Redis ${server.facts.version} listening on ${bind}:${server.port} (pid ${server.pid}; AOF on, noeviction, password set; data in ${dir})\n` +
      `scheduler file: ${file} (mode 600)\n` +
      `start workers:  dehb worker --scheduler-file ${file} --allow DIR\n` +
      `run:            dehb run --cluster --scheduler-file ${file} ...\n` +
      'Ctrl-C stops Redis.\n',
  );

  const why = await new Promise<'signal' | 'exited'>((done) => {
    const onSignal = (): void => done('signal');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    io.stopSignal?.addEventListener('abort', onSignal, { once: true });
    void server.exited.then(() => done('exited'));
    void server.exited.finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });
  });
  if (why === 'signal') io.stderr.write('stopping Redis (the AOF is flushed) ...\n');
  await server.stop();
  if (why === 'exited') {
    // the file stays: a new `scheduler start` with it reuses password and port (see above)
    const tail = await server.logTail();
    throw new DehbError('E_BROKER', `redis-server exited unexpectedly${tail === '' ? '' : `; last log lines:\n${tail}`}`);
  }
  await removeIfOurs(file, body);
  io.stderr.write(`Redis stopped; removed ${file}\n`);
}

/** Throws when the file names a Redis that answers; returns the file when it is stale. */
async function refuseIfLive(file: string): Promise<SchedulerFile | null> {
  const { parseRedisUrl, probeRedis, readSchedulerFile, redactRedisUrl } = await backends();
  if (!existsSync(file)) return null;
  let existing: SchedulerFile;
  try {
    existing = await readSchedulerFile(file);
  } catch {
    return null; // unreadable or invalid: overwrite it
  }
  try {
    await probeRedis(parseRedisUrl(existing.redisUrl), { timeoutMs: 1_000 });
  } catch {
    return existing; // stale: nothing answers
  }
  const pid = existing.server === undefined ? '' : ` (redis-server pid ${existing.server.pid})`;
  throw new DehbError(
    'E_USAGE',
    `${file} already names a Redis that answers${pid} at ${redactRedisUrl(existing.redisUrl)}; stop it first or choose another --scheduler-file`,
  );
}

function portIsFree(port: number, bind: string): Promise<boolean> {
  const host = bind.trim().split(/\s+/)[0]?.replace(/^-/, '') ?? '127.0.0.1';
  return new Promise((done) => {
    const srv = createServer();
    srv.once('error', () => done(false));
    srv.listen(port, host === '*' ? '0.0.0.0' : host, () => srv.close(() => done(true)));
  });
}

async function removeIfOurs(file: string, body: SchedulerFile): Promise<void> {
  const { readSchedulerFile } = await backends();
  try {
    const now = await readSchedulerFile(file);
    if (now.createdAt === body.createdAt && now.redisUrl === body.redisUrl) await unlink(file);
  } catch {
    // already gone or replaced
  }
}

async function initCommand(flags: CommonFlags & Record<string, string | boolean | undefined>, io: SchedulerCommandIo): Promise<void> {
  const { assessRedis, connectionFromSchedulerFile, formatRedisUrl, makeSchedulerFile, parseRedisUrl, probeRedis, redactRedisUrl, writeSchedulerFile } = await backends();
  const file = resolve(flags.schedulerFile);
  let url = String(flags.redisUrl);
  const env = io.env ?? process.env;
  const ep = parseRedisUrl(url, '--redis-url');
  const envPassword = env.DEHB_REDIS_PASSWORD;
  if (ep.password === undefined && envPassword !== undefined && envPassword !== '') {
    url = formatRedisUrl({ ...ep, password: envPassword, tls: ep.tls !== undefined });
  }
  if (existsSync(file) && flags.force !== true) {
    throw new DehbError('E_USAGE', `${file} exists; pass --force to overwrite it`);
  }
  const capacity = intFlag(flags.capacity as string | undefined, '--capacity', 1);
  const caFile = flags.tlsCa as string | undefined;
  const body = makeSchedulerFile({
    redisUrl: url,
    prefix: String(flags.prefix ?? 'dehb'),
    queue: String(flags.queue ?? 'evals'),
    ...(capacity === undefined ? {} : { capacity }),
    ...(caFile === undefined ? {} : { tls: { caFile: resolve(caFile) } }),
  });
  await writeSchedulerFile(file, body);
  io.stderr.write(`wrote ${file} (mode 600) for ${redactRedisUrl(url)}\n`);
  if (flags.check === false) return;
  try {
    const conn = await connectionFromSchedulerFile(body, file);
    const findings = assessRedis(await probeRedis(conn.endpoint, { timeoutMs: 5_000 }));
    io.stderr.write(formatFindings(findings));
  } catch (err) {
    io.stderr.write(`  WARN connection: ${(err as Error).message} (the file is written; fix the server, then run \`dehb scheduler check\`)\n`);
  }
  if (flags.json === true) io.stdout.write(`${JSON.stringify({ schedulerFile: file, redisUrl: redactRedisUrl(url) })}\n`);
}
