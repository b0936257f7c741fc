// Conformance of the bullmq backend: a real Redis (127.0.0.1:6379, unique prefix per test), the
// cluster executor as coordinator and an in-process `dehb worker` runtime with capacity 2.
import { dirname } from 'node:path';
import { createClusterExecutor } from '../../src/cluster/bullmq/executor.js';
import { startClusterWorker } from '../../src/cluster/bullmq/worker-runtime.js';
import { cleanupPrefix, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, runExecutorConformance } from './executor.conformance.js';

const quiet = (): void => undefined;

for (const kind of ['module', 'command'] as const) {
  runExecutorConformance(`bullmq (real Redis, in-process worker, ${kind} objective, capacity 2)`, async (fx) => {
    const prefix = uniquePrefix('conf');
    const connection = sharedConnection(prefix);
    const objective = kind === 'module' ? fx.module : fx.command;
    const worker = await startClusterWorker({
      connection,
      concurrency: 2,
      gpus: 'none',
      allow: [FIXTURE_DIR, dirname(process.execPath)],
      graceMs: 500,
      log: quiet,
    });
    const executor = await createClusterExecutor({ connection, runId: 'conformance', capacity: 2, log: quiet });
    return {
      executor,
      objective,
      cleanup: async () => {
        await worker.stop({ graceMs: 200 });
        await cleanupPrefix(prefix);
      },
    };
  });
}
