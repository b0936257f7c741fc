// Optimize from code with the DEHB class: a module objective on 2 worker threads, journaled to a
// run directory, then resumed with more budget. Run after `npm run build`:
//   node examples/library/optimize.mjs [fevals]
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEHB, param } from 'dehb';

const fevals = Number(process.argv[2] ?? 120);
const space = {
  lr: param.float(1e-5, 0.1, { log: true }),
  units: param.int(16, 512, { log: true }),
  act: param.categorical(['relu', 'tanh', 'gelu']),
  batch: param.ordinal([32, 64, 128]),
  opt: param.categorical(['sgd', 'adam']),
  momentum: param.float(0, 0.99, { condition: { parent: 'opt', in: ['sgd'] } }),
  seed: param.constant(7),
};
const objective = new URL('../quickstart/objective.mjs', import.meta.url);
const outputDir = await mkdtemp(join(tmpdir(), 'dehb-example-'));

const dehb = new DEHB({ space, objective, nWorkers: 2, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1, outputDir });
const first = await dehb.run({ fevals: Math.floor(fevals / 2) });
console.log(`after ${first.history.length} trials: best ${first.incumbent?.fitness.toFixed(4)}`);

// a new process would do exactly this to continue the run from its journal
const resumed = new DEHB({ outputDir, resume: true, objective, nWorkers: 2 });
const result = await resumed.run({ fevals: fevals - Math.floor(fevals / 2) });
console.log(`after ${result.history.length} trials: best ${result.incumbent?.fitness.toFixed(4)}`);
console.log(JSON.stringify({ trials: result.history.length, incumbent: result.incumbent, outputDir }));
