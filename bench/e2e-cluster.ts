/**
 * `npm run bench:e2e-cluster [-- --cluster-evals 6000 --profile-evals 2000 --seq-evals 200 --delay-evals 800]`
 *
 * Only the cluster rows of bench:e2e (bench/lib/cluster-e2e.ts): throughput through the CLI against
 * redis-benchmark on the same private Redis, commands and requests per trial, round trips on a
 * trial's critical path, and the +10 ms round-trip row. Child processes run dist/ (built first).
 * Prints a table and, last, one JSON line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intFlag, parseFlags } from './lib/args.js';
import { formatTable } from './lib/table.js';
import { clusterE2eOptions, clusterRows, measureClusterE2e } from './lib/cluster-e2e.js';

const v = parseFlags({
  'cluster-evals': { type: 'string' },
  'profile-evals': { type: 'string' },
  'seq-evals': { type: 'string' },
  'delay-evals': { type: 'string' },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'dehb-e2e-cluster-'));
const spaceFile = join(work, 'space.json');
writeFileSync(spaceFile, JSON.stringify(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]))));
const evals = intFlag(v, 'cluster-evals', 6_000, 100);
const o = clusterE2eOptions({
  cli: join(root, 'dist', 'cli', 'main.js'),
  root,
  spaceFile,
  evals,
  profileEvals: intFlag(v, 'profile-evals', Math.min(evals, 2_000), 50),
  seqEvals: intFlag(v, 'seq-evals', 200, 20),
  delayEvals: intFlag(v, 'delay-evals', 800, 50),
});
const load = loadavg()[0] ?? 0;
try {
  const cl = await measureClusterE2e(o);
  console.log(`bench:e2e-cluster on ${cpus().length} cores, load ${load.toFixed(2)} at start (${(loadavg()[0] ?? 0).toFixed(2)} at end), node ${process.version}`);
  console.log(formatTable(['path', 'measured', 'target'], clusterRows(cl, o)));
  console.log(JSON.stringify({ bench: 'e2e-cluster', cores: cpus().length, load, ...cl }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
