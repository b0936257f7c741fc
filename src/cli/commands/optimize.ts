/**
 * `dehb optimize NAME --fevals N | --brackets N | --runtime 10m`: run or join a study until its
 * TOTAL budget is met (re-running with the same N returns at once; a larger N extends the study).
 * Any number of these processes may share a study: one leads (holds the lease, runs the
 * optimizer), all evaluate (on Redis, through the `dehb worker` runtime in process, next to any
 * `dehb worker` of that Redis); if the leader dies another takes over by replaying the journal.
 * Ctrl-C finishes running trials; a second Ctrl-C cancels them (they go back to the queue).
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { parseDuration } from '../durations.js';
import { addBudgetOptions, budgetFromFlags, hasBudget, ONE_BUDGET, type BudgetFlags } from '../budget-flags.js';
import { addEvalOptions, connectCluster, parseEvalFlags, type EvalFlags } from '../eval-flags.js';
import { interruptSignals } from '../signals.js';
import { allFailedReason } from '../summary.js';
import { dashboardPort, startDashboardFor } from './report.js';
import { createLog } from '../log.js';
import { studyRunId } from '../../study/storage.js';
import { fmt, intFlag, note, out, STORAGE_HELP, withStudy, type StorageFlags } from './study-cli.js';

interface OptimizeFlags extends StorageFlags, BudgetFlags, EvalFlags {
  acceptStudyFiles?: boolean;
  trialsDir?: string;
  leaseTtl?: string;
  claimTtl?: string;
  graceMs?: string;
  json?: boolean;
  quiet?: boolean;
  dashboard?: string | boolean;
}

export function registerOptimizeCommand(program: Command): void {
  const cmd = program
    .command('optimize')
    .description("run or join a study until its total budget is met (several processes may share one study)")
    .argument('<name>', 'study name');
  addBudgetOptions(cmd, { fevals: 'total told trials of the study', brackets: 'total Hyperband brackets of the study', runtime: 'wall-clock time of this invocation, e.g. 90s, 10m' });
  addEvalOptions(cmd, 'evaluations this process runs at once (default 1; with --cluster: trials out at once)');
  cmd
    .option('--storage <url>', STORAGE_HELP)
    .option('--accept-study-files', "run the study's shipped input files")
    .option('--trials-dir <dir>', 'where trial working directories go')
    .option('--lease-ttl <duration>', 'leader lease; a dead leader is replaced after about this long (default 10s)')
    .option('--claim-ttl <duration>', "a dead process's trial goes to another after this long (default 30s; Redis: the job lock, 10s)")
    .option('--grace-ms <ms>', "on SIGTERM/SIGINT: time this process's running trials get to finish before they are handed back (directory studies; default 30000)")
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no per-trial lines')
    .option('--dashboard [port]', 'serve a live dashboard of the study on 127.0.0.1 (default port 8080)')
    .action(async (name: string, flags: OptimizeFlags) => {
      process.exitCode = await optimizeCommand(name, flags);
    });
}

export async function optimizeCommand(name: string, flags: OptimizeFlags): Promise<number> {
  const budget = budgetFromFlags(flags);
  if (!hasBudget(budget)) throw new DehbError('E_USAGE', ONE_BUDGET);
  const ev = parseEvalFlags(flags);
  const leaseTtlMs = flags.leaseTtl === undefined ? undefined : parseDuration(flags.leaseTtl, '--lease-ttl');
  const claimTtlMs = flags.claimTtl === undefined ? undefined : parseDuration(flags.claimTtl, '--claim-ttl');
  const graceMs = intFlag(flags.graceMs, '--grace-ms', 0);
  const port = dashboardPort(flags.dashboard);
  return withStudy(name, flags, async (study) => {
    // --cluster: this process only coordinates; the cluster's workers evaluate every trial
    const client = await connectCluster(flags, 'dehb optimize');
    const executor = client === undefined ? undefined : await client.executor(studyRunId(name), ev.nWorkersGiven ? ev.nWorkers : undefined);
    const dashboard = port === null ? null : await startDashboardFor({ study: name, ...(flags.storage === undefined ? {} : { storage: flags.storage }) }, { port });
    const signals = interruptSignals((n) => note(n === 1 ? `stopping: running trials get ${graceMs ?? 30000} ms to finish, then are handed back (Ctrl-C again: now)…` : 'cancelling running trials…'));
    let best = Infinity;
    try {
      const r = await study.optimize({
        ...budget,
        nWorkers: ev.nWorkers,
        singleNodeWithGpus: ev.singleNodeWithGpus,
        gpusPerTrial: ev.gpusPerTrial,
        ...(ev.trialTimeoutMs === undefined ? {} : { trialTimeoutMs: ev.trialTimeoutMs }),
        ...(executor === undefined ? {} : { executor }),
        acceptStudyFiles: flags.acceptStudyFiles === true,
        ...(flags.trialsDir === undefined ? {} : { trialsDir: flags.trialsDir }),
        ...(leaseTtlMs === undefined ? {} : { leaseTtlMs }),
        ...(claimTtlMs === undefined ? {} : { claimTtlMs }),
        ...(graceMs === undefined ? {} : { graceMs }),
        signal: signals.stop,
        killSignal: signals.kill,
        log: flags.quiet === true ? () => undefined : (await createLog('dehb optimize', { write: note }, { prefix: '' })).log,
        onTold: (e) => {
          if (flags.quiet === true) return;
          const f = e.result.fitness;
          const star = e.result.status === 'ok' && typeof f === 'number' && f < best ? ' *' : '';
          if (star !== '') best = f as number;
          note(`trial ${e.trialId}: ${e.result.status}${typeof f === 'number' ? ` fitness ${fmt(f)}` : ''}${e.result.error ? ` (${e.result.error.message})` : ''}${star}`);
        },
      });
      const b = r.best;
      note(
        `study "${name}" ${r.reason === 'stopped' ? 'stopped' : r.reason === 'no-work' ? 'has no work left' : 'met its budget'}: ${r.toldTotal} trial(s) told, ${r.toldHere} here` +
          (b === null ? '' : `; best ${fmt(b.fitness)} (trial ${b.trialId}) ${JSON.stringify(b.config)}`),
      );
      // every trial of the study failed: say why and exit 1 (one success is enough for 0)
      const why = r.reason === 'stopped' ? null : allFailedReason(await study.trials(), `dehb trials ${name} --status failed`);
      if (why !== null) note(why);
      if (flags.json === true) out(JSON.stringify({ study: name, ...r, ...(why === null ? {} : { error: why }) }));
      return r.reason === 'stopped' ? 130 : why !== null ? 1 : 0;
    } finally {
      signals.dispose();
      await executor?.close({ force: signals.kill.aborted });
      await client?.close?.();
      await dashboard?.close();
    }
  });
}
