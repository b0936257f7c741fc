/**
 * Owns starting a cluster worker (`dehb worker`): wait for the scheduler file and for Redis (with
 * back-off; wrong credentials fail at once), build the allow-list and this node's GPU pool, pick
 * the concurrency, and start the job runtime (worker-lifecycle.ts).
 */
import { availableParallelism } from 'node:os';
import { DehbError } from '../../errors.js';
import { GpuAllocator } from '../../gpu/allocator.js';
import { resolveGpuPool } from '../../gpu/discover.js';
import { connectionFromSchedulerFile, looseModeWarning, waitForSchedulerFile, type ClusterConnection } from '../../protocol/scheduler-file.js';
import { ObjectivePolicy } from './allow-list.js';
import { assessRedis, probeRedis } from '../../redis/probe.js';
import { isPermanentRedisError } from '../../redis/tls-errors.js';
import { withClusterMode } from '../../redis/cluster-mode.js';
import { WorkerRuntime } from './worker-lifecycle.js';
import type { ClusterWorker, ClusterWorkerOptions } from './worker-options.js';
import { createThreadedEvaluator } from './threaded-evaluate.js';
import { TrialDirs } from './trial-dirs.js';
import { startHostFacts } from './worker-host-facts.js';
import { sleep } from '../../util/sleep.js';

export type { ClusterWorker, ClusterWorkerOptions } from './worker-options.js';

export async function startClusterWorker(o: ClusterWorkerOptions): Promise<ClusterWorker> {
  const log = o.log ?? ((m: string) => process.stderr.write(`dehb worker: ${m}\n`));
  const waitMs = o.waitMs ?? 120_000;
  let conn = o.connection;
  if (conn === undefined) {
    if (o.schedulerFile === undefined) throw new DehbError('E_CONFIG', 'a worker needs --scheduler-file');
    let said = false;
    const file = await waitForSchedulerFile(o.schedulerFile, {
      timeoutMs: waitMs,
      onWait: () => {
        if (!said) log(`waiting for scheduler file ${o.schedulerFile} ...`);
        said = true;
      },
    });
    conn = await connectionFromSchedulerFile(file, o.schedulerFile);
    const loose = await looseModeWarning(o.schedulerFile);
    if (loose !== null) log(`warning: ${loose}`);
  }
  conn = withClusterMode(conn, await waitForRedis(conn, waitMs, log));
  const policy = await ObjectivePolicy.create({
    ...(o.objective === undefined ? {} : { objective: o.objective }),
    ...(o.command === undefined ? {} : { command: o.command }),
    ...(o.allow === undefined ? {} : { allow: o.allow }),
  });
  if (policy.allowsNothing) log('warning: no objective is allowed; every trial will fail. Start with --allow DIR, --objective MODULE or --command CMD');
  const devices = o.gpuDevices ?? (await resolveGpuPool(o.gpus ?? 'auto')).devices;
  const allocator = await GpuAllocator.create({ devices, gpusPerTrial: o.gpusPerTrial ?? 1 });
  const perTrial = Math.max(1, o.gpusPerTrial ?? 1);
  const concurrency = o.concurrency ?? (devices.length > 0 ? Math.max(1, Math.floor(devices.length / perTrial)) : 1);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new DehbError('E_CONFIG', `concurrency must be an integer >= 1 (got ${concurrency})`);
  }
  if (o.prefetch !== undefined && (!Number.isInteger(o.prefetch) || o.prefetch < 0)) {
    throw new DehbError('E_CONFIG', `prefetch must be an integer >= 0 (got ${o.prefetch})`);
  }

  // module objectives run in threads unless the caller evaluates itself or opts out: one thread
  // per evaluation asked for, so --concurrency N runs N at once (an objective that sleeps or waits
  // on I/O or a GPU does not need a core of its own); more than the cores is allowed, said once
  const threaded = o.evaluate === undefined && o.threads !== false ? createThreadedEvaluator(concurrency) : null;
  const cores = availableParallelism();
  if (concurrency > cores) {
    log(`warning: --concurrency ${concurrency} is above this node's ${cores} cores; ${concurrency} evaluations run at once and CPU-bound ones share the cores`);
  }
  const dirs = await TrialDirs.create(o.trialsDir);
  const own = o.evaluate === undefined; // runTask or the thread pool: both honour ctx.lazyTrialDir
  const runtime = new WorkerRuntime(conn, { ...o, lazyTrialDirs: own, ...(threaded === null ? {} : { evaluate: threaded.evaluate }) }, policy, allocator, dirs, concurrency, log);
  // started now when module objectives may come: booting the threads (tens of ms of CPU each)
  // would otherwise fall on the first trials of the first run
  if (policy.allowsModules) threaded?.warm();
  try {
    await runtime.start();
  } catch (err) {
    await threaded?.close();
    await dirs.close();
    throw err;
  }
  // published for `dehb scheduler check`, and the coordinators' count of worker slots (batches.ts)
  const hostFacts = startHostFacts(conn, { id: runtime.id, concurrency, prefetch: o.prefetch ?? 0 }, log);
  // once: a later call only cuts the grace short ({ graceMs: 0 }) and waits for the same shutdown
  const stop = runtime.stop.bind(runtime);
  let stopped: Promise<void> | undefined;
  runtime.stop = (opts) => {
    const jobs = stop(opts);
    stopped ??= (async () => {
      await jobs;
      await threaded?.close();
      await dirs.close();
      await hostFacts.stop();
    })();
    return stopped;
  };
  return runtime;
}

/** Waits until Redis answers; true when it is a Redis Cluster node. */
async function waitForRedis(conn: ClusterConnection, waitMs: number, log: (m: string) => void): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  let delay = 250;
  for (let said = false; ; ) {
    try {
      const facts = await probeRedis(conn.endpoint, { timeoutMs: 5_000 });
      for (const f of assessRedis(facts)) {
        if (f.level === 'error' && f.what === 'version') throw new DehbError('E_BROKER', f.message);
        if (f.level !== 'ok' && f.what === 'maxmemory-policy') log(`warning: ${f.message}`);
      }
      return facts.clusterEnabled;
    } catch (err) {
      if (isPermanentRedisError(err) || Date.now() + delay > deadline) throw err;
      if (!said) log(`waiting for Redis: ${(err as Error).message}`);
      said = true;
      await sleep(delay);
      delay = Math.min(5_000, delay * 2);
    }
  }
}
