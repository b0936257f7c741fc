/**
 * `node --import tsx bench/cluster-failover.ts`: trials per second of a `dehb run --cluster` before
 * and after an unplanned failover (the queue's master frozen with SIGSTOP until its replica is
 * promoted) on a local 3-master Redis Cluster with replicas (test/fixtures/cluster/redis-cluster.ts),
 * two `dehb worker --concurrency 2` and `-n 4`, a 150 ms objective (so 4 slots give about 26/s).
 * Per repetition: the rate over the last 20 trials before the freeze, and over the trials that end
 * from 8 s after the promotion (after the 5 s slot refresh) to the end of the run. Environment:
 * REPS (4), FEVALS (150), ENTRY (another build's dist/cli/main.js, for a before/after; default this
 * checkout's, npm run build first). The rate after the promotion counts from the promotion to the
 * end of the run (so it includes the recovery).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSchedulerFile, writeSchedulerFile } from '../src/protocol/scheduler-file.js';
import { startRedisCluster } from '../test/fixtures/cluster/redis-cluster.js';
import { readLog } from '../test/fixtures/cluster/harness.js';
import { clusterRunArgs, withWorkers } from '../test/fixtures/cluster/cli-run.js';
import { spawnCli, type CliProc } from '../test/fixtures/cluster/procs.js';

const entry = process.env.ENTRY;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): CliProc => spawnCli(args, { env, ...(entry === undefined ? {} : { entry }) });

const reps = Number(process.env.REPS ?? 4);
const fevals = Number(process.env.FEVALS ?? 150);
const dir = mkdtempSync(join(tmpdir(), 'dehb-failover-bench-'));
const cluster = await startRedisCluster();
const ends = (log: string): number => readLog(log).filter((l) => l.kind === 'E').length;

try {
  for (let rep = 0; rep < reps; rep++) {
    const prefix = `fo${rep}`;
    const file = join(dir, `${prefix}.json`);
    await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: cluster.clusterUrl, prefix, queue: 'evals' }));
    const log = join(dir, `${prefix}.log`);
    const out = join(dir, `${prefix}-run`);
    // (time, trials ended) samples every 50 ms
    const samples: Array<[number, number]> = [];
    let promotedAt = 0;
    let frozeAt = 0;
    await withWorkers(file, { DEHB_TEST_LOG: log, DEHB_TEST_SLEEP_MS: '150' }, async () => {
      const run = cli(clusterRunArgs(file, out, fevals, dir), process.env.RUN_DEBUG === undefined ? {} : { DEBUG: process.env.RUN_DEBUG });
      const timer = setInterval(() => samples.push([Date.now(), ends(log)]), 50);
      try {
        while (ends(log) < 30 && run.proc.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        frozeAt = Date.now();
        const moved = await cluster.freezeOwner(`{${prefix}}:evals`);
        promotedAt = Date.now();
        if (process.env.DIAG === '1') {
          await new Promise((r) => setTimeout(r, 10_000));
          const { Redis } = await import('ioredis');
          for (const port of cluster.ports.filter((p) => p !== moved.from)) {
            const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
            await r.connect();
            const role = (await r.info('replication')).match(/role:(\w+)/)?.[1];
            const list = String(await r.client('LIST')).split('\n').filter((l) => /cmd=(bzpopmin|xread|cluster)/.test(l));
            process.stdout.write(`node ${port} (${role}${port === moved.to ? ', NEW MASTER' : ''}):\n${list.map((l) => '  ' + l.replace(/ (laddr|fd|events|omem|tot-mem|rbs|rbp|qbuf-free|argv-mem|multi-mem|obl|oll|resp|lib-name|lib-ver|redir|user|sub|psub|ssub|watch|flags|multi|qbuf)=\S*/g, '')).join('\n')}\n`);
            if (port === moved.to) process.stdout.write(`  marker zcard ${await r.zcard(`{${prefix}}:evals:marker`)} wait llen ${await r.llen(`{${prefix}}:evals:wait`)} active ${await r.llen(`{${prefix}}:evals:active`)}\n`);
            r.disconnect();
          }
        }
        const exit = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 300_000))]);
        if (process.env.RUN_DEBUG !== undefined) (await import('node:fs')).writeFileSync(`/tmp/failover-run-${rep}.err`, `froze ${frozeAt} promoted ${promotedAt} from ${moved.from} to ${moved.to}\n${run.err()}`);
        if (exit?.code !== 0) throw new Error(`run failed: ${run.err()}`);
        await moved.resume();
      } finally {
        clearInterval(timer);
        run.kill('SIGKILL');
      }
    }, { entry });
    const at = (t: number): [number, number] => samples.find(([s]) => s >= t) ?? (samples[samples.length - 1] as [number, number]);
    const before = samples.filter(([s]) => s <= frozeAt);
    const lastB = before[before.length - 1] as [number, number];
    const firstB = before.find(([, n]) => n >= lastB[1] - 20) as [number, number];
    const from = at(promotedAt);
    const endS = samples.find(([, n]) => n >= fevals) ?? (samples[samples.length - 1] as [number, number]);
    const rate = (a: [number, number], b: [number, number]): string => ((b[1] - a[1]) / Math.max(1e-3, (b[0] - a[0]) / 1000)).toFixed(1);
    process.stdout.write(
      `rep ${rep}: before ${rate(firstB, lastB)} trials/s; freeze->promotion ${((promotedAt - frozeAt) / 1000).toFixed(1)} s; ` +
        `after: ${endS[1] - from[1]} trials in ${((endS[0] - from[0]) / 1000).toFixed(1)} s = ${rate(from, endS)} trials/s\n`,
    );
  }
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
