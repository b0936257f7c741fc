/**
 * The evaluation flags of `dehb run` and `dehb optimize`, defined and parsed once:
 * `-n/--n-workers`, `--single-node-with-gpus`, `--gpus-per-trial`, `--trial-timeout`, and
 * `--cluster` with `--scheduler-file` / `--wait` (connecting the cluster client). A run config
 * file may give the first four too (flags win).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DehbError } from '../errors.js';
import type { ClusterClient } from '../api/dehb-options.js';
import { parseDuration } from './durations.js';
import { intFlag } from './flags.js';

export interface EvalFlags {
  nWorkers?: string;
  singleNodeWithGpus?: boolean;
  gpusPerTrial?: string;
  trialTimeout?: string;
  cluster?: boolean;
  schedulerFile?: string;
  wait?: string;
  brokerTimeout?: string;
  weight?: string;
  trialsPerJob?: string;
}

/** The same settings from a run config file. */
export interface EvalFileSettings {
  nWorkers?: number;
  singleNodeWithGpus?: boolean;
  gpusPerTrial?: number;
  trialTimeout?: string | number;
}

export interface EvalSettings {
  nWorkers: number;
  /** Whether -n was given (a cluster or a resumed run otherwise uses its own default). */
  nWorkersGiven: boolean;
  singleNodeWithGpus: boolean;
  /** Whether --[no-]single-node-with-gpus was given (a resume otherwise keeps the recorded pinning). */
  singleNodeWithGpusGiven: boolean;
  gpusPerTrial: number;
  /** Whether --gpus-per-trial was given (a resume otherwise keeps the recorded one). */
  gpusPerTrialGiven: boolean;
  trialTimeoutMs?: number;
}

export function addEvalOptions(cmd: Command, nWorkersHelp = 'evaluations in flight (default 1)'): Command {
  return cmd
    .option('-n, --n-workers <n>', nWorkersHelp)
    .option('--single-node-with-gpus', 'pin each evaluation to the least-loaded GPU of this node')
    .option('--no-single-node-with-gpus', 'on --resume: stop pinning that the run recorded')
    .option('--gpus-per-trial <n>', 'GPUs per evaluation (default 1)')
    .option('--trial-timeout <duration>', 'kill an evaluation after this long (recorded timed-out)')
    .option('--cluster', 'evaluate on dehb workers through Redis (needs --scheduler-file)')
    .option('--scheduler-file <file>', 'scheduler file of the cluster')
    .option('--wait <duration>', 'how long to wait for the scheduler file to appear (default 2m)')
    .option('--weight <w>', "with --cluster: this run's share of the workers against other runs on the queue (default 1: equal shares)")
    .option('--trials-per-job <k>', 'with --cluster: trials one job carries at most, or auto (default: packs short trials, never fewer jobs than worker slots)')
    .option('--broker-timeout <duration>', 'with --cluster: stop with E_BROKER when Redis is unreachable or answers only errors this long (default 2m)');
}

export function parseEvalFlags(flags: EvalFlags, file: EvalFileSettings = {}): EvalSettings {
  const out: EvalSettings = {
    nWorkers: intFlag(flags.nWorkers, '--n-workers') ?? file.nWorkers ?? 1,
    nWorkersGiven: flags.nWorkers !== undefined || file.nWorkers !== undefined,
    singleNodeWithGpus: flags.singleNodeWithGpus ?? file.singleNodeWithGpus ?? false,
    singleNodeWithGpusGiven: flags.singleNodeWithGpus !== undefined || file.singleNodeWithGpus !== undefined,
    gpusPerTrial: intFlag(flags.gpusPerTrial, '--gpus-per-trial') ?? file.gpusPerTrial ?? 1,
    gpusPerTrialGiven: flags.gpusPerTrial !== undefined || file.gpusPerTrial !== undefined,
  };
  const timeout = flags.trialTimeout ?? file.trialTimeout;
  if (timeout !== undefined) out.trialTimeoutMs = parseDuration(String(timeout), '--trial-timeout');
  if (flags.cluster === true && flags.schedulerFile === undefined) throw new DehbError('E_USAGE', '--cluster needs --scheduler-file FILE');
  return out;
}

/** With --cluster: waits for the scheduler file (shared filesystems are slow) and connects. */
export async function connectCluster(flags: EvalFlags, who: string): Promise<(ClusterClient & { assertRunIdFree(runId: string): Promise<void> }) | undefined> {
  if (flags.cluster !== true) return undefined;
  if (flags.schedulerFile === undefined) throw new DehbError('E_USAGE', '--cluster needs --scheduler-file FILE');
  const file = resolve(flags.schedulerFile);
  // checked before waiting for the scheduler file
  const { checkTrialsPerJob } = await import('../cluster/bullmq/executor-options.js');
  const perJob = flags.trialsPerJob === undefined ? undefined : checkTrialsPerJob(/^\d+$/.test(flags.trialsPerJob) ? Number(flags.trialsPerJob) : flags.trialsPerJob, '--trials-per-job');
  const { waitForSchedulerFile } = await import('../protocol/scheduler-file.js');
  const { createLog } = await import('./log.js');
  const log = await createLog(who, process.stderr); // the coordinator's log: --log-format, --log-level
  let said = false;
  await waitForSchedulerFile(file, {
    timeoutMs: flags.wait === undefined ? 120_000 : parseDuration(flags.wait, '--wait'),
    onWait: () => {
      if (!said) log.log(`waiting for scheduler file ${file}`);
      said = true;
    },
  });
  const { createClusterClient } = await import('../cluster/bullmq/client.js');
  const { checkWeight } = await import('../cluster/bullmq/fair-share.js');
  return createClusterClient(file, {
    log: log.log,
    ...(flags.brokerTimeout === undefined ? {} : { brokerTimeoutMs: parseDuration(flags.brokerTimeout, '--broker-timeout') }),
    ...(flags.weight === undefined ? {} : { weight: checkWeight(Number(flags.weight), '--weight') }),
    ...(perJob === undefined ? {} : { trialsPerJob: perJob }),
  });
}
