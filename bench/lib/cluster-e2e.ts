/**
 * The cluster rows of `bench:e2e`: a private redis-server started the way `dehb scheduler start`
 * does, 4 `dehb worker` processes (dist/), then `dehb run --cluster` of N trivial evaluations
 * through the CLI. Reports evals/s against `redis-benchmark -c 16 -t ping -q` on the same Redis,
 * and the Redis commands per trial (INFO commandstats, reset just before the run: every command of
 * the coordinator and the workers, blocking polls included).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../src/cluster/redis-server.js';
import { formatRedisUrl, makeSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';

export interface ClusterE2e {
  evals: number;
  evalsPerS: number;
  pingPerS: number;
  commandsPerTrial: number;
  /** The five commands with most calls per trial. */
  top: Array<[string, number]>;
}

function waitForLine(p: ChildProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    const t = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), timeoutMs);
    p.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (re.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

function commandStats(info: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of info.split('\n')) {
    const r = /^cmdstat_([^:]+):calls=(\d+)/.exec(l);
    if (r !== null) m.set(r[1] as string, Number(r[2]));
  }
  return m;
}

export async function measureClusterE2e(o: { cli: string; objective: string; allow: string; spaceFile: string; evals: number }): Promise<ClusterE2e> {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-e2e-cluster-'));
  const server = await startRedisServer({ dir: join(dir, 'redis') });
  const redis = new Redis({ host: '127.0.0.1', port: server.port, password: server.password });
  const workers: ChildProcess[] = [];
  try {
    const file = join(dir, 'sched.json');
    const redisUrl = formatRedisUrl({ host: '127.0.0.1', port: server.port, password: server.password });
    await writeSchedulerFile(file, makeSchedulerFile({ redisUrl, prefix: 'bench', queue: 'evals' }));
    for (let i = 0; i < 4; i++) {
      const w = spawn(process.execPath, [o.cli, 'worker', '--scheduler-file', file, '--gpus', 'none', '--allow', o.allow, '--concurrency', '16'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      workers.push(w);
    }
    await Promise.all(workers.map((w) => waitForLine(w, /serving queue/, 60_000)));
    await redis.config('RESETSTAT');
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [o.cli, 'run', '--cluster', '--scheduler-file', file, '--space', o.spaceFile, '--objective', o.objective,
      '--min-fidelity', '1', '--max-fidelity', '27', '--eta', '3', '--seed', '1', '--fevals', String(o.evals), '-n', '64',
      '--output', join(dir, 'run'), '-q'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`dehb run --cluster exited ${r.status}: ${r.stderr}`);
    const stats = commandStats(await redis.info('commandstats'));
    const total = [...stats.values()].reduce((a, b) => a + b, 0) - 1; // the INFO itself
    const top = [...stats.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]): [string, number] => [k, Number((n / o.evals).toFixed(1))]);
    const b = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-a', server.password, '-c', '16', '-t', 'ping', '-q', '-n', '200000'], { encoding: 'utf8' });
    const rates = [...b.stdout.matchAll(/PING_\w+: ([\d.]+) requests per second/g)].map((m) => Number(m[1]));
    return { evals: o.evals, evalsPerS: (o.evals / ms) * 1000, pingPerS: Math.max(0, ...rates), commandsPerTrial: total / o.evals, top };
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => (w.exitCode !== null ? null : new Promise((res) => w.once('exit', res)))));
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
