/**
 * `npm run bench:throughput`: evaluations per second through each local backend with a trivial
 * objective — inline, piscina with 2 and 4 threads, and command objectives (a no-op `node -e`
 * child) against a bare spawn of the same child — plus the per-evaluation overhead over the
 * optimizer alone. Prints a table and, last, one JSON line.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEHB } from '../src/api/dehb.js';
import { ask, createState, tell } from '../src/dehb/optimizer.js';
import type { SpaceSpec } from '../src/dehb/types.js';
import { spawnOnce } from './lib/spawn.js';

const { values } = parseArgs({
  options: {
    evals: { type: 'string', default: '20000' },
    'command-evals': { type: 'string', default: '200' },
  },
});
const N = Number(values.evals);
const NC = Number(values['command-evals']);
const space: SpaceSpec = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]));
const base = { space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1 };
const noopModule = fileURLToPath(new URL('./fixtures/noop-objective.mjs', import.meta.url));
const childArgv = [process.execPath, '-e', 'process.stdout.write("DEHB_RESULT {\\"fitness\\":1}\\n")'];

function optimizerAlone(n: number): number {
  const state = createState(base);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = ask(state);
    if (!('job' in r)) throw new Error('no job');
    tell(state, r.job.trialId, { status: 'ok', fitness: Number(r.job.config.x0) });
  }
  return (performance.now() - t0) / n; // ms per pair
}

async function viaDehb(label: string, opts: ConstructorParameters<typeof DEHB>[0], n: number): Promise<Row> {
  const dehb = new DEHB(opts);
  await dehb.run({ fevals: Math.min(200, n) }); // warm-up (threads, JIT)
  const t0 = performance.now();
  await dehb.run({ fevals: n });
  const ms = performance.now() - t0;
  return { label, evals: n, perSec: (n / ms) * 1000, usPerEval: (ms / n) * 1000 };
}

async function bareSpawn(n: number, parallel: number): Promise<Row> {
  const one = (): Promise<void> => spawnOnce(childArgv);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < n) await one();
    }),
  );
  const ms = performance.now() - t0;
  return { label: `bare spawn, ${parallel} in parallel`, evals: n, perSec: (n / ms) * 1000, usPerEval: (ms / n) * 1000 };
}

interface Row {
  label: string;
  evals: number;
  perSec: number;
  usPerEval: number;
}

const optMs = optimizerAlone(N);
const rows: Row[] = [];
rows.push({ label: 'optimizer alone (ask+tell)', evals: N, perSec: 1000 / optMs, usPerEval: optMs * 1000 });
rows.push(await viaDehb('inline (function, nWorkers 1)', { ...base, objective: (c) => Number(c.x0) }, N));
rows.push(await viaDehb('inline (module, nWorkers 1)', { ...base, objective: noopModule }, N));
rows.push(await viaDehb('piscina, 2 threads', { ...base, objective: noopModule, nWorkers: 2 }, N));
rows.push(await viaDehb('piscina, 4 threads', { ...base, objective: noopModule, nWorkers: 4 }, N));
rows.push(await viaDehb('command (node -e), 2 children', { ...base, objective: { command: childArgv }, nWorkers: 2 }, NC));
rows.push(await bareSpawn(NC, 2));

console.log('backend'.padEnd(36), 'evals'.padStart(7), 'evals/s'.padStart(10), 'µs/eval'.padStart(10), 'overhead µs'.padStart(12));
for (const r of rows) {
  const overhead = r.usPerEval - optMs * 1000;
  console.log(r.label.padEnd(36), String(r.evals).padStart(7), r.perSec.toFixed(0).padStart(10), r.usPerEval.toFixed(1).padStart(10), overhead.toFixed(1).padStart(12));
}
const cmd = rows.find((r) => r.label.startsWith('command'));
const bare = rows.find((r) => r.label.startsWith('bare'));
console.log(`command objectives vs bare spawn: ${((cmd?.usPerEval ?? 0) / (bare?.usPerEval ?? 1)).toFixed(2)}x the time per evaluation`);
console.log('reference DEHB for comparison on this kind of machine: Dask with 2 workers 17–49 evals/s; 1-worker loop 339–836/s');
console.log(JSON.stringify({ optimizerUsPerPair: optMs * 1000, rows: rows.map((r) => ({ ...r, perSec: Math.round(r.perSec), usPerEval: Number(r.usPerEval.toFixed(1)) })) }));
