/**
 * `npm run bench:parallel -- --workers 1,4,16 --seeds 40 [--problems mfh3,mfh6,mixed12]
 *  [--evaluations 1870] [--schedules sync,async] [--master-seed 0] [--instant-rungs 4] [--json]`
 *
 * Runs DEHB on a simulated cluster (bench/lib/parallel-sim.ts: W jobs in flight, a job lasts
 * fidelity/max × U(0.9, 1.1) virtual time units, the earliest finisher is told first, then one new
 * job is asked; no sleeping) and prints the noise-free regret of the incumbent at equal
 * evaluations and at equal simulated time, with two-sided Mann-Whitney p-values against the first
 * worker count, then the asynchronous schedule against the synchronous one on anytime regret vs
 * simulated time. With --json a last line holds one JSON object with every run's final regret and end time.
 * --instant-rungs (a diagnostic) makes the jobs of the listed ladder indexes take no simulated time.
 */
import { DehbError } from '../src/errors.js';
import type { Schedule } from '../src/dehb/types.js';
import { getBenchmark } from './functions/index.js';
import { intFlag, parseFlags, strFlag } from './lib/args.js';
import { ISSUE_FIGURES, asyncTable, equalEvaluationsTable, equalTimeTable, fmt, type Cell } from './lib/parallel-report.js';
import { endTime, simulate } from './lib/parallel-sim.js';
import { deriveSeeds } from './lib/prng.js';

const USAGE = `usage: npm run bench:parallel -- [--workers 1,4,16] [--seeds 40] [--problems mfh3,mfh6,mixed12]
  [--evaluations 1870] [--schedules sync,async] [--master-seed 0] [--instant-rungs 4] [--json]`;

function list(raw: string, flag: string): string[] {
  const out = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (out.length === 0) throw new DehbError('E_USAGE', `--${flag} needs a comma-separated list`);
  return out;
}

function main(): void {
  const values = parseFlags({
    workers: { type: 'string' },
    seeds: { type: 'string' },
    problems: { type: 'string' },
    evaluations: { type: 'string' },
    schedules: { type: 'string' },
    'master-seed': { type: 'string' },
    'instant-rungs': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  const workers = list(strFlag(values, 'workers', '1,4,16'), 'workers').map((w) => {
    const n = Number(w);
    if (!Number.isInteger(n) || n < 1) throw new DehbError('E_USAGE', `--workers must list integers >= 1 (got ${w})`);
    return n;
  });
  const schedules = list(strFlag(values, 'schedules', 'sync,async'), 'schedules');
  for (const s of schedules) {
    if (s !== 'sync' && s !== 'async') throw new DehbError('E_USAGE', `--schedules must list sync and/or async (got ${s})`);
  }
  const problems = list(strFlag(values, 'problems', 'mfh3,mfh6,mixed12'), 'problems');
  const benches = problems.map((p) => getBenchmark(p));
  const nSeeds = intFlag(values, 'seeds', 40, 1);
  const evaluations = intFlag(values, 'evaluations', 1870, 1);
  const masterSeed = intFlag(values, 'master-seed', 0);
  const seeds = deriveSeeds(masterSeed, nSeeds);
  const instantRungs = values['instant-rungs'] === undefined ? [] : list(strFlag(values, 'instant-rungs', ''), 'instant-rungs').map((r) => {
    const n = Number(r);
    if (!Number.isInteger(n) || n < 0) throw new DehbError('E_USAGE', `--instant-rungs must list ladder indexes >= 0 (got ${r})`);
    return n;
  });

  const cells: Cell[] = [];
  const t0 = performance.now();
  for (const bench of benches) {
    for (const schedule of schedules) {
      for (const w of workers) {
        const traces = seeds.map((seed) => simulate(bench, { workers: w, evaluations, seed, optimizer: { schedule: schedule as Schedule }, instantRungs }));
        cells.push({ problem: bench.name, schedule, workers: w, traces });
        process.stderr.write(`  ${bench.name} ${schedule} W=${w}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    }
  }

  const out: string[] = [];
  out.push(`bench:parallel: ${evaluations} evaluations per run, ${nSeeds} seeds (master seed ${masterSeed}), workers ${workers.join(',')}, schedules ${schedules.join(',')}`);
  out.push('simulated clock: a job lasts fidelity/max x U(0.9,1.1); the earliest finisher is told first, then one job is asked');
  if (instantRungs.length > 0) out.push(`diagnostic: jobs at ladder index ${instantRungs.join(',')} take no simulated time`);
  out.push('');
  out.push(`Regret of the final incumbent at equal evaluations (noise-free; p: two-sided Mann-Whitney against W=${workers[0]})`);
  out.push(equalEvaluationsTable(cells, problems, schedules, workers));
  const known = problems.filter((p) => ISSUE_FIGURES[p] !== undefined);
  if (known.length > 0) {
    out.push(`  issue 12's figures (its harness, 40 seeds): ${known.map((p) => {
      const f = ISSUE_FIGURES[p];
      return `${p} W=1 ours ${fmt(f.w1)}, reference W=4 ${fmt(f.w4)} (x${(f.w4 / f.w1).toFixed(2)}), W=16 ${fmt(f.w16)} (x${(f.w16 / f.w1).toFixed(2)})`;
    }).join('; ')}`);
  }
  out.push('');
  out.push(`Regret at equal simulated time (T = mean duration of the W=${workers[0]} runs; p against W=${workers[0]} at the same time)`);
  out.push(equalTimeTable(cells, problems, schedules, workers));
  if (schedules.includes('sync') && schedules.includes('async')) {
    out.push('');
    out.push('Asynchronous vs synchronous schedule: anytime regret at fractions of the sync runs\' mean duration (p: async against sync)');
    out.push(asyncTable(cells, problems, workers));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (values.json !== true) return;
  process.stdout.write(`${JSON.stringify({
    evaluations,
    seeds: nSeeds,
    master_seed: masterSeed,
    runs: cells.map((c) => ({
      problem: c.problem,
      schedule: c.schedule,
      workers: c.workers,
      final_regret: c.traces.map((t) => t.regret[t.regret.length - 1]),
      end_time: c.traces.map(endTime),
    })),
  })}\n`);
}

try {
  main();
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  const usage = err instanceof DehbError && err.code === 'E_USAGE';
  process.stderr.write(`bench:parallel: ${usage ? msg : err instanceof Error ? (err.stack ?? msg) : msg}\n`);
  if (usage) process.stderr.write(`${USAGE}\n`);
  process.exitCode = usage ? 2 : 1;
}
