/**
 * The public `createClusterClient`: the cluster backend (bullmq, ioredis: some 300 modules) is
 * loaded when a client is made, not when the package is imported, so `import { DEHB } from
 * 'dehb'` for a local run costs what the local run needs.
 */
import type { ClusterClient, ClusterClientOptions } from '../cluster/bullmq/client.js';

export type { ClusterClientOptions };

/** Reads `schedulerFile`, checks that Redis answers, and returns a client. E_SCHEDULER_FILE / E_BROKER. */
export async function createClusterClient(schedulerFile: string, opts: ClusterClientOptions = {}): Promise<ClusterClient> {
  const backend = await import('../cluster/bullmq/client.js');
  return backend.createClusterClient(schedulerFile, opts);
}
