/**
 * Owns `dehb worker`: parse the flags, start the cluster worker runtime, and stop it on
 * SIGINT/SIGTERM (first signal: finish running trials within --grace-ms, then hand the rest back;
 * second signal: hand back at once). One worker serves every run and every Redis-stored study of
 * its queue; `--study NAME` with `--scheduler-file` only filters (it takes that study's jobs
 * only). `--study NAME` without a scheduler file joins the study through its storage instead (same
 * as `dehb study worker NAME`: a directory study's local queue, or a Redis study's jobs), with
 * the same --max-trials, --grace-ms and allow-list flags. Human text on stderr.
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { intFlag } from '../flags.js';
import type { ClusterWorkerOptions } from '../../cluster/bullmq/worker-runtime.js';
import { parseGpuList } from '../../gpu/discover.js';
import { splitCommand } from '../argv.js';
import { studyWorkerCommand } from './study-worker.js';
import { createLog } from '../log.js';
import { studyRunId } from '../../study/storage.js';

export interface WorkerCommandIo {
  stderr: { write(chunk: string): unknown };
  /** Stops the worker (tests); by default SIGINT/SIGTERM do. */
  stopSignal?: AbortSignal;
}

interface WorkerFlags {
  schedulerFile?: string;
  study?: string;
  storage?: string;
  acceptStudyFiles?: boolean;
  idleExit?: string;
  maxTrials?: string;
  quiet?: boolean;
  threads?: boolean;
  concurrency?: string;
  prefetch?: string;
  gpus: string;
  gpusPerTrial?: string;
  allow: string[];
  objective?: string;
  command?: string;
  lockDuration: string;
  stalledInterval: string;
  maxStalledCount: string;
  graceMs: string;
  waitMs: string;
  id?: string;
  trialsDir?: string;
}


/** Translates flags into runtime options (exported for tests). */
export function workerOptionsFromFlags(flags: WorkerFlags): ClusterWorkerOptions {
  parseGpuList(flags.gpus); // validates: E_USAGE/E_CONFIG naming --gpus
  const lockDurationMs = intFlag(flags.lockDuration, '--lock-duration', 1000) as number;
  const stalledIntervalMs = intFlag(flags.stalledInterval, '--stalled-interval', 500) as number;
  if (flags.schedulerFile === undefined) {
    throw new DehbError('E_USAGE', 'dehb worker needs --scheduler-file FILE (a cluster run) or --study NAME (a named study)');
  }
  const o: ClusterWorkerOptions = {
    schedulerFile: flags.schedulerFile,
    gpus: flags.gpus,
    allow: flags.allow,
    lockDurationMs,
    stalledIntervalMs,
    maxStalledCount: intFlag(flags.maxStalledCount, '--max-stalled-count', 0) as number,
    graceMs: intFlag(flags.graceMs, '--grace-ms', 0) as number,
    waitMs: intFlag(flags.waitMs, '--wait-ms', 0) as number,
  };
  const concurrency = intFlag(flags.concurrency, '--concurrency', 1);
  if (concurrency !== undefined) o.concurrency = concurrency;
  const prefetch = intFlag(flags.prefetch, '--prefetch', 0);
  if (prefetch !== undefined) o.prefetch = prefetch;
  const perTrial = intFlag(flags.gpusPerTrial, '--gpus-per-trial', 0);
  if (perTrial !== undefined) o.gpusPerTrial = perTrial;
  if (flags.objective !== undefined) o.objective = flags.objective;
  if (flags.command !== undefined) o.command = splitCommand(flags.command, '--command');
  if (flags.id !== undefined) o.id = flags.id;
  if (flags.trialsDir !== undefined) o.trialsDir = flags.trialsDir;
  if (flags.threads === false) o.threads = false;
  if (flags.study !== undefined) o.runs = [studyRunId(flags.study)];
  return o;
}

export function registerWorkerCommand(program: Command, io?: WorkerCommandIo): Command {
  return program
    .command('worker')
    .description('take evaluations from a cluster queue (any run sharing the Redis) and run them on this node')
    .option('--scheduler-file <file>', 'scheduler file written by `dehb scheduler start|init` (waited for)')
    .option('--study <name>', 'only this study: with --scheduler-file, take only its jobs; without, join it through --storage')
    .option('--storage <url>', 'with --study: directory or redis:// URL of the study storage (default ./dehb-studies or $DEHB_STORAGE)')
    .option('--accept-study-files', "with --study: run the study's shipped input files")
    .option('--idle-exit <duration>', 'with --study: exit after this long without work')
    .option('--max-trials <n>', 'with --study: exit after this many results')
    .option('-q, --quiet', 'with --study: no per-trial lines')
    .option('--concurrency <n>', 'evaluations at once (default: GPUs / --gpus-per-trial, or 1 without GPUs)')
    .option('--prefetch <n>', 'jobs taken ahead of a free slot, so no Redis round trip sits between two evaluations (default 0; worth it when runs keep more trials in flight than all workers have slots)')
    .option('--gpus <spec>', 'GPUs of this node: auto, none, or 0,1 / GPU- UUIDs', 'auto')
    .option('--gpus-per-trial <n>', "devices per evaluation on this node (default: the trial's own request)")
    .option('--allow <dir>', 'run module/command objectives under this directory (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--objective <module>', 'run this module objective')
    .option('--command <cmd>', 'run this exact command objective')
    .option('--lock-duration <ms>', 'job lock TTL; a dead worker\'s trial is taken over after about this plus up to 2 stalled intervals', '10000')
    .option('--stalled-interval <ms>', 'how often workers look for trials whose worker died', '5000')
    .option('--max-stalled-count <n>', 'times a trial may be taken over from a dead worker before it fails', '3')
    .option('--grace-ms <ms>', 'on SIGTERM/SIGINT: time running trials get to finish before they are handed back', '30000')
    .option('--wait-ms <ms>', 'how long to wait for the scheduler file and Redis at start', '120000')
    .option('--trials-dir <dir>', 'where trial directories go: <dir>/<run id>/<trial id>, logs kept (default: a temporary folder, each removed after its trial)')
    .option('--id <name>', 'worker id in trial records (default host:pid)')
    .option('--no-threads', 'run module objectives on the worker\'s event loop instead of threads (async objectives only)')
    .action(async (flags: WorkerFlags) => {
      if (flags.study !== undefined && flags.schedulerFile === undefined) {
        process.exitCode = await studyWorkerCommand(flags.study, {
          ...(flags.storage === undefined ? {} : { storage: flags.storage }),
          ...(flags.concurrency === undefined ? {} : { nWorkers: flags.concurrency }),
          ...(flags.acceptStudyFiles === true ? { acceptStudyFiles: true } : {}),
          ...(flags.idleExit === undefined ? {} : { idleExit: flags.idleExit }),
          ...(flags.maxTrials === undefined ? {} : { maxTrials: flags.maxTrials }),
          ...(flags.id === undefined ? {} : { id: flags.id }),
          ...(flags.quiet === true ? { quiet: true } : {}),
          graceMs: flags.graceMs,
          allow: flags.allow,
          ...(flags.objective === undefined ? {} : { objective: flags.objective }),
          ...(flags.command === undefined ? {} : { command: flags.command }),
        });
        return;
      }
      const err = await createLog('dehb worker', io?.stderr ?? process.stderr); // --log-format, --log-level
      const opts = workerOptionsFromFlags(flags);
      opts.log = err.log;
      const { startClusterWorker } = await import('../../cluster/bullmq/worker-runtime.js'); // loaded only when it runs
      const worker = await startClusterWorker(opts);
      let signals = 0;
      let onSignal = (): void => undefined;
      await new Promise<void>((done) => {
        onSignal = (): void => {
          signals++;
          if (signals === 1) {
            err.write(`dehb worker: stopping; running trials get ${opts.graceMs ?? 30000} ms, then are handed back (Ctrl-C again: now)\n`);
            void worker.stop().then(done, done);
          } else {
            void worker.stop({ graceMs: 0 });
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        io?.stopSignal?.addEventListener('abort', onSignal, { once: true });
        // said once the signal handlers are in place: a supervisor that waits for this line and
        // then sends SIGTERM gets the graceful stop, not a kill
        const c = worker.connection;
        err.write(
          `dehb worker: ${worker.id} serving queue ${c.prefix}:${c.queue} at ${c.endpoint.host}:${c.endpoint.port} ` +
            `with concurrency ${worker.concurrency}; Ctrl-C to stop\n`,
        );
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      err.write(`dehb worker: stopped (${worker.stats.stored} results stored, ${worker.stats.handedBack} handed back)\n`);
      // An evaluation that ignores its abort signal (synchronous JS) or a socket stuck on a dead
      // Redis must not keep a stopped worker alive: exit if anything still holds the loop.
      if (io === undefined) setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
    });
}
