import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createClusterExecutor } from '../src/cluster/bullmq/client.js';
const W = Number(process.argv[2] ?? 4), C = Number(process.argv[3] ?? 64), N = Number(process.argv[4] ?? 20000), port = Number(process.argv[5] ?? 6379);
const prefix = `tp${Date.now()}`;
const connection = { endpoint: { host: '127.0.0.1', port, db: 0 }, prefix, queue: 'evals', resultsKey: `${prefix}:evals:dehb:results` };
const procs = [];
for (let i = 0; i < W; i++) {
  const p = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', '/work/main/bench/lib/cluster-worker-entry.ts', JSON.stringify({ connection, concurrency: C, gpus: 'none', allow: ['/work/main/bench/fixtures'] })], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  await once(p.stdout, 'data');
}
const cap = W * C * 2;
const exec = await createClusterExecutor({ connection, runId: 'tp', capacity: cap, log: () => {} });
const obj = { kind: 'module', path: '/work/main/bench/fixtures/noop-objective.mjs' } as const;
const r = new Redis({ port });
await r.config('RESETSTAT');
const cpu = async () => { const t = await r.info('cpu'); const m = (k: string) => Number(new RegExp(k + ':([0-9.]+)').exec(t)![1]); return m('used_cpu_user') + m('used_cpu_sys'); };
const rc0 = await cpu(); const c0 = process.cpuUsage();
let next = 0, done = 0;
const t0 = performance.now();
await new Promise<void>((resolve) => {
  const start = () => {
    const id = next++;
    exec.submit({ v: 1, runId: 'tp', trialId: id, config: { x0: id }, fidelity: 1, objective: obj, timeoutMs: null, gpus: 0 }).then((o) => {
      if (o.status !== 'ok') throw new Error(JSON.stringify(o));
      done++;
      if (next < N) start(); else if (done === N) resolve();
    });
  };
  for (let i = 0; i < Math.min(cap, N); i++) start();
});
const dt = (performance.now() - t0) / 1000;
const rc1 = await cpu(); const c1 = process.cpuUsage(c0);
console.log(`W=${W} C=${C} N=${N}: ${(N / dt).toFixed(0)} evals/s; redis cpu ${(rc1 - rc0).toFixed(2)} s, coordinator cpu ${((c1.user + c1.system) / 1e6).toFixed(2)} s, wall ${dt.toFixed(2)} s`);
const stats = await r.info('commandstats');
for (const line of stats.split('\n')) { const m = /cmdstat_(\w+):calls=(\d+),usec=(\d+)/.exec(line); if (m && Number(m[2]) > N / 20) console.log(m[1], (Number(m[2]) / N).toFixed(2), 'calls/eval', (Number(m[3]) / N).toFixed(1), 'us/eval'); }
r.disconnect();
await exec.close();
for (const p of procs) p.kill('SIGTERM');
await Promise.all(procs.map((p) => once(p, 'exit')));
