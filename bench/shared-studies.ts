/**
 * `npm run bench:studies [-- --evals 100 --studies 2 --rounds 3]`
 *
 * Studies that share one Redis: each has its own `dehb optimize NAME -n 2` process, whose slots
 * take only that study's jobs and leave the others' on the queue (job-verdicts.ts leaveDelayMs).
 * Measures the wall time of one study's --evals trials alone, then of --studies such studies
 * optimized at once (until the last one is done), in alternating rounds on a redis-server of its
 * own; trivial objective. Prints both, their ratio, and the ideal ratio on this machine's cores
 * (the studies share the CPU); the LAST line is one JSON object with all figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '../src/cluster/redis-server.js';
import { formatRedisUrl } from '../src/protocol/redis-url.js';
import { DehbError } from '../src/errors.js';
import { intFlag, parseFlags } from './lib/args.js';
import { formatTable } from './lib/table.js';
import { median } from './lib/stats.js';

const v = parseFlags({ evals: { type: 'string' }, studies: { type: 'string' }, rounds: { type: 'string' } });
const EVALS = intFlag(v, 'evals', 100, 1);
const STUDIES = intFlag(v, 'studies', 2, 2);
const ROUNDS = intFlag(v, 'rounds', 3, 1);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist', 'cli', 'main.js');
const objective = join(root, 'bench', 'fixtures', 'noop-objective.mjs');
const work = mkdtempSync(join(tmpdir(), 'dehb-studies-'));
const space = join(work, 'space.json');
writeFileSync(space, JSON.stringify(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]))));

/** Runs the CLI; resolves with its wall ms, rejects naming the command if it fails. */
function dehb(args: string[]): Promise<number> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('exit', (code) => (code === 0 ? done(performance.now() - t0) : fail(new DehbError('E_EXECUTOR', `dehb ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

const server = await startRedisServer({ dir: join(work, 'redis') });
const storage = formatRedisUrl({ host: '127.0.0.1', port: server.port, password: server.password });
let made = 0;
/** A new study on the shared Redis; its name. */
async function study(): Promise<string> {
  const name = `s${made++}`;
  await dehb(['study', 'create', name, '--storage', storage, '--space', space, '--min-fidelity', '1', '--max-fidelity', '3', '--objective', objective, '--seed', '1']);
  return name;
}
const optimize = (name: string): Promise<number> => dehb(['optimize', name, '--storage', storage, '--fevals', String(EVALS), '-n', '2', '-q']);

const alone: number[] = [];
const together: number[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    alone.push(await optimize(await study()));
    const names = await Promise.all(Array.from({ length: STUDIES }, () => study()));
    const t0 = performance.now();
    await Promise.all(names.map(optimize));
    together.push(performance.now() - t0);
  }
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
const a = median(alone);
const t = median(together);
const cores = cpus().length;
// the studies share the CPU: at best they take max(1, STUDIES / cores) times one study's time
const ideal = Math.max(1, STUDIES / cores);
process.stdout.write(`bench:studies on ${cores} cores, ${EVALS} trials per study, median of ${ROUNDS} alternating rounds\n`);
process.stdout.write(
  formatTable(
    ['case', 'wall s', 'x one alone'],
    [
      ['one study alone (dehb optimize -n 2)', (a / 1000).toFixed(2), '1.00'],
      [`${STUDIES} studies at once, one dehb optimize -n 2 each`, (t / 1000).toFixed(2), (t / a).toFixed(2)],
      ['  bound if each study kept one core busy (they share the CPU)', '', ideal.toFixed(2)],
    ],
  ) + '\n',
);
process.stdout.write(JSON.stringify({ bench: 'studies', cores, evals: EVALS, studies: STUDIES, rounds: ROUNDS, aloneMs: a, togetherMs: t, ratio: t / a, idealRatio: ideal, aloneRounds: alone, togetherRounds: together }) + '\n');
