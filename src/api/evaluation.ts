/**
 * How a front door evaluates the trials of a run in this process — the one executor choice of
 * `new DEHB(...).run()` (and so `dehb run`) and of `study.optimize()` for a JS function: the
 * executor given, else the local one `dehb run` picks (inline, threads, child processes;
 * cluster/create-local-executor.ts) with the GPU allocator when trials are pinned. Also the checks
 * of the evaluation options both take. Backends load on use, so a CLI command that imports a
 * front door keeps `--help` light.
 */
import { DehbError } from '../errors.js';
import type { Executor, ObjectiveRef } from '../protocol/executor.js';
import type { ObjectiveFn } from '../objective.js';
import type { GpuAllocator } from '../gpu/allocator.js';
import type { KeyList } from '../unknown-keys.js';

/** Where and how trials are evaluated (options of `new DEHB` and `study.optimize`). */
export interface EvaluationOptions {
  /** Evaluations in flight at most. Default 1 (inline). */
  nWorkers?: number;
  /** Kill an evaluation after this many ms and record it as timed-out. Default: no limit. */
  trialTimeoutMs?: number;
  /** Pin each evaluation to the least-loaded GPU (command objectives: real pinning). Default false. */
  singleNodeWithGpus?: boolean;
  /** Devices per evaluation when GPUs are used. Default 1. */
  gpusPerTrial?: number;
  /** Advanced: evaluate through this executor (this process then evaluates nothing itself). */
  executor?: Executor;
}

/** Every key of EvaluationOptions (the option checks of new DEHB and study.optimize include them). */
export const EVALUATION_OPTION_KEYS: KeyList<EvaluationOptions> = { nWorkers: true, trialTimeoutMs: true, singleNodeWithGpus: true, gpusPerTrial: true, executor: true };

export function checkWorkers(n: number | undefined): void {
  const v = n ?? 1;
  if (!Number.isInteger(v) || v < 1) throw new DehbError('E_CONFIG', `nWorkers must be a whole number >= 1 (got ${String(n)})`);
}

/**
 * GPUs per trial when evaluations are pinned, else 0: what the options say, or — on a resume that
 * does not say — what the journal recorded (`recorded`, RunMeta.gpusPerTrial).
 */
export function pinnedGpusPerTrial(o: Pick<EvaluationOptions, 'singleNodeWithGpus' | 'gpusPerTrial'>, recorded?: number): number {
  if (o.singleNodeWithGpus === true) return o.gpusPerTrial ?? recorded ?? 1;
  if (o.singleNodeWithGpus === false) return 0;
  return recorded ?? 0;
}

/** The allocator of this node's GPUs for pinned trials (an error when there are none); undefined for 0. */
export async function findGpus(gpusPerTrial: number): Promise<GpuAllocator | undefined> {
  if (gpusPerTrial <= 0) return undefined;
  const { GpuAllocator } = await import('../gpu/allocator.js');
  return GpuAllocator.create({ gpusPerTrial, requireGpus: true });
}

/** An open evaluator and how to close it (`force`: cancel what runs). */
export interface Evaluator {
  executor: Executor;
  close(force: boolean): Promise<void>;
}

/**
 * The local executor of `objective` that `dehb run` would choose: `nWorkers` at once, trials pinned
 * to the GPUs of `gpuAllocator` (findGpus) when given.
 */
export async function openEvaluator(
  objective: ObjectiveFn | ObjectiveRef,
  o: { nWorkers?: number | undefined; trialTimeoutMs?: number | null | undefined },
  gpuAllocator?: GpuAllocator,
): Promise<Evaluator> {
  checkWorkers(o.nWorkers);
  const { createLocalExecutor } = await import('../cluster/create-local-executor.js');
  const executor = createLocalExecutor({
    objective,
    nWorkers: o.nWorkers ?? 1,
    ...(gpuAllocator === undefined ? {} : { gpuAllocator }),
    ...(o.trialTimeoutMs === undefined ? {} : { trialTimeoutMs: o.trialTimeoutMs }),
  });
  return { executor, close: (force) => executor.close({ force }) };
}
