/**
 * Owns the programmatic ways onto a cluster: `createClusterClient(schedulerFile)` reads and checks
 * the scheduler file and the Redis it names once, then hands out executors per run
 * (`client.executor(runId, capacity)`), which is what `new DEHB({ ..., client })` uses;
 * `createClusterExecutor(options)` does the same checks for one executor.
 */
import { DehbError } from '../../errors.js';
import type { Executor } from '../../protocol/executor.js';
import { loadClusterConnection, looseModeWarning, type ClusterConnection } from '../../protocol/scheduler-file.js';
import { checkRunId, closeRedis, clusterKeys, createRedis } from '../../redis/connection.js';
import { BullmqExecutor, type ClusterExecutorOptions } from './executor.js';
import { assessRedis, probeRedis } from '../../redis/probe.js';
import { withClusterMode } from '../../redis/cluster-mode.js';
import { CLUSTER_EXECUTOR_OPTION_KEYS } from './executor-options.js';
import { rejectUnknownKeys } from '../../unknown-keys.js';
import { assertRunIdFree, type RunOwner } from '../../redis/run-claim.js';

export type ClusterClientOptions = Omit<ClusterExecutorOptions, 'schedulerFile' | 'connection' | 'runId' | 'capacity' | 'owner'>;

export interface ClusterClient {
  readonly kind: 'cluster';
  /** The fair-share weight given in the options (recorded by a new run); absent: none given. */
  readonly weight?: number;
  readonly connection: ClusterConnection;
  /** Default capacity (the scheduler file's `capacity`, else 32). */
  readonly defaultCapacity: number;
  /**
   * An executor for one run. Returned at once; it connects in the background and submissions wait
   * for it (they reject with E_BROKER if the connection fails). Close it when the run ends.
   */
  executor(runId: string, capacity?: number, owner?: RunOwner, opts?: { weight?: number }): Executor;
  /** A fresh run's check before it creates anything: E_USAGE (with the --resume hint) when the id is in use here. */
  assertRunIdFree(runId: string): Promise<void>;
  /** Nothing to release (each executor owns its connections); present for symmetry. */
  close(): Promise<void>;
}

/** Reads `schedulerFile`, checks that Redis answers, and returns a client. E_SCHEDULER_FILE / E_BROKER. */
export async function createClusterClient(schedulerFile: string, opts: ClusterClientOptions = {}): Promise<ClusterClient> {
  const { schedulerFile: _f, connection: _c, runId: _r, capacity: _n, owner: _o, ...clientKeys } = CLUSTER_EXECUTOR_OPTION_KEYS;
  rejectUnknownKeys(opts, clientKeys, 'createClusterClient(schedulerFile, options)');
  const log = opts.log ?? defaultLog;
  const connection = await checkBroker(await loadClusterConnection(schedulerFile), schedulerFile, opts.connectTimeoutMs, log);
  return {
    kind: 'cluster',
    connection,
    ...(opts.weight === undefined ? {} : { weight: opts.weight }),
    defaultCapacity: connection.capacity ?? 32,
    executor(runId: string, capacity?: number, owner?: RunOwner, run: { weight?: number } = {}): Executor {
      const o = {
        ...opts,
        runId,
        ...(capacity === undefined ? {} : { capacity }),
        ...(owner === undefined ? {} : { owner }),
        ...(run.weight === undefined ? {} : { weight: run.weight }),
      };
      return new BullmqExecutor(connection, checkRunId(runId), o, log);
    },
    async assertRunIdFree(runId: string): Promise<void> {
      const redis = createRedis(connection.endpoint, 'dehb:run-id-check', { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      try {
        await assertRunIdFree(redis, clusterKeys(connection), checkRunId(runId), connection.source);
      } finally {
        await closeRedis(redis);
      }
    },
    async close(): Promise<void> {},
  };
}

/** Creates a connected cluster executor. Throws E_BROKER when Redis cannot be reached. */
export async function createClusterExecutor(opts: ClusterExecutorOptions): Promise<BullmqExecutor> {
  rejectUnknownKeys(opts, CLUSTER_EXECUTOR_OPTION_KEYS, 'createClusterExecutor(options)');
  const runId = checkRunId(opts.runId);
  let conn = opts.connection;
  if (conn === undefined) {
    if (opts.schedulerFile === undefined) {
      throw new DehbError('E_CONFIG', 'createClusterExecutor needs schedulerFile or connection');
    }
    conn = await loadClusterConnection(opts.schedulerFile);
  }
  const log = opts.log ?? defaultLog;
  conn = await checkBroker(conn, opts.schedulerFile, opts.connectTimeoutMs, log);
  const exec = new BullmqExecutor(conn, runId, opts, log);
  await exec.ready;
  return exec;
}

function defaultLog(message: string): void {
  process.stderr.write(`dehb: ${message}\n`);
}

/**
 * The checks both factories make before connecting: a scheduler file others can read is warned
 * about; a Redis that is too old is refused (E_BROKER); a policy that may evict jobs is warned about.
 * Returns the connection to use: on a Redis Cluster (said or detected), a cluster one with a
 * hash-tagged prefix.
 */
async function checkBroker(conn: ClusterConnection, schedulerFile: string | undefined, timeoutMs: number | undefined, log: (m: string) => void): Promise<ClusterConnection> {
  const loose = schedulerFile === undefined ? null : await looseModeWarning(schedulerFile);
  if (loose !== null) log(`warning: ${loose}`);
  const facts = await probeRedis(conn.endpoint, { timeoutMs: timeoutMs ?? 10_000 });
  for (const f of assessRedis(facts)) {
    if (f.level === 'error' && f.what === 'version') throw new DehbError('E_BROKER', f.message);
    if (f.level !== 'ok' && f.what === 'maxmemory-policy') log(`warning: ${f.message}`);
  }
  return withClusterMode(conn, facts.clusterEnabled);
}
