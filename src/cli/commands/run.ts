/**
 * `dehb run`: an optimization from flags or a config file (flags win) on the local pool, child
 * processes, GPUs of this node, or a BullMQ cluster; journaled to --output so `--resume`
 * continues it. Ctrl-C stops asking and lets running trials finish; a second Ctrl-C kills them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import type { DEHBOptions } from '../../api/dehb-options.js';
import type { DEHB as DehbRun } from '../../api/dehb.js';
import type { loadRunConfig, RunFlags } from '../run-config.js';
import type { RunProgress } from '../progress.js';
import { interruptSignals } from '../signals.js';
import { inFlagWords } from '../flag-words.js';
import { addBudgetOptions, hasBudget } from '../budget-flags.js';
import { addEvalOptions, connectCluster } from '../eval-flags.js';
import { addOptimizerOptions } from '../optimizer-flags.js';
import { dashboardPort, startDashboardFor } from './report.js';

interface RunCommandFlags extends RunFlags {
  json?: boolean;
  quiet?: boolean;
  dashboard?: string | boolean;
}

export function registerRunCommand(program: Command): void {
  const cmd = program.command('run');
  addBudgetOptions(cmd, { fevals: 'number of evaluations', brackets: 'number of Hyperband brackets', runtime: 'wall-clock time, e.g. 90s, 10m, 1h' });
  addEvalOptions(cmd);
  cmd
    .description('run an optimization (local thread pool, child processes, GPUs, or a cluster)')
    .option('-c, --config <file>', 'JSON config file (flags win over it)');
  addOptimizerOptions(cmd)
    .option('-o, --output <dir>', 'run directory: journal, history, incumbent (default dehb-runs/<run-id>)')
    .option('--run-id <id>', 'name of the run (default: random)')
    .option('--resume', 'continue the run journaled in --output')
    .option('--json', 'machine output on stdout (one JSON line per trial, then a summary)')
    .option('-q, --quiet', 'no progress output')
    .option('--dashboard [port]', 'serve a live dashboard of this run on 127.0.0.1 (default port 8080)')
    .action(async (flags: RunCommandFlags) => {
      process.exitCode = await runCommand(flags);
    });
}

export async function runCommand(flags: RunCommandFlags): Promise<number> {
  // backends load only when the command runs (dehb --help stays cheap)
  const [{ loadRunConfig }, { journalPath }, { DEHB }, { RunProgress }, { allFailed, printRunSummary }] = await Promise.all([
    import('../run-config.js'),
    import('../../api/run-output.js'),
    import('../../api/dehb.js'),
    import('../progress.js'),
    import('../summary.js'),
  ]);
  const cfg = await loadRunConfig(flags);
  const port = dashboardPort(flags.dashboard);
  const resume = flags.resume === true;
  if (resume && cfg.output === undefined) throw new DehbError('E_USAGE', '--resume needs --output DIR (the run directory)');
  if (resume && !existsSync(journalPath(cfg.output as string))) {
    throw new DehbError('E_USAGE', `--resume: no journal at ${journalPath(cfg.output as string)}`);
  }
  if (!resume) {
    if (cfg.space === undefined) throw new DehbError('E_USAGE', 'missing search space: --space FILE (or "space" in --config)');
    if (cfg.objective === undefined) throw new DehbError('E_USAGE', 'missing objective: --objective MODULE or --command "..." (or in --config)');
    if (cfg.optimizer.minFidelity === undefined || cfg.optimizer.maxFidelity === undefined) {
      throw new DehbError('E_USAGE', 'missing fidelity range: --min-fidelity N --max-fidelity M');
    }
    // a resumed run may use the budget its journal recorded; a new one must say it now
    if (!hasBudget(cfg.budget)) throw new DehbError('E_USAGE', 'missing budget: --fevals N, --brackets N or --runtime 10m');
  }
  await preflightObjective(cfg.objective);
  const runId = cfg.runId ?? `run-${randomUUID().slice(0, 8)}`;
  const output = cfg.output ?? resolve(join('dehb-runs', runId));

  const client = await connectCluster(flags, 'dehb');
  // before the run directory exists: a reused id is refused with a hint, nothing left behind
  if (client !== undefined && !resume && cfg.runId !== undefined) await client.assertRunIdFree(runId);

  const progressRef: { p: RunProgress | null } = { p: null };
  // everything is validated (options, placeholders, GPUs) before the run directory is made, and
  // errors name the flags, not the library's option names
  let dehb: DehbRun;
  let session: Awaited<ReturnType<DehbRun['ready']>>;
  try {
    dehb = new DEHB({
    ...(cfg.space === undefined ? {} : { space: cfg.space }),
      ...(cfg.optimizer as Required<typeof cfg.optimizer>),
      ...(cfg.objective === undefined ? {} : { objective: toInput(cfg.objective) }),
      // without -n: a cluster uses the scheduler file's capacity, a resumed run the one it started with
      ...(!cfg.nWorkersGiven && (client !== undefined || resume) ? {} : { nWorkers: cfg.nWorkers }),
    // a resume without --single-node-with-gpus / --gpus-per-trial keeps the pinning it recorded
    ...(cfg.singleNodeWithGpusGiven || !resume ? { singleNodeWithGpus: cfg.singleNodeWithGpus } : {}),
    ...(cfg.gpusPerTrialGiven || !resume ? { gpusPerTrial: cfg.gpusPerTrial } : {}),
    ...(cfg.trialTimeoutMs === undefined ? {} : { trialTimeoutMs: cfg.trialTimeoutMs }),
    outputDir: output,
    resume,
    runId,
    ...(client === undefined ? {} : { client }),
    onTrialStart: (job) => progressRef.p?.trialStarted(job),
    onTrialEnd: (record) => progressRef.p?.trialEnded(record),
  } as DEHBOptions);
    session = await dehb.ready();
  } catch (err) {
    await client?.close?.();
    throw inFlagWords(err);
  }
  const dashboard = port === null ? null : await startDashboardFor({ dir: output }, { port });
  const budget = hasBudget(cfg.budget) ? cfg.budget : (session.recordedBudget ?? {});
  if (!hasBudget(budget)) throw new DehbError('E_USAGE', 'missing budget: --fevals N, --brackets N or --runtime 10m');

  const progress = new RunProgress({
    total: budget.fevals ?? null,
    json: flags.json === true,
    tty: process.stderr.isTTY === true,
    quiet: flags.quiet === true,
    startDone: session.told,
  });
  progressRef.p = progress;
  for (const w of session.warnings) process.stderr.write(`warning: ${w}\n`);
  if (resume && session.resumedPending.length > 0) {
    progress.note(`resuming ${output}: ${session.told} trials done, ${session.resumedPending.length} to re-run`);
  }
  const signals = interruptSignals((n) =>
    progress.note(n === 1 ? 'stopping: no new trials; running ones finish (Ctrl-C again to kill them)' : 'killing running trials'),
  );
  let result;
  try {
    result = await dehb.run({ ...budget, total: true, signal: signals.stop, killSignal: signals.kill });
  } finally {
    progress.stop();
    signals.dispose();
    await client?.close?.();
    await dashboard?.close();
  }
  printRunSummary(result, { output, json: flags.json === true, runId: dehb.runId });
  if (signals.stop.aborted) {
    process.stderr.write(`interrupted; continue with: dehb run --resume --output ${output}\n`);
    return 130;
  }
  return allFailed(result) ? 1 : 0;
}

async function preflightObjective(ref: Awaited<ReturnType<typeof loadRunConfig>>['objective']): Promise<void> {
  if (ref === undefined) return;
  if (ref.kind === 'module') await (await import('../../cluster/run-task.js')).loadObjectiveModule(ref.path, ref.exportName);
  else await (await import('../../cluster/command-runner.js')).checkCommandExists(ref.argv[0] as string);
}

function toInput(ref: NonNullable<Awaited<ReturnType<typeof loadRunConfig>>['objective']>): DEHBOptions['objective'] {
  if (ref.kind === 'command') return { command: ref.argv, cwd: ref.cwd };
  return ref.exportName === undefined ? { module: ref.path } : { module: ref.path, exportName: ref.exportName };
}
