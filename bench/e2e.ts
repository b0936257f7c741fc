/**
 * `npm run bench:e2e [-- --evals 20000 --small 10000 --big 50000 --huge 100000 --command-evals 200 --rounds 3 --skip-cluster --only journal,memory]`
 *
 * The whole CLI path, as a user takes it, against the in-memory `DEHB.run` in this same process
 * start (trivial objective, 6-D float space): `dehb run --output D -n 1` evals/s, coordinator peak
 * RSS growth per trial from --small to --big trials (and from --big to --huge: V8 grows its young
 * generation to its full size, 2 x 16 MB, partway through a run; the second figure is the growth
 * after that step), re-opening the --big run (`--resume`, nothing
 * to do), `dehb show` of it, a command objective against a bare spawn of the same process, and
 * the cluster rows (bench/lib/cluster-e2e.ts; alone: `npm run bench:e2e-cluster`).
 * Child processes run dist/ (the script builds it first); peak RSS is /usr/bin/time's max RSS.
 * Load on the machine moves single runs a lot, so the journaled run and the in-memory one take
 * turns (--rounds, default 3) and the row gives the median of the per-round ratios; each RSS
 * figure is the median of --rounds runs. --skip-cluster leaves out the cluster rows (minutes);
 * --only takes a comma-separated list of row groups (journal, memory, reopen, show, command,
 * cluster; reopen and show need memory's 50k run) and measures only those. --dist DIR runs
 * another build's CLI (a copy of dist/ from another commit), to compare builds in alternate runs.
 * Prints a table and, last, one JSON line. Speed is checked here, never by timed test assertions.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEHB } from '../src/api/dehb.js';
import type { SpaceSpec } from '../src/dehb/types.js';
import { intFlag, parseFlags } from './lib/args.js';
import { formatTable } from './lib/table.js';
import { median } from './lib/stats.js';
import { spawnOnce } from './lib/spawn.js';
import { clusterE2eOptions, clusterRows, measureClusterE2e } from './lib/cluster-e2e.js';

const v = parseFlags({
  evals: { type: 'string' },
  small: { type: 'string' },
  big: { type: 'string' },
  'command-evals': { type: 'string' },
  'cluster-evals': { type: 'string' },
  rounds: { type: 'string' },
  'skip-cluster': { type: 'boolean' },
  huge: { type: 'string' },
  only: { type: 'string' },
  dist: { type: 'string' },
});
const EVALS = intFlag(v, 'evals', 20_000, 100);
const SMALL = intFlag(v, 'small', 10_000, 100);
const BIG = intFlag(v, 'big', 50_000, SMALL + 1);
/** A longer run: BIG -> HUGE is the growth once V8's young generation has reached its size. */
const HUGE = intFlag(v, 'huge', 2 * BIG, BIG + 1);
const NC = intFlag(v, 'command-evals', 200, 10);
const NCL = intFlag(v, 'cluster-evals', 6_000, 100);
const ROUNDS = intFlag(v, 'rounds', 3, 1);
const GROUPS = ['journal', 'memory', 'reopen', 'show', 'command', 'cluster'] as const;
type Group = (typeof GROUPS)[number];
const only = typeof v.only === 'string' ? v.only.split(',').map((g) => g.trim()) : [...GROUPS];
for (const g of only) {
  if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown row group "${g}" (one of ${GROUPS.join(', ')})`);
}
if ((only.includes('reopen') || only.includes('show')) && !only.includes('memory')) {
  throw new Error('--only: reopen and show re-open the memory rows\' 50k-trial run; add memory');
}
const wants = (g: Group): boolean => only.includes(g);
const SKIP_CLUSTER = v['skip-cluster'] === true || !wants('cluster');

const root = fileURLToPath(new URL('..', import.meta.url));
/** --dist DIR: the build the child processes run (default this checkout's dist/), e.g. a copy of main's. */
const dist = typeof v.dist === 'string' ? resolve(v.dist) : join(root, 'dist');
const cli = join(dist, 'cli', 'main.js');
const noopModule = fileURLToPath(new URL('./fixtures/noop-objective.mjs', import.meta.url));
const space: SpaceSpec = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]));
const base = { space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1 };
const childArgv = [process.execPath, '-e', 'process.stdout.write("DEHB_RESULT {\\"fitness\\":1}\\n")'];
const work = mkdtempSync(join(tmpdir(), 'dehb-e2e-'));
const spaceFile = join(work, 'space.json');
writeFileSync(spaceFile, JSON.stringify(space));

interface Measured {
  ms: number;
  /** User + system CPU seconds of the process (what load on the machine does not inflate). */
  cpuS: number;
  maxRssKb: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI under /usr/bin/time: wall time and peak RSS of the coordinator process. */
function dehb(args: string[], nodeFlags: string[] = []): Measured {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', process.execPath, ...nodeFlags, cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`dehb ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { ms, cpuS: m === null ? NaN : Number(m[2]) + Number(m[3]), maxRssKb: m === null ? NaN : Number(m[1]), stdout: r.stdout, stderr: r.stderr };
}

function runArgs(dir: string, fevals: number): string[] {
  return ['run', '--space', spaceFile, '--objective', noopModule, '--min-fidelity', '1', '--max-fidelity', '27', '--eta', '3',
    '--seed', '1', '--fevals', String(fevals), '-n', '1', '--output', dir, '-q'];
}

/** Evaluations per second of wall time and per CPU second (user + system) of an in-memory run. */
async function inMemory(n: number): Promise<{ rate: number; cpuRate: number }> {
  const d = new DEHB({ ...base, objective: noopModule });
  await d.run({ fevals: Math.min(500, n) }); // warm-up (JIT)
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await d.run({ fevals: n });
  const c = process.cpuUsage(c0);
  return { rate: (n / (performance.now() - t0)) * 1000, cpuRate: n / ((c.user + c.system) / 1e6) };
}

/**
 * The same in-memory run in a fresh process, cold like the CLI's (no warm-up): evals/s of its
 * run() alone (module loading excluded, as the CLI loop row excludes it) and per CPU second.
 */
function inMemoryCold(n: number): { rate: number; cpuRate: number } {
  const script = [
    `import { DEHB } from ${JSON.stringify(join(dist, 'index.js'))};`,
    `const d = new DEHB({ ...${JSON.stringify(base)}, objective: ${JSON.stringify(noopModule)} });`,
    'const t0 = performance.now(); const c0 = process.cpuUsage();',
    `await d.run({ fevals: ${n} });`,
    'const c = process.cpuUsage(c0);',
    'console.log(JSON.stringify({ ms: performance.now() - t0, cpuS: (c.user + c.system) / 1e6 }));',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`in-memory child exited ${r.status}: ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms: number; cpuS: number };
  return { rate: (n / m.ms) * 1000, cpuRate: n / m.cpuS };
}

/**
 * ms per evaluation of a command objective through DEHB (2 children at a time) and of a bare spawn
 * of the same child (2 at a time), in alternating rounds so that changing load hits both alike.
 */
async function commandVsSpawn(n: number): Promise<{ command: number; bare: number }> {
  const d = new DEHB({ ...base, objective: { command: childArgv }, nWorkers: 2 });
  await d.run({ fevals: 10 });
  const rounds = 4;
  const per = Math.max(2, Math.floor(n / rounds));
  let command = 0;
  let bare = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await d.run({ fevals: per });
    command += performance.now() - t0;
    let next = 0;
    const t1 = performance.now();
    await Promise.all([0, 1].map(async () => {
      while (next++ < per) await spawnOnce(childArgv);
    }));
    bare += performance.now() - t1;
  }
  return { command: command / (per * rounds), bare: bare / (per * rounds) };
}

const load = loadavg()[0] ?? 0;
const memRates: number[] = [];
const memCpuRates: number[] = [];
const cliRates: number[] = [];
const cliCpuRates: number[] = [];
const loopRates: number[] = [];
const coldRates: number[] = [];
const startups: number[] = [];
let startupCpu = NaN;
for (let round = 0; wants('journal') && round < ROUNDS; round++) {
  const mem = await inMemory(EVALS);
  coldRates.push(inMemoryCold(EVALS).rate);
  memRates.push(mem.rate);
  memCpuRates.push(mem.cpuRate);
  const version = dehb(['--version']);
  startups.push(version.ms);
  startupCpu = version.cpuS;
  const d1 = join(work, `n1-${round}`);
  const r1 = dehb(runArgs(d1, EVALS));
  rmSync(d1, { recursive: true, force: true });
  cliRates.push((EVALS / Math.max(1, r1.ms - version.ms)) * 1000);
  cliCpuRates.push(EVALS / Math.max(0.01, r1.cpuS - version.cpuS));
  // the run loop alone, as the run's own summary line states it ("finished (budget) in 2.3s")
  loopRates.push(EVALS / Number(/finished \(\w+\) in ([\d.]+)s/.exec(r1.stderr)?.[1] ?? NaN));
}
const memRate = median(memRates);
const startup = median(startups);
const cliRatio = median(cliRates.map((r, i) => r / (memRates[i] as number)));
const loopRatio = median(loopRates.map((r, i) => r / (memRates[i] as number)));
const coldLoopRatio = median(loopRates.map((r, i) => r / (coldRates[i] as number)));
const cliRate = median(cliRates);
// CPU seconds, which other load on the machine does not inflate (the journal's fsyncs count too)
const cpuRatio = median(cliCpuRates.map((r, i) => r / (memCpuRates[i] as number)));
const loopRate = median(loopRates);
const dSmall = join(work, 'small');
const dBig = join(work, 'big');
// the live heap at exit (after a forced collection) tells what a run retains from what V8 and the
// allocator happen to hold at their peak
const heapFlags = ['--expose-gc', '--import', fileURLToPath(new URL('./lib/heap-at-exit.mjs', import.meta.url))];
const liveHeap = (m: Measured): number => Number(/LIVEHEAP (\d+)/.exec(m.stderr)?.[1] ?? NaN);
/** Peak RSS before the collection at exit (heap-at-exit.mjs), else /usr/bin/time's. */
const peakKb = (m: Measured): number => Number(/PEAKRSS (\d+)/.exec(m.stderr)?.[1] ?? m.maxRssKb);
/** The run of median peak RSS among --rounds runs of `n` trials (the last one's directory is kept). */
function medianRss(dir: string, n: number): Measured {
  const runs: Measured[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rmSync(dir, { recursive: true, force: true });
    const m = dehb(runArgs(dir, n), heapFlags);
    runs.push({ ...m, maxRssKb: peakKb(m) });
  }
  return runs.sort((a, b) => a.maxRssKb - b.maxRssKb)[runs.length >> 1] as Measured;
}
const skipped = { ms: NaN, cpuS: NaN, maxRssKb: NaN, stdout: '', stderr: '' };
const rSmall = wants('memory') ? medianRss(dSmall, SMALL) : skipped;
const rBig = wants('memory') ? medianRss(dBig, BIG) : skipped;
const dHuge = join(work, 'huge');
const rHuge = wants('memory') ? medianRss(dHuge, HUGE) : skipped;
rmSync(dHuge, { recursive: true, force: true });
const steadyBytesPerTrial = ((rHuge.maxRssKb - rBig.maxRssKb) * 1024) / (HUGE - BIG);
const bytesPerTrial = ((rBig.maxRssKb - rSmall.maxRssKb) * 1024) / (BIG - SMALL);
const liveBytesPerTrial = (liveHeap(rBig) - liveHeap(rSmall)) / (BIG - SMALL);
const reopen = wants('reopen') ? dehb(['run', '--resume', '--output', dBig, '-q']) : skipped;
const show = wants('show') ? dehb(['show', dBig]) : skipped;
const showLines = show.stdout.split('\n').filter((l) => l.length > 0).length;
const cmd = wants('command') ? await commandVsSpawn(NC) : { command: NaN, bare: NaN };
const clo = clusterE2eOptions({ cli, root, spaceFile, evals: NCL });
const cl = SKIP_CLUSTER ? null : await measureClusterE2e(clo);
rmSync(work, { recursive: true, force: true });

const f0 = (x: number): string => x.toFixed(0);
const rows: string[][] = [
  ...(wants('journal') ? [[`dehb run --output D -n 1, ${EVALS} evals: whole process (start-up ${f0(startup)} ms excluded), median of ${ROUNDS} alternating rounds`, `${f0(cliRate)} vs ${f0(memRate)} evals/s in memory: ${cliRatio.toFixed(2)}x (rounds ${cliRates.map((r, i) => (r / (memRates[i] as number)).toFixed(2)).join(', ')})`, '>= 0.5x']] : []),
  ...(wants('journal') ? [['  same, its run loop (the run\'s own elapsed time)', `${f0(loopRate)} evals/s: ${loopRatio.toFixed(2)}x`, '']] : []),
  ...(wants('journal') ? [['  same, its run loop vs the in-memory run() in a fresh process (both cold JIT)', `${f0(loopRate)} vs ${f0(median(coldRates))} evals/s: ${coldLoopRatio.toFixed(2)}x`, '']] : []),
  ...(wants('journal') ? [['  same, per CPU second (user + system; start-up CPU excluded)', `${f0(median(cliCpuRates))} vs ${f0(median(memCpuRates))} evals/CPU-s: ${cpuRatio.toFixed(2)}x`, '']] : []),
  ...(wants('memory') ? [[`coordinator peak RSS, ${SMALL} -> ${BIG} trials (median of ${ROUNDS} runs each)`, `${(rSmall.maxRssKb / 1024).toFixed(0)} -> ${(rBig.maxRssKb / 1024).toFixed(0)} MB: ${f0(bytesPerTrial)} B per trial`, '<= 300 B per trial']] : []),
  ...(wants('memory') ? [[`  same, ${BIG} -> ${HUGE} trials (after V8's young generation reached its size)`, `${(rBig.maxRssKb / 1024).toFixed(0)} -> ${(rHuge.maxRssKb / 1024).toFixed(0)} MB: ${f0(steadyBytesPerTrial)} B per trial`, '']] : []),
  ...(wants('memory') ? [[`  same, live JS heap at exit after a full GC`, `${(liveHeap(rSmall) / 1e6).toFixed(1)} -> ${(liveHeap(rBig) / 1e6).toFixed(1)} MB: ${f0(liveBytesPerTrial)} B per trial`, '']] : []),
  ...(wants('reopen') ? [[`re-open a ${BIG}-trial run (--resume, nothing to do)`, `${(reopen.ms / 1000).toFixed(2)} s (CPU ${reopen.cpuS.toFixed(2)} s), ${(reopen.maxRssKb / 1024).toFixed(0)} MB`, '<= 1.5 s, <= 150 MB']] : []),
  ...(wants('show') ? [[`dehb show of a ${BIG}-trial run`, `${showLines} lines, ${(show.ms / 1000).toFixed(2)} s (CPU ${show.cpuS.toFixed(2)} s)`, '<= 200 lines, <= 1.5 s']] : []),
  ...(wants('command') ? [[`command objective vs bare spawn (${NC} evals each, 2 at a time, alternating rounds)`, `${(cmd.command / cmd.bare).toFixed(2)}x (${cmd.command.toFixed(2)} vs ${cmd.bare.toFixed(2)} ms per eval)`, '<= 1.2x']] : []),
  ...(cl === null ? [['cluster rows', 'skipped (--skip-cluster)', '']] : clusterRows(cl, clo)),
  ['worker --concurrency 4 on 2 cores', 'runs 4 at once (checked by test/integration/cluster-threads.test.ts)', 'runs 4'],
];
console.log(`bench:e2e on ${cpus().length} cores, load ${load.toFixed(2)} at start, node ${process.version}${startups.length === 0 ? '' : `; \`dehb --version\` takes ${f0(startup)} ms (CPU ${startupCpu.toFixed(2)} s)`}`);
console.log(formatTable(['path', 'measured', 'target'], rows));
console.log(JSON.stringify({
  bench: 'e2e',
  cores: cpus().length,
  load,
  evals: EVALS,
  inMemoryEvalsPerS: Math.round(memRate),
  cliEvalsPerS: Math.round(cliRate),
  rounds: ROUNDS,
  cliRatio: Number(cliRatio.toFixed(3)),
  cliLoopEvalsPerS: Math.round(loopRate),
  cliLoopRatio: Number(loopRatio.toFixed(3)),
  cliCpuRatio: Number(cpuRatio.toFixed(3)),
  inMemoryColdEvalsPerS: Math.round(median(coldRates)),
  cliLoopVsColdRatio: Number(coldLoopRatio.toFixed(3)),
  startupMs: Math.round(startup),
  rss: { small: SMALL, big: BIG, smallKb: rSmall.maxRssKb, bigKb: rBig.maxRssKb, bytesPerTrial: Math.round(bytesPerTrial), huge: HUGE, hugeKb: rHuge.maxRssKb, steadyBytesPerTrial: Math.round(steadyBytesPerTrial), liveHeapSmall: liveHeap(rSmall), liveHeapBig: liveHeap(rBig), liveBytesPerTrial: Math.round(liveBytesPerTrial) },
  reopen: { ms: Math.round(reopen.ms), cpuS: reopen.cpuS, maxRssKb: reopen.maxRssKb },
  show: { ms: Math.round(show.ms), cpuS: show.cpuS, lines: showLines },
  startupCpuS: startupCpu,
  command: { msPerEval: cmd.command, bareMsPerEval: cmd.bare, ratio: Number((cmd.command / cmd.bare).toFixed(3)) },
  cluster: cl === null ? null : { ...cl, evalsPerS: Math.round(cl.evalsPerS), pingPerS: Math.round(cl.pingPerS), commandsPerTrial: Number(cl.commandsPerTrial.toFixed(1)) },
}));
