/**
 * `npm run bench:regret -- --benchmark mfh3 --seeds 10 --fevals 300 [--strategy rand1_bin]
 *  [--eta 3] [--master-seed 0] [--min-fidelity 3] [--n-cat 50 --n-cont 50]`
 *
 * Runs DEHB sequentially (ask -> evaluate -> tell) on a benchmark for several seeds and prints the
 * incumbent fitness (mean ± population std across seeds) at 20/40/60/80/100 % of the budget next
 * to the reference DEHB v0.1.2 numbers, then, as the LAST line, one JSON object
 * {"benchmark","fevals","seeds","at":{"20":{mean,std},...},"final_mean","final_std",...}.
 * `--benchmark all` runs mfh3, mfh6, countingones, branin, levy; the last line then aggregates
 * them as {"benchmark":"all","fevals","seeds","results":[...]}. Progress goes to stderr.
 */
import { DehbError } from '../src/errors.js';
import { CROSSOVERS, MUTATIONS, type Strategy } from '../src/dehb/types.js';
import { REFERENCE_V012, getBenchmark, type BenchOverrides } from './functions/index.js';
import type { BenchFunction } from './functions/types.js';
import { intFlag, numFlag, parseFlags, strFlag } from './lib/args.js';
import { runRegret, type RegretOptions, type RegretReport, type RunTrace } from './lib/regret-core.js';
import { CHECKPOINTS, checkpointIndex, mean } from './lib/stats.js';
import { formatTable, pm } from './lib/table.js';

const ALL = ['mfh3', 'mfh6', 'countingones', 'branin', 'levy'];
const STRATEGIES = MUTATIONS.flatMap((m) => CROSSOVERS.map((c) => `${m}_${c}`));

const USAGE = `usage: npm run bench:regret -- --benchmark <name|all|a,b> [--seeds 10] [--fevals 300]
  [--strategy rand1_bin] [--eta 3] [--master-seed 0] [--min-fidelity N (mfh*)]
  [--n-cat 50] [--n-cont 50] [--mutation-factor 0.5] [--crossover-prob 0.5] [--boundary-fix random|clip]`;

function renderTable(bench: BenchFunction, report: RegretReport, traces: readonly RunTrace[]): string {
  const n = report.fevals;
  const header = ['', ...CHECKPOINTS.map((p) => `@${checkpointIndex(p, n) + 1} (${p}%)`)];
  const rows: string[][] = [];
  rows.push([`ours (${report.seeds} seeds)`, ...CHECKPOINTS.map((p) => pm(report.at[String(p)].mean, report.at[String(p)].std))]);
  if (bench.meanDivisor !== 1) {
    rows.push([
      `ours, std / ${bench.meanDivisor}`,
      ...CHECKPOINTS.map((p) => pm(report.at[String(p)].mean, report.at[String(p)].std / bench.meanDivisor)),
    ]);
  }
  const ref = REFERENCE_V012[bench.name];
  if (ref && n === 300) {
    rows.push(['reference v0.1.2 (5 seeds)', ...ref.map(([m, sd]) => pm(m, sd))]);
  }
  const perFid: Record<string, number> = {};
  for (const t of traces) for (const [k, v] of Object.entries(t.evalsPerFidelity)) perFid[k] = (perFid[k] ?? 0) + v;
  const fidText = Object.entries(perFid)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([k, v]) => `${k}:${(v / traces.length).toFixed(1)}`)
    .join(' ');
  const lines = [
    `${bench.name}: ${bench.description}`,
    `  fidelity ${+bench.minFidelity.toFixed(6)}..${bench.maxFidelity}, eta ${report.eta}, strategy ${report.strategy}, ` +
      `${report.seeds} seeds x ${n} fevals, master seed ${report.master_seed}` +
      (bench.meanDivisor !== 1 ? `; means divided by D=${bench.meanDivisor}, std on the raw scale (reference convention)` : ''),
    formatTable(header, rows),
    `  optimum ${bench.optimum.fitness}; noise-free value of the final incumbents ${pm(report.final_true_mean, report.final_true_std)}` +
      (bench.meanDivisor !== 1 ? ` (/D)` : ''),
    `  per-seed finals: ${traces.map((t) => +(t.trajectory[n - 1] / bench.meanDivisor).toFixed(4)).join(' ')}`,
    `  evaluations per fidelity (mean per seed): ${fidText}; brackets opened (mean): ${mean(traces.map((t) => t.brackets)).toFixed(1)}`,
  ];
  if (report.incumbent_mismatches > 0) {
    lines.push(`  WARNING: optimizer incumbent differed from the running minimum after ${report.incumbent_mismatches} tells`);
  }
  return lines.join('\n');
}

function main(): void {
  const values = parseFlags({
    benchmark: { type: 'string' },
    seeds: { type: 'string' },
    fevals: { type: 'string' },
    strategy: { type: 'string' },
    eta: { type: 'string' },
    'master-seed': { type: 'string' },
    'min-fidelity': { type: 'string' },
    'n-cat': { type: 'string' },
    'n-cont': { type: 'string' },
    'mutation-factor': { type: 'string' },
    'crossover-prob': { type: 'string' },
    'boundary-fix': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  const which = strFlag(values, 'benchmark', 'mfh3');
  const names = which === 'all' ? ALL : which.split(',').map((s) => s.trim()).filter(Boolean);
  const strategy = strFlag(values, 'strategy', 'rand1_bin');
  if (!STRATEGIES.includes(strategy)) {
    throw new DehbError('E_USAGE', `--strategy must be one of ${STRATEGIES.join(', ')} (got ${strategy})`);
  }
  const boundaryFix = strFlag(values, 'boundary-fix', 'random');
  if (boundaryFix !== 'random' && boundaryFix !== 'clip') {
    throw new DehbError('E_USAGE', `--boundary-fix must be random or clip (got ${boundaryFix})`);
  }
  const opts: RegretOptions = {
    fevals: intFlag(values, 'fevals', 300, 1),
    seeds: intFlag(values, 'seeds', 10, 1),
    masterSeed: intFlag(values, 'master-seed', 0),
    strategy: strategy as Strategy,
    eta: numFlag(values, 'eta', undefined),
    mutationFactor: numFlag(values, 'mutation-factor', undefined),
    crossoverProb: numFlag(values, 'crossover-prob', undefined),
    boundaryFix,
  };
  const overrides: BenchOverrides = {
    minFidelity: numFlag(values, 'min-fidelity', undefined),
    nCat: values['n-cat'] === undefined ? undefined : intFlag(values, 'n-cat', 50, 0),
    nCont: values['n-cont'] === undefined ? undefined : intFlag(values, 'n-cont', 50, 0),
  };
  const benches = names.map((n) => getBenchmark(n, overrides));
  const reports: RegretReport[] = [];
  for (const bench of benches) {
    const t0 = performance.now();
    const { report, traces } = runRegret(bench, opts, (trace, i) => {
      const last = trace.trajectory[trace.trajectory.length - 1] / bench.meanDivisor;
      process.stderr.write(`  ${bench.name} seed ${i + 1}/${opts.seeds} (${trace.seed}): final ${last.toFixed(5)}\n`);
    });
    process.stderr.write(`  ${bench.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    process.stdout.write(`${renderTable(bench, report, traces)}\n\n`);
    reports.push(report);
  }
  if (reports.length === 1) {
    process.stdout.write(`${JSON.stringify(reports[0])}\n`);
  } else {
    for (const r of reports) process.stdout.write(`${JSON.stringify(r)}\n`);
    process.stdout.write(
      `${JSON.stringify({ benchmark: which, fevals: opts.fevals, seeds: opts.seeds, results: reports })}\n`,
    );
  }
}

try {
  main();
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  const usage = err instanceof DehbError && err.code === 'E_USAGE';
  process.stderr.write(`bench:regret: ${usage ? msg : err instanceof Error ? (err.stack ?? msg) : msg}\n`);
  if (usage) process.stderr.write(`${USAGE}\n`);
  process.exitCode = usage ? 2 : 1;
}
