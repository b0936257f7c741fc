/**
 * Owns `dehb scheduler runs` (every run with jobs or a claim on the queue: its jobs queued,
 * running and finished, its run directory, whether its coordinator is connected) and
 * `dehb scheduler forget RUN_ID`: give up for good on a run that crashed or was abandoned, so
 * its id is free for a fresh run (the refusal "run id ... is already used on this cluster" names
 * this command). Says what the run left (claim, jobs), asks on a terminal unless --yes (refuses
 * without it otherwise), refuses while the run's coordinator is connected, and exits 1 when jobs
 * still run on workers (forget again once they end).
 */
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import type { ClusterConnection } from '../../protocol/scheduler-file.js';
import { renderTable } from '../table.js';

/** Where the command writes (scheduler.ts's RunsIo fits). */
interface RunsIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

interface ForgetFlags {
  schedulerFile: string;
  yes?: boolean;
  json?: boolean;
}

export function registerRunsCommands(sched: Command, out: () => RunsIo): void {
  sched
    .command('runs')
    .description('list the runs on the queue: jobs queued, running and finished, run directory, connected coordinator')
    .requiredOption('--scheduler-file <file>', 'the scheduler file of the cluster')
    .option('--json', 'print the runs as JSON on stdout')
    .action(async (flags: { schedulerFile: string; json?: boolean }) => runsCommand(flags, out()));
  sched
    .command('forget')
    .description("give up on a crashed or abandoned run for good: remove its jobs, results and run-id claim, so the id is free (asks first on a terminal)")
    .argument('<run-id>', 'the --run-id of the run')
    .requiredOption('--scheduler-file <file>', 'the scheduler file of the cluster the run used')
    .option('-y, --yes', 'do not ask')
    .option('--json', 'print what was removed as JSON on stdout')
    .action(async (runId: string, flags: ForgetFlags) => forgetCommand(runId, flags, out()));
}

/** The queue the scheduler file names (checked as a run's is), its warnings on stderr. */
async function queueOf(schedulerFile: string, io: RunsIo): Promise<ClusterConnection> {
  const { createClusterClient } = await import('../../cluster/bullmq/client.js');
  return (await createClusterClient(schedulerFile, { log: (m) => void io.stderr.write(`dehb: ${m}\n`) })).connection;
}

async function runsCommand(flags: { schedulerFile: string; json?: boolean }, io: RunsIo): Promise<void> {
  const { listRuns } = await import('../../redis/run-list.js');
  const runs = await listRuns(await queueOf(flags.schedulerFile, io));
  if (flags.json === true) {
    io.stdout.write(`${JSON.stringify(runs)}\n`);
    return;
  }
  if (runs.length === 0) {
    io.stdout.write('no run has jobs or a claim on this queue\n');
    return;
  }
  const rows = runs.map((r) => [r.runId, r.queued, r.running, r.finished, r.coordinator === null ? '-' : `connected (${r.coordinator})`, r.output ?? (r.claimed ? '(claimed)' : '-')]);
  io.stdout.write(renderTable(['run', 'queued', 'running', 'finished', 'coordinator', 'run directory'], rows));
  const stale = runs.filter((r) => r.coordinator === null && r.queued + r.finished > 0);
  if (stale.length > 0) io.stderr.write(`runs with no coordinator keep their jobs for a --resume; \`dehb scheduler forget RUN_ID --scheduler-file ${flags.schedulerFile}\` gives one up\n`);
}

async function forgetCommand(runId: string, flags: ForgetFlags, io: RunsIo): Promise<void> {
  const [{ openRunForgetter }, { checkRunId }] = await Promise.all([import('../../redis/run-forget.js'), import('../../protocol/schemas.js')]);
  checkRunId(runId, '<run-id>');
  const forgetter = openRunForgetter(await queueOf(flags.schedulerFile, io), runId);
  try {
    const addr = await forgetter.liveCoordinator();
    if (addr !== null) {
      throw new DehbError('E_USAGE', `run "${runId}" is running: its coordinator is connected to Redis (from ${addr}); stop it first (Ctrl-C), then resume it or forget it`);
    }
    const left = await forgetter.leftovers();
    const jobs = left.idle.length + left.running.length;
    if (!left.claimed && jobs === 0) {
      if (flags.json === true) io.stdout.write(`${JSON.stringify({ runId, removed: 0, running: [], claimReleased: false })}\n`);
      io.stderr.write(`run "${runId}" left nothing on this queue: the id is free\n`);
      return;
    }
    const owner = !left.claimed
      ? 'no claim'
      : left.claim === null
        ? 'claimed (the claim is not in the form dehb writes)'
        : `claimed by an earlier run${left.claim.output === undefined ? '' : ` (run directory ${left.claim.output})`}`;
    io.stderr.write(`run "${runId}": ${owner}; ${left.idle.length} job(s) queued or finished, ${left.running.length} running on workers\n`);
    if (flags.yes !== true && !(await confirmed(runId))) {
      io.stderr.write('nothing removed\n');
      return;
    }
    const r = await forgetter.forget();
    if (flags.json === true) io.stdout.write(`${JSON.stringify({ runId, ...r })}\n`);
    if (r.running.length > 0) {
      throw new DehbError(
        'E_STATE',
        `removed ${r.removed} job(s) of run "${runId}"; ${r.running.length} still run on workers (${r.running.slice(0, 5).join(', ')}${r.running.length > 5 ? ', …' : ''}), so its claim stays: forget it again once they end`,
      );
    }
    io.stderr.write(`forgot run "${runId}": removed ${r.removed} job(s)${r.claimReleased ? ' and its claim' : ''}; the id is free\n`);
  } finally {
    await forgetter.close();
  }
}

/** On a terminal: asks. Otherwise refuses (E_USAGE): removing a run is never done unasked. */
async function confirmed(runId: string): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    throw new DehbError('E_USAGE', `refusing to forget run "${runId}" without --yes (stdin is not a terminal)`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`remove everything run "${runId}" left on this queue? its results there are lost (its journal stays) [y/N] `);
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
