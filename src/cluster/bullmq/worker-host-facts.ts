/**
 * A cluster worker's host facts: gathered with systeminformation (asynchronous calls only) when
 * the worker joins, published to Redis (redis/host-facts-store.ts) and refreshed with fresh
 * memory and load figures every `refreshMs` until the worker stops, which removes them. The CPU
 * facts are read once (si.cpu() runs several child processes: lscpu, dmidecode), a refresh reads
 * /proc/meminfo (si.mem()) and the load average only.
 * `dehb scheduler check` lists them. Publishing is best effort: a failure is logged, never fatal.
 */
import { hostname, loadavg } from 'node:os';
import si from 'systeminformation';
import type { HostFacts } from '../../protocol/host-facts.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import { closeRedis, clusterKeys, createRedis, withTimeout } from '../../redis/connection.js';
import { publishHostFacts, removeHostFacts } from '../../redis/host-facts-store.js';

export interface HostFactsPublisher {
  /** The first publication (resolves also when it failed: that was logged). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** What this machine is and how loaded it is now. */
export async function gatherHostFacts(worker: { id: string; concurrency: number; prefetch?: number }, known?: Promise<si.Systeminformation.CpuData>): Promise<HostFacts> {
  const [cpu, mem] = await Promise.all([known ?? si.cpu(), si.mem()]);
  const load1 = loadavg()[0] ?? 0;
  return {
    v: 1,
    workerId: worker.id,
    host: hostname(),
    pid: process.pid,
    cpuModel: [cpu.manufacturer, cpu.brand].filter((s) => s !== '').join(' '),
    cores: cpu.cores,
    physicalCores: cpu.physicalCores,
    memTotalBytes: mem.total,
    memAvailableBytes: mem.available,
    load1: Number.isFinite(load1) ? load1 : 0,
    concurrency: worker.concurrency,
    prefetch: worker.prefetch ?? 0,
    at: Date.now(),
  };
}

/** Starts publishing in the background; the worker does not wait for the (slowish) first gathering. */
export function startHostFacts(
  conn: ClusterConnection,
  worker: { id: string; concurrency: number; prefetch?: number },
  log: (message: string) => void,
  opts: { refreshMs?: number } = {},
): HostFactsPublisher {
  const refreshMs = opts.refreshMs ?? 10_000;
  const ttlSeconds = Math.max(2, Math.ceil((3 * refreshMs) / 1000));
  const keys = clusterKeys(conn);
  const redis = createRedis(conn.endpoint, `dehb:worker-facts:${worker.id}`);
  redis.on('error', () => undefined); // the job runtime reports Redis trouble
  let said = false;
  let stopped = false;
  const publish = async (facts: HostFacts): Promise<void> => {
    if (stopped) return;
    try {
      // commands wait for a reconnect while Redis is down: give up on this refresh instead
      const done = await withTimeout(publishHostFacts(redis, keys, facts, ttlSeconds).then(() => true), 5_000, () => false);
      if (!done) throw new Error('Redis did not answer within 5 s');
      said = false;
    } catch (err) {
      if (!said) log(`warning: cannot publish host facts: ${(err as Error).message}`);
      said = true;
    }
  };
  let cpu: Promise<si.Systeminformation.CpuData> | undefined;
  const refresh = (): Promise<void> =>
    gatherHostFacts(
      worker,
      (cpu ??= si.cpu().catch((err: unknown) => {
        cpu = undefined; // tried again at the next refresh
        throw err;
      })),
    ).then(publish, (err: unknown) => {
      if (!said) log(`warning: cannot gather host facts: ${(err as Error).message}`);
      said = true;
    });
  const ready = refresh();
  let busy: Promise<void> | null = ready.finally(() => (busy = null));
  const timer = setInterval(() => {
    busy ??= refresh().finally(() => (busy = null));
  }, refreshMs);
  timer.unref();
  return {
    ready,
    async stop() {
      stopped = true;
      clearInterval(timer);
      // never hold up a stop (Redis may be gone); a late write expires with its TTL
      if (busy !== null) await withTimeout(busy, 1_000, () => undefined);
      await withTimeout(removeHostFacts(redis, keys, worker.id), 1_000, () => undefined).catch(() => undefined);
      await closeRedis(redis);
    },
  };
}
