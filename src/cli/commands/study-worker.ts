/**
 * `dehb study worker NAME`: join a study as a worker only (the same as `dehb worker --study NAME`
 * without a scheduler file). Evaluates the study's trials (a directory's local queue, or a Redis
 * study's BullMQ jobs through the worker runtime) until interrupted, idle for --idle-exit, or
 * --max-trials evaluated. Ctrl-C gives running trials --grace-ms to finish, then hands them back;
 * a second Ctrl-C hands them back at once (they go back to the queue, never recorded). With
 * --allow/--objective/--command (the allow-list of `dehb worker`) the study's objective must be
 * allowed there, or the worker refuses the study before it takes a trial.
 */
import type { Command } from 'commander';
import { parseDuration } from '../durations.js';
import { interruptSignals } from '../signals.js';
import { createLog } from '../log.js';
import { splitCommand } from '../argv.js';
import { intFlag, note, out, STORAGE_HELP, type StorageFlags } from './study-cli.js';

export interface StudyWorkerFlags extends StorageFlags {
  nWorkers?: string;
  acceptStudyFiles?: boolean;
  idleExit?: string;
  maxTrials?: string;
  trialsDir?: string;
  claimTtl?: string;
  id?: string;
  json?: boolean;
  quiet?: boolean;
  graceMs?: string;
  allow?: string[];
  objective?: string;
  command?: string;
}

export function addStudyWorkerOptions(cmd: Command): Command {
  return cmd
    .option('--storage <url>', STORAGE_HELP)
    .option('-n, --n-workers <n>', 'evaluations at once (default 1)')
    .option('--accept-study-files', "run the study's shipped input files (off by default: such trials fail)")
    .option('--idle-exit <duration>', 'exit after this long without work (default: keep waiting)')
    .option('--max-trials <n>', 'exit after this many results')
    .option('--trials-dir <dir>', 'where trial working directories go (default: in the study directory, or ./dehb-trials/study.<name> with Redis)')
    .option('--claim-ttl <duration>', "a trial whose worker stops heart-beating for this long is given to another worker (default 30s; Redis: the job lock, 10s)")
    .option('--id <id>', 'worker id shown in trial listings (default host-pid-random)')
    .option('--grace-ms <ms>', 'on SIGTERM/SIGINT: time running trials get to finish before they are handed back', '30000')
    .option('--allow <dir>', "run the study's objective only if its module or executable lies under this directory (repeatable; default: whatever the study names)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--objective <module>', "run the study's objective only if it is this module")
    .option('--command <cmd>', "run the study's objective only if it is this exact command")
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no per-trial lines');
}

export function registerStudyWorkerCommand(study: Command): void {
  addStudyWorkerOptions(study.command('worker').description('evaluate trials of a study (worker only; no optimizer)').argument('<name>')).action(
    async (name: string, flags: StudyWorkerFlags) => {
      process.exitCode = await studyWorkerCommand(name, flags);
    },
  );
}

/** Runs a worker from CLI flags; returns the exit code (130 when interrupted). */
export async function studyWorkerCommand(name: string, flags: StudyWorkerFlags): Promise<number> {
  const nWorkers = intFlag(flags.nWorkers, '--n-workers') ?? 1;
  const maxTrials = intFlag(flags.maxTrials, '--max-trials');
  const idleExitMs = flags.idleExit === undefined ? undefined : parseDuration(flags.idleExit, '--idle-exit');
  const claimTtlMs = flags.claimTtl === undefined ? undefined : parseDuration(flags.claimTtl, '--claim-ttl');
  const graceMs = intFlag(flags.graceMs, '--grace-ms', 0);
  const allow = allowList(flags);
  const signals = interruptSignals((n) => note(n === 1 ? `finishing running trials within ${graceMs ?? 30000} ms, then handing them back (Ctrl-C again: now)…` : 'handing running trials back…'));
  try {
    const { runStudyWorker } = await import('../../api/study-worker-run.js'); // loaded only when it runs
    const r = await runStudyWorker({
      storage: flags.storage,
      study: name,
      nWorkers,
      acceptStudyFiles: flags.acceptStudyFiles === true,
      ...(maxTrials === undefined ? {} : { maxTrials }),
      ...(idleExitMs === undefined ? {} : { idleExitMs }),
      ...(claimTtlMs === undefined ? {} : { claimTtlMs }),
      ...(flags.trialsDir === undefined ? {} : { trialsDir: flags.trialsDir }),
      ...(flags.id === undefined ? {} : { workerId: flags.id }),
      ...(graceMs === undefined ? {} : { graceMs }),
      ...(allow === undefined ? {} : { allow }),
      signal: signals.stop,
      killSignal: signals.kill,
      log: flags.quiet === true ? () => undefined : (await createLog('dehb study worker', { write: note }, { prefix: '' })).log,
      onTold: (e) => flags.quiet === true ? undefined : note(`trial ${e.trialId}: ${e.result.status}${e.result.fitness === undefined ? '' : ` fitness ${e.result.fitness}`}`),
    });
    note(`worker stopped (${r.reason}): ${r.toldHere} trial(s) evaluated here, ${r.toldTotal} told in the study`);
    if (flags.json === true) out(JSON.stringify(r));
    return r.reason === 'stopped' ? 130 : 0;
  } finally {
    signals.dispose();
  }
}

/** The allow-list flags (those of `dehb worker`); undefined when none is given. */
function allowList(flags: StudyWorkerFlags): { allow?: string[]; objective?: string; command?: string[] } | undefined {
  const dirs = flags.allow ?? [];
  if (dirs.length === 0 && flags.objective === undefined && flags.command === undefined) return undefined;
  return {
    ...(dirs.length === 0 ? {} : { allow: dirs }),
    ...(flags.objective === undefined ? {} : { objective: flags.objective }),
    ...(flags.command === undefined ? {} : { command: splitCommand(flags.command, '--command') }),
  };
}
