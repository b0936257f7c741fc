/**
 * The host facts a cluster worker publishes when it joins (CPU model, cores, memory, load; gathered
 * by cluster/bullmq/worker-host-facts.ts, stored by redis/host-facts-store.ts) and that
 * `dehb scheduler check` shows. The zod schema is the definition; facts read back from Redis are
 * validated with it.
 */
import type { z } from 'zod';
import { lazily } from './zod.js';

/** The schema, built (and zod loaded) when first used. */
export const hostFactsSchema = lazily((z) =>
  z.object({
    v: z.literal(1),
    workerId: z.string().min(1),
    host: z.string().min(1),
    pid: z.number().int(),
    cpuModel: z.string(),
    /** Logical cores. */
    cores: z.number().int().nonnegative(),
    physicalCores: z.number().int().nonnegative(),
    memTotalBytes: z.number().nonnegative(),
    memAvailableBytes: z.number().nonnegative(),
    /** 1-minute load average. */
    load1: z.number().nonnegative(),
    /** Evaluations this worker runs at once. */
    concurrency: z.number().int().positive(),
    /** Jobs it takes ahead of a free slot (--prefetch; absent from older workers: 0). */
    prefetch: z.number().int().nonnegative().optional(),
    /** When the facts were gathered (ms since the epoch). */
    at: z.number(),
  }),
);

export type HostFacts = z.infer<ReturnType<typeof hostFactsSchema>>;

/** One line for people: `node7 (pid 42): Intel Xeon, 32 cores, 62.8 of 125.6 GiB free, load 3.10, 4 at once`. */
export function describeHostFacts(f: HostFacts): string {
  const gib = (b: number): string => (b / 2 ** 30).toFixed(1);
  return (
    `${f.host} (pid ${f.pid}): ${f.cpuModel || 'unknown CPU'}, ${f.cores} cores, ` +
    `${gib(f.memAvailableBytes)} of ${gib(f.memTotalBytes)} GiB free, load ${f.load1.toFixed(2)}, ${f.concurrency} at once`
  );
}
