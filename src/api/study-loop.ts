/**
 * One process's part in a study (`dehb optimize`, `Study.optimize`, `dehb worker --study`):
 * `nWorkers` evaluation slots plus, for optimize, a bid for the lease. Whoever holds the lease
 * drives the run loop of `dehb run` (driver/study-lead.ts); when it dies its lease expires and
 * another process takes over by replaying the journal. How trials go out depends on the storage:
 *
 * - Redis (`storage.cluster`): the lease holder submits them as BullMQ jobs on the same Redis
 *   (the cluster executor of `dehb run --cluster`, run id `study.<name>`) and journals every
 *   result itself; this process's slots are the cluster worker runtime of `dehb worker`, in
 *   process, taking only this study's jobs (allow-list: the study's objective; threads, GPUs,
 *   timeouts, hand-back on stop). Any `dehb worker` of that Redis evaluates them too. A new lease
 *   holder re-submits the trials its predecessor left pending under the same job ids: results
 *   stored meanwhile are re-attached, jobs still queued are joined, lost ones are queued again.
 * - A directory (`storage.queue`): the holder queues trials in the storage's local queue
 *   (study-queue-executor.ts, one more Executor backend) and journals every result; every
 *   process's StudyWorker claims them, evaluates them through the local Executor `dehb run` would
 *   choose (inline, threads, processes, GPU-pinned) and leaves the outcomes in the queue.
 *
 * A follower stops once its budget is visibly met (fevals: told trials in the journal; runtime:
 * its deadline); for a brackets budget it waits until it can take the lease and see the budget met
 * itself. With `executor` (`--cluster`) this process evaluates nothing: its loop submits to that
 * executor and the cluster's workers evaluate. A worker (`mode: 'worker'`) takes the lease only
 * to run trials that pushes or a dead holder left pending (its own slots evaluate them).
 *
 * Waiting (directory): idle slots look for queued trials at once when this process queued one or
 * a slot freed, else from 20 ms backing off to 250 ms; followers look at the lease every 250 ms.
 *
 * This module owns `runStudy`, the entry point: it checks the set-up, opens the slots and runs the
 * process's role loop (optimize: bid for the lease or follow; worker: serve, leading only orphaned
 * trials) beside its slots until either ends. Its parts: one lease term (study-lease-term.ts), the
 * local queue's claim loop (study-claim-loop.ts), the cluster slots and term executor
 * (study-slots.ts), the grace and kill wiring (study-stop.ts), the idle loops' Waker
 * (study-waker.ts), its options and summary (study-run-options.ts, re-exported here).
 */
import { DehbError } from '../errors.js';
import type { ClusterWorker } from '../cluster/bullmq/worker-runtime.js';
import { ObjectivePolicy, type ObjectivePolicyOptions } from '../cluster/bullmq/allow-list.js';
import { TrialQuota } from '../cluster/trial-quota.js';
import type { StudyQueueExecutor } from '../study/study-queue-executor.js';
import { StudyWorker } from '../study/study-worker.js';
import { checkBudget, type StatedBudget } from '../driver/budget.js';
import type { LeadResult } from '../driver/study-lead.js';
import { sleep } from '../util/sleep.js';
import { findGpus, openEvaluator, pinnedGpusPerTrial } from './evaluation.js';
import { claimLoop } from './study-claim-loop.js';
import { leadLeaseTerm, type LeaseTermContext } from './study-lease-term.js';
import { DEFAULT_LEASE_TTL_MS, type StudyRunOptions, type StudyRunSummary } from './study-run-options.js';
import { clusterSlots, ownObjective } from './study-slots.js';
import { watchStop } from './study-stop.js';
import { Waker } from './study-waker.js';

export { DEFAULT_LEASE_TTL_MS } from './study-run-options.js';
export type { StudyRunOptions, StudyRunSummary } from './study-run-options.js';

export async function runStudy(opts: StudyRunOptions): Promise<StudyRunSummary> {
  const started = Date.now();
  const budget = opts.mode === 'optimize' ? checkBudget(opts.budget) : null;
  const slots = evaluationSlots(opts);
  // a storage without a local queue hands its trials out as jobs on its cluster queue
  const cluster = opts.storage.queue === undefined ? opts.storage.cluster : undefined;
  if (opts.storage.queue === undefined && cluster === undefined && opts.executor === undefined) {
    throw new DehbError('E_STUDY', `${opts.storage.url} has neither a local work queue nor a cluster queue for the trials of study "${opts.study}"`);
  }
  const gpusPerTrial = pinnedGpusPerTrial(opts);
  // a set-up without the GPUs it asks for fails before anything is claimed
  const gpuAllocator = slots > 0 ? await findGpus(gpusPerTrial) : undefined;
  const deadline = budget !== null && 'runtimeMs' in budget ? started + budget.runtimeMs : undefined;
  const waker = new Waker();
  let queue: StudyQueueExecutor | null = null;
  const worker = new StudyWorker({
    ...opts,
    // a process that only coordinates (--cluster) runs no shipped file
    acceptStudyFiles: opts.acceptStudyFiles === true || slots === 0,
    gpusPerTrial,
    onStarted: (trialId) => queue?.started(trialId),
  });
  await worker.init();
  const objective = worker.objective;
  const allow = await allowedObjective(worker, opts, slots);
  // the executor new DEHB would open (evaluation.ts loads it on use, so piscina stays out of `--help`)
  const local =
    slots === 0 || objective === undefined || cluster !== undefined
      ? null
      : (await openEvaluator(objective, { nWorkers: slots, trialTimeoutMs: worker.trialTimeoutMs }, gpuAllocator)).executor;
  if (local !== null) worker.useExecutor(local);
  let runtime: ClusterWorker | null = null;

  const running = new Map<number, Promise<void>>();
  let reason: StudyRunSummary['reason'] | null = null;
  let led = false;
  let toldByLoop = 0;
  // --max-trials, the rule the cluster worker runtime applies too: no trial starts past it
  const quota = new TrialQuota(opts.maxTrials);
  const stopped = (): boolean => opts.signal?.aborted === true || opts.killSignal?.aborted === true;
  // a worker's lease term for orphaned trials ends when its slots are done (--max-trials)
  const termSignal = opts.signal === undefined ? quota.signal : AbortSignal.any([opts.signal, quota.signal]);
  const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;

  const term: LeaseTermContext = {
    opts,
    holder: worker.workerId,
    cluster,
    slots,
    started,
    leaseTtlMs,
    gpusPerTrial,
    signal: termSignal,
    queue: {
      queueAhead: opts.queueAhead ?? Math.max(2, slots),
      busySlots: () => running.size,
      idleSlots: () => Math.max(0, slots - running.size),
      onQueued: () => waker.wake(),
      onReady: (q) => {
        queue = q;
      },
    },
  };
  /** Holds the lease for one term (null when another process holds it). */
  const lead = async (stated: StatedBudget): Promise<LeadResult | null> => {
    const r = await leadLeaseTerm(term, stated);
    if (r !== null) {
      led = true;
      if (r.reason !== 'lost') toldByLoop += r.told;
    }
    return r;
  };

  const leadLoop = async (): Promise<void> => {
    while (reason === null) {
      if (stopped()) {
        reason = 'stopped';
        break;
      }
      const term = await lead(budget as StatedBudget);
      if (term !== null) {
        if (term.reason !== 'lost') reason = term.reason;
        continue;
      }
      await worker.sync();
      if (budget !== null && 'fevals' in budget && worker.toldCount >= budget.fevals) reason = 'budget';
      else if (deadline !== undefined && Date.now() >= deadline) reason = 'budget';
      else await sleep(Math.min(250, leaseTtlMs / 4), opts.signal);
    }
    waker.wake();
  };

  /** Results of this process's slots (the cluster runtime's, or outcomes left in the local queue). */
  const evaluated = (): number => quota.count;

  /** A worker: its slots evaluate; it leads only trials nobody else runs (pushed, or left pending by a dead holder). */
  const serveLoop = async (): Promise<void> => {
    let idleSince = Date.now();
    let seen = -1;
    while (reason === null && !stopped()) {
      if (opts.maxTrials !== undefined && evaluated() >= opts.maxTrials) {
        reason = 'max-trials';
        break;
      }
      await worker.sync();
      const orphans = worker.pendingCount + worker.pushesWaiting;
      // the term runs the orphaned trials; this process goes on serving
      if (orphans > 0 && (await lead({ fevals: worker.toldCount + orphans })) !== null) continue;
      if (runtime !== null) {
        const stats = runtime.stats;
        const busy = stats.started - stats.stored - stats.handedBack - stats.lostLock - stats.cancelled;
        if (busy > 0 || stats.started !== seen) idleSince = Date.now();
        seen = stats.started;
      } else if (running.size > 0 || quota.count !== seen) {
        idleSince = Date.now();
        seen = quota.count;
      }
      if (opts.idleExitMs !== undefined && Date.now() - idleSince >= opts.idleExitMs) {
        reason = 'idle';
        break;
      }
      await sleep(250, termSignal);
    }
    waker.wake();
  };

  // a failure of either side (a corrupt journal, a broken storage) stops the other one too
  const settle = (p: Promise<void>): Promise<unknown> =>
    p.then(
      () => null,
      (err: unknown) => {
        reason ??= 'stopped';
        waker.wake();
        return err;
      },
    );
  const graceMs = opts.graceMs ?? 30_000;
  const stop = watchStop(opts, graceMs, running, () => runtime);
  try {
    if (cluster !== undefined && slots > 0) {
      gpuAllocator?.stop(); // it checked that the GPUs are there; the runtime has its own
      runtime = await clusterSlots(cluster, worker, { ...opts, allow, graceMs }, slots, gpusPerTrial, quota);
    }
    const evaluating =
      slots === 0 || runtime !== null
        ? Promise.resolve()
        : claimLoop({ opts, worker, slots, running, quota, waker, active: () => reason === null && !stopped(), kill: stop.kill, onOutcome: () => queue?.kick() });
    const errors = await Promise.all([settle(opts.mode === 'optimize' ? leadLoop() : serveLoop()), settle(evaluating)]);
    const failure = errors.find((e) => e !== null);
    if (failure !== undefined) throw failure;
    reason ??= 'stopped';
    await Promise.all(running.values());
  } finally {
    await Promise.allSettled(running.values());
    stop.dispose();
    await local?.close({ force: stop.kill.aborted });
    await runtime?.stop(opts.killSignal?.aborted === true ? { graceMs: 0 } : {});
    await worker.sync().catch(() => []);
    await worker.close();
  }
  const here = opts.mode === 'worker' ? evaluated() : toldByLoop;
  return { reason, toldHere: here, toldTotal: worker.toldCount, led };
}

/** This process's evaluation slots: none with a caller's executor (--cluster), else nWorkers (default 1). */
function evaluationSlots(opts: StudyRunOptions): number {
  const slots = opts.executor === undefined ? (opts.nWorkers ?? 1) : 0;
  if (!Number.isInteger(slots) || slots < 0 || (slots === 0 && opts.executor === undefined)) {
    throw new DehbError('E_CONFIG', `nWorkers must be a whole number >= 1 (got ${String(opts.nWorkers)})`);
  }
  return slots;
}

/**
 * The allow-list of this process's slots, once the study's objective is one they may run: the
 * allow-list of `dehb worker`, checked before anything is claimed (one refusal, not one per
 * trial). A refusal closes `worker` and throws.
 */
async function allowedObjective(worker: StudyWorker, opts: StudyRunOptions, slots: number): Promise<ObjectivePolicyOptions> {
  const objective = worker.objective;
  if (objective?.kind === 'function' && opts.executor === undefined) {
    await worker.close();
    throw new DehbError('E_CONFIG', `study "${opts.study}" evaluates a JS function, which only the process holding it can run: call study.optimize() there (loadStudy(name, { storage, objective }))`);
  }
  const allow = opts.allow ?? ownObjective(objective);
  if (slots > 0 && objective !== undefined && opts.allow !== undefined) {
    const why = await (await ObjectivePolicy.create(allow)).check(objective);
    if (why !== null) {
      await worker.close();
      throw new DehbError('E_NOT_ALLOWED', `study "${opts.study}": ${why}`);
    }
  }
  return allow;
}
