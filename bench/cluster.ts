/**
 * `npm run bench:cluster`: the BullMQ/Redis cluster end to end with a trivial module objective, on
 * a private redis-server started the way `dehb scheduler start` does (AOF everysec, noeviction,
 * password). Prints
 *  1. latency: sequential evaluations in-process (runTask) vs through Redis and one worker process;
 *  2. throughput (evals/s) for 1, 2 and 4 worker processes (closed loop, capacity kept full);
 *  3. the same through `new DEHB({ client })` (optimizer + journal + cluster), 4 workers;
 *  4. Redis used_memory and keys after 100, 1,000, 10,000, 30,000 finished trials (no growth per job).
 * Flags: --evals N (20000) --concurrency C (64 per worker) --latency-evals N (300)
 *        --memory 100,1000,10000,30000 --dehb-evals N (5000). Last line: JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { BullmqExecutor } from '../src/cluster/bullmq/executor.js';
import { createClusterExecutor } from '../src/cluster/bullmq/client.js';
import { createClusterClient } from '../src/cluster/bullmq/client.js';
import type { EvalTask, ObjectiveRef } from '../src/protocol/executor.js';
import { runTask } from '../src/cluster/run-task.js';
import { startRedisServer } from '../src/cluster/redis-server.js';
import { makeSchedulerFile, writeSchedulerFile } from '../src/protocol/scheduler-file.js';
import { formatRedisUrl } from '../src/protocol/redis-url.js';
import { DEHB } from '../src/api/dehb.js';
import { parseFlags, intFlag, strFlag } from './lib/args.js';
import { formatTable } from './lib/table.js';

const flags = parseFlags({
  evals: { type: 'string' },
  concurrency: { type: 'string' },
  'latency-evals': { type: 'string' },
  memory: { type: 'string' },
  'dehb-evals': { type: 'string' },
});
const N = intFlag(flags, 'evals', 20_000, 100);
const C = intFlag(flags, 'concurrency', 64, 1);
const L = intFlag(flags, 'latency-evals', 300, 10);
const MEM = strFlag(flags, 'memory', '100,1000,10000,30000').split(',').map(Number);
const ND = intFlag(flags, 'dehb-evals', 5_000, 0);

const here = fileURLToPath(new URL('.', import.meta.url));
const OBJ_DIR = join(here, 'fixtures');
const objective: ObjectiveRef = { kind: 'module', path: join(OBJ_DIR, 'noop-objective.mjs') };
const dir = mkdtempSync(join(tmpdir(), 'dehb-bench-cluster-'));
const server = await startRedisServer({ dir: join(dir, 'redis') });
let fileSeq = 0;

async function schedulerFile(prefix: string): Promise<string> {
  const path = join(dir, `sched-${fileSeq++}.json`);
  const redisUrl = formatRedisUrl({ host: '127.0.0.1', port: server.port, password: server.password });
  await writeSchedulerFile(path, makeSchedulerFile({ redisUrl, prefix, queue: 'evals' }));
  return path;
}

async function startWorkers(file: string, n: number, concurrency: number): Promise<ChildProcess[]> {
  const entry = join(here, 'lib', 'cluster-worker-entry.ts');
  const opts = JSON.stringify({ schedulerFile: file, concurrency, gpus: 'none', allow: [OBJ_DIR] });
  const procs = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', entry, opts], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  await Promise.all(procs.map((p) => once(p.stdout as NodeJS.ReadableStream, 'data')));
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode === null ? once(p, 'exit') : Promise.resolve())));
}

let trialSeq = 0;
function task(runId: string): EvalTask {
  const trialId = trialSeq++;
  return { v: 1, runId, trialId, config: { x0: trialId % 7 }, fidelity: 1, objective, timeoutMs: null, gpus: 0 };
}

/** Keeps `cap` evaluations in flight until n have finished; returns seconds. */
async function closedLoop(exec: BullmqExecutor, runId: string, n: number, cap: number): Promise<number> {
  let started = 0;
  let done = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const start = (): void => {
      started++;
      const t = task(runId);
      exec.submit(t).then((o) => {
        if (o.status !== 'ok') reject(new Error(`evaluation failed: ${JSON.stringify(o)}`));
        exec.recorded(t); // as the run loop does once the journal has the result
        done++;
        if (started < n) start();
        else if (done === n) resolve();
      }, reject);
    };
    for (let i = 0; i < Math.min(cap, n); i++) start();
  });
  return (performance.now() - t0) / 1000;
}

const quiet = (): void => undefined;
const out: Record<string, unknown> = { redis: server.facts.version, concurrencyPerWorker: C };

// 1. latency
const localMs = await (async () => {
  for (let i = 0; i < 20; i++) await runTask(task('warm'));
  const t0 = performance.now();
  for (let i = 0; i < L; i++) await runTask(task('local'));
  return (performance.now() - t0) / L;
})();
const clusterMs = await (async () => {
  const file = await schedulerFile('lat');
  const procs = await startWorkers(file, 1, 1);
  const exec = await createClusterExecutor({ schedulerFile: file, runId: 'lat', capacity: 1, log: quiet });
  for (let i = 0; i < 20; i++) await exec.submit(task('lat'));
  const t0 = performance.now();
  for (let i = 0; i < L; i++) await exec.submit(task('lat'));
  const ms = (performance.now() - t0) / L;
  await exec.close();
  await stopWorkers(procs);
  return ms;
})();
console.log(`latency, ${L} sequential evaluations: in-process ${(localMs * 1000).toFixed(0)} µs, through Redis + 1 worker ${clusterMs.toFixed(2)} ms; added ${(clusterMs - localMs).toFixed(2)} ms per evaluation`);
out.latency = { localUs: Math.round(localMs * 1000), clusterMs: Number(clusterMs.toFixed(3)), addedMs: Number((clusterMs - localMs).toFixed(3)) };

// 2. throughput for 1, 2, 4 workers
const rows: string[][] = [];
const tput: Array<{ workers: number; evalsPerSec: number }> = [];
for (const w of [1, 2, 4]) {
  const file = await schedulerFile(`tp${w}`);
  const procs = await startWorkers(file, w, C);
  const cap = 2 * w * C;
  const exec = await createClusterExecutor({ schedulerFile: file, runId: `tp${w}`, capacity: cap, log: quiet });
  await closedLoop(exec, `tp${w}`, Math.min(2_000, N), cap); // warm-up
  const s = await closedLoop(exec, `tp${w}`, N, cap);
  await exec.close();
  await stopWorkers(procs);
  const perSec = N / s;
  tput.push({ workers: w, evalsPerSec: Math.round(perSec) });
  rows.push([`${w} worker process${w > 1 ? 'es' : ''}`, String(C), String(cap), String(N), perSec.toFixed(0), ((s / N) * 1e6).toFixed(0)]);
}
console.log(formatTable(['cluster (trivial module objective)', 'concurrency', 'capacity', 'evals', 'evals/s', 'µs/eval'], rows));
out.throughput = tput;

// 3. the whole stack: DEHB + journal + cluster client, 4 workers
if (ND > 0) {
  const file = await schedulerFile('dehb');
  const procs = await startWorkers(file, 4, C);
  try {
    const client = await createClusterClient(file, { log: quiet });
    const space = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, { type: 'float' as const, low: 0, high: 1 }]));
    const dehb = new DEHB({ space, objective: objective.kind === 'module' ? objective.path : '', minFidelity: 1, maxFidelity: 27, eta: 3, seed: 1, nWorkers: 4 * C, client, outputDir: join(dir, 'dehb-run') });
    const t0 = performance.now();
    await dehb.run({ fevals: ND });
    const s = (performance.now() - t0) / 1000;
    console.log(`DEHB.run via createClusterClient (optimizer + journal + Redis), 4 workers x ${C}: ${ND} evals in ${s.toFixed(2)} s = ${(ND / s).toFixed(0)} evals/s`);
    out.dehbRun = { evals: ND, evalsPerSec: Math.round(ND / s) };
  } catch (err) {
    console.log(`DEHB.run via createClusterClient: not measured (${(err as Error).message})`);
  } finally {
    await stopWorkers(procs);
  }
}

// 4. memory per finished job
{
  const file = await schedulerFile('mem');
  const procs = await startWorkers(file, 2, C);
  const exec = await createClusterExecutor({ schedulerFile: file, runId: 'mem', capacity: 4 * C, log: quiet });
  const admin = new Redis({ host: '127.0.0.1', port: server.port, password: server.password });
  const snapshot = async (): Promise<{ used: number; keys: number; results: number; events: number }> => {
    await new Promise((r) => setTimeout(r, 100)); // let batched deletes land
    const info = await admin.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
    const keys = (await admin.keys('mem:*')).length;
    return { used, keys, results: await admin.hlen('mem:evals:dehb:results'), events: await admin.xlen('mem:evals:events') };
  };
  await closedLoop(exec, 'mem', 10, 10);
  const mrows: string[][] = [];
  const base = await snapshot();
  mrows.push(['after 10 (baseline)', String(base.used), String(base.keys), String(base.results), String(base.events), '']);
  const memOut = [{ finished: 10, ...base }];
  let finished = 10;
  for (const target of MEM) {
    const s = await closedLoop(exec, 'mem', target - finished, 4 * C);
    const rate = (target - finished) / s;
    finished = target;
    const snap = await snapshot();
    memOut.push({ finished, ...snap });
    mrows.push([`after ${finished}`, String(snap.used), String(snap.keys), String(snap.results), String(snap.events), rate.toFixed(0)]);
  }
  console.log(formatTable(['finished trials', 'used_memory B', 'keys', 'results', 'event stream', 'evals/s'], mrows));
  const last = memOut[memOut.length - 1];
  const prev = memOut[memOut.length - 2];
  if (last !== undefined && prev !== undefined && last.finished > prev.finished) {
    console.log(`growth from ${prev.finished} to ${last.finished} finished trials: ${((last.used - prev.used) / (last.finished - prev.finished)).toFixed(1)} B per trial (the event stream is capped at ~20,000 entries)`);
  }
  out.memory = memOut;
  admin.disconnect();
  await exec.close();
  await stopWorkers(procs);
}

await server.stop();
rmSync(dir, { recursive: true, force: true });
console.log('for comparison on this kind of machine: reference DEHB + Dask 17–49 evals/s; Optuna with its Redis journal 76–127 trials/s; one Redis round trip ~0.14 ms');
console.log(JSON.stringify(out));
