/**
 * The cluster rows of `bench:e2e`, each through the CLI (dist/) against a private redis-server
 * started the way `dehb scheduler start` does:
 * - throughput: 4 `dehb worker --concurrency 16`, `dehb run --cluster -n 64` of N trivial
 *   evaluations, against `redis-benchmark -c 16 -t ping -q` on the same Redis; Redis commands per
 *   trial from INFO commandstats (reset just before the run: everything Redis executed for the
 *   coordinator and the workers, commands inside scripts included); the same with
 *   `--trials-per-job 1` (one job per trial) for comparison with the default `auto`;
 * - commands by side and name: a smaller run of the same shape under MONITOR (redis-monitor.ts):
 *   requests the coordinator and the workers send per trial, by command or script;
 * - round trips on a trial's critical path: 1 worker (--concurrency 1), `-n 1`, so ask -> add ->
 *   pick -> run -> complete -> told -> next ask is strictly sequential; every client goes through
 *   a delay proxy, runs with 0 and with RTT ms added per round trip (RTT/2 each way) alternate:
 *   the extra run-loop time per trial divided by RTT is the number of round trips on that path (a
 *   one-way push, such as a blocked read being answered, counts 1/2);
 * - the delay row: 8 workers (--concurrency 1), a 50 ms objective, every client behind the proxy,
 *   throughput as a share of the ideal 8 x 20 evals/s: -n 8 (every round trip of a trial is on
 *   the path), -n 16, and -n 16 with workers started with --prefetch 1 (that one also with
 *   `--trials-per-job 1`); each set of workers does a short unmeasured run first (warm-up).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer } from '../../src/cluster/redis-server.js';
import { makeSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { formatRedisUrl } from '../../src/protocol/redis-url.js';
import { startDelayProxy } from './delay-proxy.js';
import { RedisMonitor } from './redis-monitor.js';

export interface ClusterE2eOptions {
  cli: string;
  /** the trivial objective, and a module whose objective waits 50 ms */
  objective: string;
  slowObjective: string;
  allow: string;
  spaceFile: string;
  root: string;
  evals: number;
  /** trials of the MONITOR run */
  profileEvals: number;
  /** trials of each sequential (-n 1) run */
  seqEvals: number;
  /** trials of each delay-row run */
  delayEvals: number;
  /** added round trip of the delay row, ms */
  rttMs: number;
  /** added round trip of the round-trip count (larger, so that it stands out of the noise), ms */
  seqRttMs: number;
}

/** The options bench:e2e and bench:e2e-cluster use: the fixtures in bench/fixtures, 10 ms added round trip. */
export function clusterE2eOptions(o: { cli: string; root: string; spaceFile: string; evals: number; profileEvals?: number; seqEvals?: number; delayEvals?: number }): ClusterE2eOptions {
  const fixtures = join(o.root, 'bench', 'fixtures');
  return {
    cli: o.cli,
    root: o.root,
    spaceFile: o.spaceFile,
    objective: join(fixtures, 'noop-objective.mjs'),
    slowObjective: join(fixtures, 'sleep-objective.mjs'),
    allow: fixtures,
    evals: o.evals,
    profileEvals: o.profileEvals ?? Math.min(o.evals, 2_000),
    seqEvals: o.seqEvals ?? 200,
    delayEvals: o.delayEvals ?? 800,
    rttMs: 10,
    seqRttMs: 40,
  };
}

export interface ClusterE2e {
  evals: number;
  evalsPerS: number;
  /** The same run with --trials-per-job 1. */
  evalsPerSOnePerJob: number;
  pingPerS: number;
  /** Commands Redis executed per trial (INFO commandstats: inside scripts too). */
  commandsPerTrial: number;
  /** The five commands with most calls per trial. */
  top: Array<[string, number]>;
  /** Requests per trial sent by each side (MONITOR), by command or script, most first. */
  requests: Record<string, { total: number; by: Array<[string, number]> }>;
  /** Commands run inside scripts per trial (MONITOR run). */
  innerPerTrial: number;
  /** Commands run inside each script per trial (MONITOR run), most first. */
  innerBy: Array<[string, number]>;
  /** Sequential runs: run-loop ms per trial direct and through the proxy, and round trips per trial. */
  seq: { directMs: number; delayedMs: number; roundTrips: number; rttMs: number; evals: number };
  /** Delay row: evals/s with 8 workers at -n 8 and -n 16 (and --prefetch 1), ideal 160/s. */
  delayed: Array<{ n: number; prefetch: number; perJob: string; evalsPerS: number; ofIdeal: number }>;
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

interface Bed {
  file: string;
  workers: ChildProcess[];
  stop(): Promise<void>;
}

let bedSeq = 0;

/** A scheduler file for `port` and `n` running `dehb worker`s on it. */
async function startBed(o: ClusterE2eOptions, dir: string, endpoint: { port: number; password: string }, n: number, concurrency: number, extra: string[] = []): Promise<Bed> {
  const file = join(dir, `sched-${bedSeq++}.json`);
  const redisUrl = formatRedisUrl({ host: '127.0.0.1', port: endpoint.port, password: endpoint.password });
  await writeSchedulerFile(file, makeSchedulerFile({ redisUrl, prefix: `bench${bedSeq}`, queue: 'evals' }));
  const workers: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    workers.push(spawn(process.execPath, [o.cli, 'worker', '--scheduler-file', file, '--gpus', 'none', '--allow', o.allow, '--concurrency', String(concurrency), ...extra], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }));
  }
  await Promise.all(workers.map((w) => waitForLine(w, /serving queue/, 120_000)));
  return {
    file,
    workers,
    async stop() {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => (w.exitCode !== null ? null : new Promise((res) => w.once('exit', res)))));
    },
  };
}

interface RunOut {
  ms: number;
  /** the run loop, from the run's own summary line */
  loopMs: number;
  pid: number;
}

/** `dehb run --cluster`; resolves when it exits (0 expected). */
function runCluster(o: ClusterE2eOptions, dir: string, file: string, objective: string, evals: number, n: number, onStart?: (pid: number) => void, extra: string[] = []): Promise<RunOut> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [o.cli, 'run', '--cluster', '--scheduler-file', file, '--space', o.spaceFile, '--objective', objective,
      '--min-fidelity', '1', '--max-fidelity', '27', '--eta', '3', '--seed', '1', '--fevals', String(evals), '-n', String(n),
      '--output', join(dir, `run-${bedSeq}-${evals}-${n}-${Math.random().toString(36).slice(2)}`), '-q', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    onStart?.(p.pid as number);
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => {
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`dehb run --cluster exited ${code}: ${err}`));
      const loopS = Number(/finished \(\w+\) in ([\d.]+)s/.exec(err)?.[1] ?? NaN);
      resolve({ ms, loopMs: loopS * 1000, pid: p.pid as number });
    });
  });
}

export async function measureClusterE2e(o: ClusterE2eOptions): Promise<ClusterE2e> {
  const dir = mkdtempSync(join(tmpdir(), 'dehb-e2e-cluster-'));
  const server = await startRedisServer({ dir: join(dir, 'redis') });
  const endpoint = { port: server.port, password: server.password };
  const redis = new Redis({ host: '127.0.0.1', port: server.port, password: server.password });
  const beds: Bed[] = [];
  try {
    // throughput and commands per trial (INFO commandstats)
    const bed = await startBed(o, dir, endpoint, 4, 16);
    beds.push(bed);
    // warm-up (workers' JIT, thread pools, connections), unmeasured; then auto and one job per trial
    // in the order A B B A, so that neither gets the warmer workers
    await runCluster(o, dir, bed.file, o.objective, Math.min(o.evals, 500), 64);
    await redis.config('RESETSTAT');
    const r = await runCluster(o, dir, bed.file, o.objective, o.evals, 64);
    const stats = commandStats(await redis.info('commandstats'));
    const total = [...stats.values()].reduce((a, b) => a + b, 0) - 1; // the INFO itself
    const top = [...stats.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]): [string, number] => [k, Number((n / o.evals).toFixed(1))]);
    const b = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-a', server.password, '-c', '16', '-t', 'ping', '-q', '-n', '200000'], { encoding: 'utf8' });
    const rates = [...b.stdout.matchAll(/PING_\w+: ([\d.]+) requests per second/g)].map((m) => Number(m[1]));
    const one1 = await runCluster(o, dir, bed.file, o.objective, o.evals, 64, undefined, ['--trials-per-job', '1']);
    const one2 = await runCluster(o, dir, bed.file, o.objective, o.evals, 64, undefined, ['--trials-per-job', '1']);
    const r2 = await runCluster(o, dir, bed.file, o.objective, o.evals, 64);
    const autoMs = (r.ms + r2.ms) / 2;
    const one = { ms: (one1.ms + one2.ms) / 2 };

    // requests by side and name (MONITOR slows Redis: a separate, smaller run)
    const mon = new RedisMonitor({ host: '127.0.0.1', port: server.port, password: server.password }, o.root);
    await mon.start();
    let coordinator = -1;
    await runCluster(o, dir, bed.file, o.objective, o.profileEvals, 64, (pid) => (coordinator = pid));
    const workerPids = new Set(bed.workers.map((w) => w.pid));
    const counts = await mon.stop((pid) => (pid === coordinator ? 'coordinator' : pid !== undefined && workerPids.has(pid) ? 'workers' : undefined));
    const requests: ClusterE2e['requests'] = {};
    for (const [side, m] of counts.top) {
      const by = [...m.entries()].sort((a, b2) => b2[1] - a[1]).map(([k, n]): [string, number] => [k, Number((n / o.profileEvals).toFixed(2))]);
      requests[side] = { total: Number(([...m.values()].reduce((a, b2) => a + b2, 0) / o.profileEvals).toFixed(2)), by };
    }
    await bed.stop();
    beds.length = 0;

    // round trips on the sequential critical path: the same worker behind the proxy, runs with and
    // without the added delay in alternating rounds (load on the machine hits both alike)
    const proxy = await startDelayProxy({ host: '127.0.0.1', port: server.port }, 0);
    const seqBed = await startBed(o, dir, { port: proxy.port, password: server.password }, 1, 1);
    beds.push(seqBed);
    const rounds = 4;
    const per = Math.max(10, Math.round(o.seqEvals / rounds));
    let direct = 0;
    let delayedMs = 0;
    for (let i = 0; i < rounds; i++) {
      proxy.oneWayMs = 0;
      direct += (await runCluster(o, dir, seqBed.file, o.objective, per, 1)).loopMs;
      proxy.oneWayMs = o.seqRttMs / 2;
      delayedMs += (await runCluster(o, dir, seqBed.file, o.objective, per, 1)).loopMs;
    }
    await seqBed.stop();
    beds.length = 0;
    const trials = per * rounds;
    const seq = { directMs: direct / trials, delayedMs: delayedMs / trials, roundTrips: (delayedMs - direct) / trials / o.seqRttMs, rttMs: o.seqRttMs, evals: trials };
    proxy.oneWayMs = o.rttMs / 2;

    // the delay row: 8 workers, 50 ms objective, everything behind the proxy
    const delayed: ClusterE2e['delayed'] = [];
    for (const prefetch of [0, 1]) {
      const slow = await startBed(o, dir, { port: proxy.port, password: server.password }, 8, 1, ['--prefetch', String(prefetch)]);
      beds.push(slow);
      // not measured: fresh workers start their objective thread and import the objective on their
      // first trial and gather their host facts (child processes) meanwhile; the rows are the
      // steady state, so the first measured run is not charged with that
      await runCluster(o, dir, slow.file, o.slowObjective, 48, 16);
      for (const [n, perJob] of prefetch === 0 ? [[8, 'auto'], [16, 'auto']] as const : [[16, 'auto'], [16, '1']] as const) {
        const run = await runCluster(o, dir, slow.file, o.slowObjective, o.delayEvals, n, undefined, ['--trials-per-job', perJob]);
        const rate = (o.delayEvals / run.loopMs) * 1000;
        delayed.push({ n, prefetch, perJob, evalsPerS: rate, ofIdeal: rate / 160 });
      }
      await slow.stop();
      beds.length = 0;
    }
    await proxy.close();
    return {
      evals: o.evals,
      evalsPerS: (o.evals / autoMs) * 1000,
      evalsPerSOnePerJob: (o.evals / one.ms) * 1000,
      pingPerS: Math.max(0, ...rates),
      commandsPerTrial: total / o.evals,
      top,
      requests,
      innerPerTrial: counts.inner / o.profileEvals,
      innerBy: [...counts.innerBy.entries()].sort((a, b2) => b2[1] - a[1]).slice(0, 6).map(([k, n]): [string, number] => [k, Number((n / o.profileEvals).toFixed(1))]),
      seq,
      delayed,
    };
  } finally {
    for (const b of beds) await b.stop();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The table rows of the cluster figures (bench:e2e and bench:e2e-cluster print the same). */
export function clusterRows(cl: ClusterE2e, o: Pick<ClusterE2eOptions, 'evals' | 'profileEvals' | 'seqEvals' | 'delayEvals' | 'rttMs'>): string[][] {
  const f0 = (x: number): string => x.toFixed(0);
  const side = (s: string): string => {
    const r = cl.requests[s];
    return r === undefined ? `${s} 0` : `${s} ${r.total.toFixed(2)} (${r.by.filter(([, n]) => n >= 0.05).map(([c, n]) => `${c} ${n}`).join(', ')})`;
  };
  const delayedRows = cl.delayed.map((d, i): string[] => [
    `${i === 0 ? `+${o.rttMs} ms round trip to Redis (delay proxy, ${o.rttMs / 2} ms each way), 8 workers x 1, 50 ms objective, ${o.delayEvals} evals: ` : '  same, '}-n ${d.n}, workers --prefetch ${d.prefetch}, --trials-per-job ${d.perJob}`,
    `${d.evalsPerS.toFixed(1)} evals/s: ${f0(d.ofIdeal * 100)}% of ideal 160/s`,
    d.n === 16 && d.prefetch === 1 && d.perJob === 'auto' ? '>= 70% of ideal' : '',
  ]);
  return [
    [`dehb run --cluster -n 64, 4 dehb workers x 16, ${o.evals} evals (start-up included) vs redis-benchmark -c 16 -t ping`, `${f0(cl.evalsPerS)} vs ${f0(cl.pingPerS)} pings/s: 1/${f0(cl.pingPerS / cl.evalsPerS)}`, '>= 1/25 of redis-benchmark'],
    ['  same, --trials-per-job 1 (one job per trial; the row above: auto)', `${f0(cl.evalsPerSOnePerJob)} evals/s: 1/${f0(cl.pingPerS / cl.evalsPerSOnePerJob)}`, ''],
    ['Redis commands per trial, all executed (INFO commandstats: inside scripts too)', `${cl.commandsPerTrial.toFixed(1)} (${cl.top.map(([c, n]) => `${c} ${n}`).join(', ')})`, '<= 20'],
    [`  requests sent per trial (MONITOR, ${o.profileEvals} evals)`, `${side('coordinator')}; ${side('workers')}`, ''],
    ['  commands run inside scripts per trial (MONITOR)', `${cl.innerPerTrial.toFixed(1)} (${cl.innerBy.map(([c, n]) => `${c} ${n}`).join(', ')})`, ''],
    [`round trips per trial on the critical path (-n 1, 1 worker x 1, ${cl.seq.evals} evals in alternating rounds: extra run-loop ms per trial with +${cl.seq.rttMs} ms RTT / ${cl.seq.rttMs})`, `${cl.seq.roundTrips.toFixed(1)} (${cl.seq.directMs.toFixed(1)} -> ${cl.seq.delayedMs.toFixed(1)} ms per trial)`, '<= 2'],
    ...delayedRows,
  ];
}
