// Conformance of the bullmq backend: a real Redis (the test run's shared one, unique prefix per test), the
// cluster executor as coordinator and an in-process `dehb worker` runtime with capacity 2.
import { dirname } from 'node:path';
import { after } from 'node:test';
import { createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { startClusterWorker } from '../../src/cluster/bullmq/worker-runtime.js';
import { cleanupPrefix, sharedConnection, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, runExecutorConformance } from './executor.conformance.js';

const quiet = (): void => undefined;
const prefixes: string[] = [];
// cleaned at the end: a worker closed a moment ago may still recreate its queue's meta key
after(async () => {
  for (const p of prefixes) await cleanupPrefix(p);
});

// the third: trials submitted together go as batch jobs of up to 2 (--trials-per-job 2)
for (const [kind, trialsPerJob] of [['module', undefined], ['command', undefined], ['module', 2]] as const) {
  runExecutorConformance(`bullmq (real Redis, in-process worker, ${kind} objective, capacity 2${trialsPerJob === undefined ? '' : `, ${trialsPerJob} trials per job`})`, async (fx) => {
    const prefix = uniquePrefix('conf');
    prefixes.push(prefix);
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
    const executor = await createClusterExecutor({ connection, runId: 'conformance', capacity: 2, log: quiet, ...(trialsPerJob === undefined ? {} : { trialsPerJob }) }).catch(async (err: unknown) => {
      await worker.stop({ graceMs: 0 }); // never leave a live worker behind (it would keep the process alive)
      throw err;
    });
    return {
      executor,
      objective,
      cleanup: async () => {
        await worker.stop({ graceMs: 200 });
      },
    };
  });
}
