/**
 * `node --import tsx bench/cluster-cpu.ts`: CPU-ms per trial of the cluster throughput row's shape
 * (W=4 `dehb worker --concurrency C=16`, `dehb run --cluster -n N=64`, trivial objective), by
 * process: the coordinator (process.cpuUsage() at exit), the workers (/proc/<pid>/stat, all
 * threads; per thread at the end) and redis-server (INFO cpu). Each figure is the difference
 * between a run of BIG and one of SMALL trials, divided by BIG - SMALL, so start-up costs cancel;
 * CPU time, unlike a wall rate, holds on a machine loaded by others. Environment: W, C, N, BIG
 * (1500), SMALL (100), REPS (2), OBJ (a bench/fixtures file), WX / RX (extra worker / run flags),
 * WNODE / RNODE (node flags of the workers / the run, e.g. `--cpu-prof --cpu-prof-dir=DIR`),
 * TASKS=1 (print every thread's CPU).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedisServer } from '../src/cluster/redis-server.js';
import { makeSchedulerFile, writeSchedulerFile } from '../src/protocol/scheduler-file.js';
import { formatRedisUrl } from '../src/protocol/redis-url.js';
// ROOT: another checkout's build to measure (default this one)
const root = process.env.ROOT ?? fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const fixtures = join(root, 'bench/fixtures');
const nW = Number(process.env.W ?? 4), conc = Number(process.env.C ?? 16), n = Number(process.env.N ?? 64);
const big = Number(process.env.BIG ?? 1500), small = Number(process.env.SMALL ?? 100);
const extraW = (process.env.WX ?? '').split(' ').filter(Boolean);
const extraR = (process.env.RX ?? '').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'clperf-'));
const space = join(dir, 'space.json');
writeFileSync(space, JSON.stringify(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float', low: 0, high: 1 }]))));
// the run's own CPU time, printed as it exits
const cpuAtExit = join(dir, 'cpu-exit.cjs');
writeFileSync(cpuAtExit, "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`CPUUSAGE ${(u.user + u.system) / 1000}\\n`); });\n");
const server = await startRedisServer({ dir: join(dir, 'redis') });
const redis = new Redis({ host: '127.0.0.1', port: server.port, password: server.password });
const file = join(dir, 'sched.json');
await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: formatRedisUrl({ host: '127.0.0.1', port: server.port, password: server.password }), prefix: 'p', queue: 'evals' }));
const tick = 100; // clock ticks/s
const procCpu = (pid: number): number => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return ((Number(f[11]) + Number(f[12])) * 1000) / tick; };
const taskCpu = (pid: number): { main: number; threads: number; n: number } => { const out = { main: 0, threads: 0, n: 0 }; for (const t of readdirSync(`/proc/${pid}/task`)) { const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' '); const v = ((Number(f[11]) + Number(f[12])) * 1000) / tick; const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(); if (Number(t) === pid) out.main += v; else { out.threads += v; out.n++; } if (process.env.TASKS) console.log(pid, t, name, v); } return out; };
const redisCpu = async (): Promise<number> => { const i = await redis.info('cpu'); return (Number(/used_cpu_sys:([\d.]+)/.exec(i)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(i)![1])) * 1000; };
const workers: ChildProcess[] = [];
for (let i = 0; i < nW; i++) workers.push(spawn(process.execPath, [...(process.env.WNODE ? process.env.WNODE.split(' ') : []), cli, 'worker', '--scheduler-file', file, '--gpus', 'none', '--allow', fixtures, '--concurrency', String(conc), ...extraW], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir }));
await Promise.all(workers.map((w) => new Promise<void>((res) => { let e = ''; w.stderr!.on('data', (d) => { e += d; if (/serving queue/.test(e)) res(); }); })));
let seq = 0;
const run = (evals: number): Promise<{ cpu: number; ms: number }> => new Promise((res, rej) => {
  const t0 = performance.now();
  const p = spawn(process.execPath, ['--require', cpuAtExit, ...(process.env.RNODE ? process.env.RNODE.split(' ') : []), cli, 'run', '--cluster', '--scheduler-file', file, '--space', space, '--objective', join(fixtures, process.env.OBJ ?? 'noop-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '27', '--eta', '3', '--seed', '1', '--fevals', String(evals), '-n', String(n), '--output', join(dir, `run-${seq++}`), '-q', ...extraR], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let err = ''; p.stderr.on('data', (d) => (err += d));
  p.once('exit', (code) => { if (code !== 0) return rej(new Error(err)); res({ cpu: Number(/CPUUSAGE ([\d.]+)/.exec(err)![1]), ms: performance.now() - t0 }); });
});
const measure = async (evals: number) => {
  const w0 = workers.map((w) => procCpu(w.pid!)); const r0 = await redisCpu();
  const m0 = workers.map((w) => taskCpu(w.pid!).main).reduce((a, b) => a + b, 0);
  const c = await run(evals);
  await new Promise((r) => setTimeout(r, 300));
  const w1 = workers.map((w) => procCpu(w.pid!)); const r1 = await redisCpu();
  const m1 = workers.map((w) => taskCpu(w.pid!).main).reduce((a, b) => a + b, 0);
  return { coord: c.cpu, ms: c.ms, workers: w1.reduce((a, b, i) => a + b - w0[i]!, 0), workersMain: m1 - m0, redis: r1 - r0 };
};
await measure(small); // warm
const reps = Number(process.env.REPS ?? 2);
const acc = { coord: 0, workers: 0, workersMain: 0, redis: 0, ms: 0 };
for (let i = 0; i < reps; i++) {
  const s = await measure(small), b = await measure(big);
  for (const k of ['coord', 'workers', 'workersMain', 'redis', 'ms'] as const) acc[k] += (b[k] - s[k]) / (big - small) / reps;
  console.log(JSON.stringify({ small: s, big: b }));
}
console.log(`CPU-ms per trial: coordinator ${acc.coord.toFixed(3)}, workers ${acc.workers.toFixed(3)} (main threads ${acc.workersMain.toFixed(3)}), redis ${acc.redis.toFixed(3)}, total ${(acc.coord + acc.workers + acc.redis).toFixed(3)}; wall ms per trial ${acc.ms.toFixed(3)}`);
console.log('worker main vs other threads (ms, whole life):', JSON.stringify(workers.map((w) => taskCpu(w.pid!))));
for (const w of workers) w.kill('SIGTERM');
await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
redis.disconnect(); await server.stop();
rmSync(dir, { recursive: true, force: true });
