/**
 * `npm run bench:yahpo -- [--tasks 3945,7593,34539,126025,146212,168908] [--seeds 10] [--budget 100]
 *  [--workers 1] [--modes dehb,dehb-max,random,async] [--references 20000] [--master-seed 0]`
 *
 * DEHB against random search at epoch 52 (and the asynchronous schedule when the optimizer has it)
 * on the YAHPO Gym LCBench surrogate (../shared/benchmarks/yahpo-lcbench, run by onnxruntime-node,
 * a development dependency). Per task and mode: regret of the final incumbent (percentage points of
 * validation accuracy below the best of --references random configurations at epoch 52) over
 * --seeds seeds, and two-sided Mann-Whitney p-values against `dehb`. Every run gets the same
 * budget in epochs (--budget x 52). Last line: one JSON object with every figure.
 */
import { DehbError } from '../src/errors.js';
import { intFlag, parseFlags, strFlag } from './lib/args.js';
import { mannWhitneyU } from './lib/mwu.js';
import { mean, median, popStd } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { LcbenchSurrogate, lcbenchSpace } from './lib/yahpo-lcbench.js';
import { MODES, asyncSupported, runTask, type Mode, type TaskOutcome } from './lib/yahpo-run.js';

const TASKS = ['3945', '7593', '34539', '126025', '146212', '168908'];
const USAGE = `usage: npm run bench:yahpo -- [--tasks ${TASKS.join(',')}] [--seeds 10] [--budget 100]
  [--workers 1] [--modes ${MODES.join(',')}] [--references 20000] [--master-seed 0]`;

const MODE_TEXT: Record<Mode, string> = {
  dehb: 'dehb (reference rules)',
  'dehb-max': "dehb, incumbent 'max-fidelity'",
  random: 'random search @52',
  async: "dehb, schedule 'async'",
};

function cell(xs: number[]): string {
  return `${mean(xs).toFixed(3)} ± ${popStd(xs).toFixed(3)} (med ${median(xs).toFixed(3)})`;
}

function pValue(a: number[], b: number[]): string {
  const p = mannWhitneyU(a, b).p;
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

function render(results: TaskOutcome[], modes: readonly Mode[], seeds: number): string {
  const others = modes.filter((m) => m !== 'dehb');
  const header = ['task (ref acc %)', ...modes.map((m) => m), ...(modes.includes('dehb') ? others.map((m) => `p dehb vs ${m}`) : [])];
  const regrets = (t: TaskOutcome, m: Mode) => t.runs.filter((r) => r.mode === m).map((r) => r.regret);
  const rows = results.map((t) => [
    `${t.task} (${t.referenceAccuracy.toFixed(2)})`,
    ...modes.map((m) => cell(regrets(t, m))),
    ...(modes.includes('dehb') ? others.map((m) => pValue(regrets(t, 'dehb'), regrets(t, m))) : []),
  ]);
  const all = (m: Mode) => results.flatMap((t) => regrets(t, m));
  rows.push([
    'all tasks',
    ...modes.map((m) => cell(all(m))),
    ...(modes.includes('dehb') ? others.map((m) => pValue(all('dehb'), all(m))) : []),
  ]);
  const lines = [
    `regret (percentage points of val_accuracy below the best of the random reference; mean ± std, median) over ${seeds} seeds per task`,
    formatTable(header, rows),
    ...modes.map((m) => {
      const runs = results.flatMap((t) => t.runs.filter((r) => r.mode === m));
      return `  ${MODE_TEXT[m]}: ${mean(runs.map((r) => r.evaluations)).toFixed(0)} evaluations per run, simulated wall time ${mean(runs.map((r) => r.simTime / 3600)).toFixed(2)} h, incumbent at epoch 52 in ${runs.filter((r) => r.incumbentFidelity === 52).length}/${runs.length} runs`;
    }),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const values = parseFlags({
    tasks: { type: 'string' },
    seeds: { type: 'string' },
    budget: { type: 'string' },
    workers: { type: 'string' },
    modes: { type: 'string' },
    references: { type: 'string' },
    'master-seed': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  const space = lcbenchSpace();
  const hasAsync = asyncSupported(space);
  const modes = strFlag(values, 'modes', MODES.filter((m) => m !== 'async' || hasAsync).join(',')).split(',').map((s) => s.trim()) as Mode[];
  for (const m of modes) {
    if (!MODES.includes(m)) throw new DehbError('E_USAGE', `--modes: unknown mode "${m}" (known: ${MODES.join(', ')})`);
    if (m === 'async' && !hasAsync) throw new DehbError('E_USAGE', "--modes async: this build's optimizer has no schedule 'async' option yet");
  }
  const o = {
    space,
    seeds: intFlag(values, 'seeds', 10, 1),
    budget: intFlag(values, 'budget', 100, 1),
    workers: intFlag(values, 'workers', 1, 1),
    modes,
    masterSeed: intFlag(values, 'master-seed', 0, 0),
    references: intFlag(values, 'references', 20000, 1),
  };
  const tasks = strFlag(values, 'tasks', TASKS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const model = await LcbenchSurrogate.load();
  for (const t of tasks) model.taskCode(t); // unknown ids fail before any work
  const t0 = performance.now();
  const results: TaskOutcome[] = [];
  try {
    for (const task of tasks) {
      const t1 = performance.now();
      results.push(await runTask(model, task, o));
      process.stderr.write(`  task ${task}: ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await model.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(
    `YAHPO lcbench, ${tasks.length} tasks, ${o.seeds} seeds, budget ${o.budget} x 52 epochs per run, ${o.workers} worker(s), ` +
      `eta 3, fidelity epochs 2/6/17/52, reference best of ${o.references} random configs @52\n`,
  );
  process.stdout.write(`${render(results, modes, o.seeds)}\n  ${seconds.toFixed(1)} s\n`);
  const compact = results.map((t) => ({
    task: t.task,
    referenceAccuracy: t.referenceAccuracy,
    regret: Object.fromEntries(modes.map((m) => [m, t.runs.filter((r) => r.mode === m).map((r) => +r.regret.toFixed(4))])),
  }));
  process.stdout.write(`${JSON.stringify({ tasks, seeds: o.seeds, budget: o.budget, workers: o.workers, modes, seconds, results: compact })}\n`);
}

main().catch((err: unknown) => {
  const msg = err instanceof Error ? err.message : String(err);
  const usage = err instanceof DehbError && err.code === 'E_USAGE';
  const plain = err instanceof DehbError || !(err instanceof Error);
  process.stderr.write(`bench:yahpo: ${plain ? msg : (err.stack ?? msg)}\n`);
  if (usage) process.stderr.write(`${USAGE}\n`);
  process.exitCode = usage ? 2 : 1;
});
