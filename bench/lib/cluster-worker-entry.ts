/**
 * A `dehb worker` process for bench/cluster.ts: starts the cluster worker runtime with the JSON
 * options in argv[2] and stops it on SIGTERM (prints one JSON line with its stats on exit).
 */
import { startClusterWorker, type ClusterWorkerOptions } from '../../src/cluster/bullmq/worker-runtime.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as ClusterWorkerOptions;
const worker = await startClusterWorker({ ...opts, log: (m) => process.stderr.write(`worker ${process.pid}: ${m}\n`) });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker.stop({ graceMs: 1_000 }).then(() => {
    process.stdout.write(`${JSON.stringify(worker.stats)}\n`);
    setTimeout(() => process.exit(0), 200).unref();
  });
});
