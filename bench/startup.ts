/**
 * `npm run bench:startup [-- --runs 10]`
 *
 * CLI start-up cost: the CPU time (user + system, from the child's own process.cpuUsage() at exit)
 * of `node dist/cli/main.js --help` and `--version` against a bare `node -e 0`, median of --runs
 * runs each, and the ratio (target: at most 3x). Beside them, for the record (no target): what
 * `import('dehb')` costs a library user, and a whole fresh `dehb run` of 3 trials (-n 1, a run
 * directory written). The LAST line is one JSON object with all figures.
 * Needs a build (the npm script builds first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DehbError } from '../src/errors.js';
import { intFlag, parseFlags } from './lib/args.js';
import { formatTable } from './lib/table.js';
import { median } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const TARGET_RATIO = 3;
// Reports the child's own CPU time on fd 3 as it exits (costs next to nothing, added to every case).
const PROBE =
  'data:text/javascript,import{writeSync}from"node:fs";' +
  'process.on("exit",()=>{const u=process.cpuUsage();writeSync(3,String((u.user+u.system)/1000))})';

function cpuMs(args: string[]): number {
  const r = spawnSync(process.execPath, ['--import', PROBE, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe', 'pipe'], timeout: 60_000 });
  const ms = Number(String(r.output[3] ?? ''));
  if (r.status !== 0 || !Number.isFinite(ms) || ms <= 0) {
    throw new DehbError('E_USAGE', `node ${args.join(' ')} failed (exit ${r.status}): ${String(r.stderr ?? '').slice(0, 500)}`);
  }
  return ms;
}

function main(): void {
  const v = parseFlags({ runs: { type: 'string' } });
  const runs = intFlag(v, 'runs', 10, 1);
  if (!existsSync(MAIN)) throw new DehbError('E_USAGE', `${MAIN} is missing: run \`npm run build\` first`);
  const work = mkdtempSync(join(tmpdir(), 'dehb-startup-'));
  const space = join(work, 'space.json');
  writeFileSync(space, JSON.stringify({ x: { type: 'float', low: 0, high: 1 } }));
  const entry = new URL('../dist/index.js', import.meta.url).href;
  let out = 0;
  const cases: Array<[string, string[] | (() => string[])]> = [
    ['node -e 0', ['-e', '0']],
    ['dehb --help', [MAIN, '--help']],
    ['dehb --version', [MAIN, '--version']],
    ["import('dehb')", ['--input-type=module', '-e', `await import(${JSON.stringify(entry)})`]],
    [
      'dehb run, 3 trials, -n 1 (fresh run directory)',
      () => [MAIN, 'run', '--space', space, '--objective', join(ROOT, 'bench/fixtures/noop-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '3', '--fevals', '3', '-n', '1', '-q', '--output', join(work, `run-${out++}`)],
    ],
  ];
  const figures: Record<string, number> = {};
  for (const [name, args] of cases) {
    const argv = (): string[] => (typeof args === 'function' ? args() : args);
    cpuMs(argv()); // warm the file cache
    figures[name] = median(Array.from({ length: runs }, () => cpuMs(argv())));
  }
  rmSync(work, { recursive: true, force: true });
  const base = figures['node -e 0'] as number;
  const rows = cases.map(([name]) => {
    const ms = figures[name] as number;
    return [name, ms.toFixed(1), (ms / base).toFixed(2)];
  });
  process.stdout.write(formatTable(['command', 'CPU ms (median)', 'x node -e 0'], rows) + '\n');
  const help = (figures['dehb --help'] as number) / base;
  const version = (figures['dehb --version'] as number) / base;
  process.stdout.write(`target: at most ${TARGET_RATIO}x; --help ${help.toFixed(2)}x, --version ${version.toFixed(2)}x (${runs} runs each)\n`);
  process.stdout.write(
    JSON.stringify({
      runs,
      baseMs: base,
      helpMs: figures['dehb --help'],
      versionMs: figures['dehb --version'],
      helpRatio: help,
      versionRatio: version,
      target: TARGET_RATIO,
      importMs: figures["import('dehb')"],
      runMs: figures['dehb run, 3 trials, -n 1 (fresh run directory)'],
    }) + '\n',
  );
}

main();
