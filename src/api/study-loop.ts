/**
 * One process's part in a study (`dehb optimize`, `Study.optimize`, `dehb worker --study`):
 * `nWorkers` evaluation slots that claim trials from the study queue (StudyWorker, evaluating
 * through an Executor chosen as `dehb run` chooses: inline, threads, processes, GPU-pinned), plus,
 * for optimize, a bid for the lease. Whoever holds the lease drives the run loop of `dehb run`
 * (study-lead.ts); when it dies its lease expires and another process takes over by replaying the
 * journal. A follower stops once its budget is visibly met (fevals: told trials in the journal;
 * runtime: its deadline); for a brackets budget it waits until it can take the lease and see the
 * budget met itself. With `executor` (`--cluster`) this process evaluates nothing: its loop submits
 * to that executor and the cluster's workers evaluate.
 *
 * Waiting: idle slots look for queued trials at once when this process queued one or a slot
 * freed, else from 20 ms backing off to 250 ms (trials of other processes, claims of dead
 * workers); followers look at the lease every 250 ms. Nothing polls while every slot is busy.
 */
import { DehbError } from '../errors.js';
import type { Executor } from '../protocol/executor.js';
import type { JournalEntry, TrialRecord } from '../study/journal-types.js';
import type { ClaimedTask, StudyStorage } from '../study/storage.js';
import type { StudyQueueExecutor } from '../study/study-queue-executor.js';
import { queuePushes } from '../study/study-pushes.js';
import { StudyWorker } from '../study/study-worker.js';
import { checkBudget, type Budget } from '../driver/budget.js';
import { leadStudy, type LeadResult } from '../driver/study-lead.js';

export interface StudyRunOptions {
  storage: StudyStorage;
  study: string;
  mode: 'optimize' | 'worker';
  /** optimize: exactly one budget, a total over the study (runtime is this invocation's). */
  budget?: Budget;
  /** Evaluations this process runs at once. Default 1. */
  nWorkers?: number;
  /** Pin each trial to the least-loaded GPU of this node (as `dehb run --single-node-with-gpus`). */
  singleNodeWithGpus?: boolean;
  /** GPUs per trial when pinned. Default 1. */
  gpusPerTrial?: number;
  /** Kill a trial after this many ms (default: the study's own `trialTimeoutMs`). */
  trialTimeoutMs?: number;
  /** optimize: evaluate on this executor (a cluster's); this process then evaluates nothing. */
  executor?: Executor;
  acceptStudyFiles?: boolean;
  trialsDir?: string;
  workerId?: string;
  /** Default 30 s. */
  claimTtlMs?: number;
  /** Default 10 s. */
  leaseTtlMs?: number;
  /** Unclaimed trials kept queued for other processes. Default max(2, nWorkers); 0 asks exactly as `dehb run`. */
  queueAhead?: number;
  /** worker mode: exit after this long without work. Default: never. */
  idleExitMs?: number;
  /** worker mode: exit after telling this many trials. */
  maxTrials?: number;
  /** Graceful stop: claim nothing more, finish running trials. */
  signal?: AbortSignal;
  /** Forced stop: cancel running trials (they go back to the queue). */
  killSignal?: AbortSignal;
  log?: (msg: string) => void;
  onTold?: (entry: Extract<JournalEntry, { type: 'told' }>) => void;
}

export interface StudyRunSummary {
  reason: 'budget' | 'no-work' | 'stopped' | 'idle' | 'max-trials';
  /** Results this process journaled. */
  toldHere: number;
  /** Told trials in the study when this process stopped. */
  toldTotal: number;
  /** Whether this process held the lease at some point. */
  led: boolean;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

/** One waiter; a wake with nobody waiting makes the next wait return at once. */
class Waker {
  private resolve: (() => void) | null = null;
  private woken = false;
  wake(): void {
    if (this.resolve === null) this.woken = true;
    else this.resolve();
  }
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.resolve = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.resolve = done;
    });
  }
}

export async function runStudy(opts: StudyRunOptions): Promise<StudyRunSummary> {
  const started = Date.now();
  const budget = opts.mode === 'optimize' ? checkBudget(opts.budget) : null;
  const slots = opts.executor === undefined ? (opts.nWorkers ?? 1) : 0;
  if (!Number.isInteger(slots) || slots < 0 || (slots === 0 && opts.executor === undefined)) {
    throw new DehbError('E_CONFIG', `nWorkers must be a whole number >= 1 (got ${String(opts.nWorkers)})`);
  }
  const gpusPerTrial = opts.singleNodeWithGpus === true ? (opts.gpusPerTrial ?? 1) : 0;
  // a set-up without the GPUs it asks for fails before anything is claimed
  const gpuAllocator =
    gpusPerTrial > 0 && slots > 0 ? await (await import('../gpu/allocator.js')).GpuAllocator.create({ gpusPerTrial, requireGpus: true }) : undefined;
  const deadline = budget !== null && 'runtimeMs' in budget ? started + budget.runtimeMs : undefined;
  const waker = new Waker();
  let queue: StudyQueueExecutor | null = null;
  const worker = new StudyWorker({
    ...opts,
    gpusPerTrial,
    onStarted: (trialId) => queue?.started(trialId),
    onTold: (e) => {
      queue?.kick();
      opts.onTold?.(e);
    },
  });
  await worker.init();
  const objective = worker.objective;
  if (objective?.kind === 'function' && opts.executor === undefined) {
    await worker.close();
    throw new DehbError('E_CONFIG', `study "${opts.study}" evaluates a JS function, which only the process holding it can run: call study.optimize() there (loadStudy(name, { storage, objective }))`);
  }
  // loaded when a study runs: the CLI's study commands import this module, and piscina stays out of `--help`
  const local =
    slots === 0 || objective === undefined
      ? null
      : (await import('../cluster/create-local-executor.js')).createLocalExecutor({
          objective,
          nWorkers: slots,
          trialTimeoutMs: worker.trialTimeoutMs,
          ...(gpuAllocator === undefined ? {} : { gpuAllocator }),
        });
  if (local !== null) worker.useExecutor(local);

  const running = new Map<number, Promise<void>>();
  let reason: StudyRunSummary['reason'] | null = null;
  let led = false;
  let toldByLoop = 0;
  const stopped = (): boolean => opts.signal?.aborted === true || opts.killSignal?.aborted === true;

  const leadLoop = async (): Promise<void> => {
    const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    while (reason === null) {
      if (stopped()) {
        reason = 'stopped';
        break;
      }
      const lease = await opts.storage.getLease(opts.study); // lock-free look first
      if (lease === null && (await opts.storage.acquireLease(opts.study, worker.workerId, leaseTtlMs))) {
        led = true;
        const r: LeadResult = await leadStudy({
          ...opts,
          holder: worker.workerId,
          budget: budget as NonNullable<typeof budget>,
          started,
          leaseTtlMs,
          gpusPerTrial,
          queue: {
            queueAhead: opts.queueAhead ?? Math.max(2, slots),
            idleSlots: () => Math.max(0, slots - running.size),
            onQueued: () => waker.wake(),
            onReady: (q) => {
              queue = q;
            },
          },
          onTrialEnd: opts.executor === undefined ? undefined : (rec) => opts.onTold?.(toldEntry(rec)),
        });
        if (r.reason !== 'lost') {
          toldByLoop += opts.executor === undefined ? 0 : r.told;
          reason = r.reason;
        }
        continue;
      }
      await worker.sync();
      if (budget !== null && 'fevals' in budget && worker.toldCount >= budget.fevals) reason = 'budget';
      else if (deadline !== undefined && Date.now() >= deadline) reason = 'budget';
      else await sleep(Math.min(250, leaseTtlMs / 4), opts.signal);
    }
    waker.wake();
  };

  const claimLoop = async (): Promise<void> => {
    let idleSince = Date.now();
    let backoff = 20;
    while (reason === null && !stopped()) {
      if (opts.mode === 'worker') {
        if (opts.maxTrials !== undefined && worker.toldHere >= opts.maxTrials) {
          reason = 'max-trials';
          break;
        }
        if (running.size < slots) {
          await worker.sync();
          if (worker.pushesWaiting > 0) await queuePushes(opts.storage, opts.study, worker.workerId);
        }
      }
      let claimed = false;
      const cap = opts.maxTrials === undefined ? slots : Math.min(slots, opts.maxTrials - worker.toldHere - running.size);
      while (running.size < cap && reason === null && !stopped()) {
        const task = await worker.claim();
        if (task === null) break;
        claimed = true;
        running.set(task.trialId, evaluate(task));
      }
      // a trial queued by this process wakes the loop at once; polls only find other processes' work
      backoff = claimed ? 20 : Math.min(250, backoff * 1.5);
      if (claimed || running.size > 0) idleSince = Date.now();
      else {
        if (opts.mode === 'worker' && opts.idleExitMs !== undefined && Date.now() - idleSince >= opts.idleExitMs) {
          reason = 'idle';
          break;
        }
      }
      // every slot busy: wait for one to finish; otherwise look again soon
      await waker.wait(running.size >= slots ? 60_000 : backoff, opts.signal);
    }
  };

  const evaluate = (task: ClaimedTask): Promise<void> =>
    worker
      .run(task, opts.killSignal)
      .then(
        () => undefined,
        (err: unknown) => opts.log?.(`trial ${task.trialId}: ${(err as Error).message}`),
      )
      .finally(() => {
        running.delete(task.trialId);
        waker.wake();
      });

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
  try {
    const errors = await Promise.all([settle(opts.mode === 'optimize' ? leadLoop() : Promise.resolve()), settle(slots > 0 ? claimLoop() : Promise.resolve())]);
    const failure = errors.find((e) => e !== null);
    if (failure !== undefined) throw failure;
    reason ??= 'stopped';
    await Promise.all(running.values());
  } finally {
    await Promise.allSettled(running.values());
    await local?.close({ force: opts.killSignal?.aborted === true });
    await worker.sync().catch(() => []);
    await worker.close();
  }
  return { reason, toldHere: worker.toldHere + toldByLoop, toldTotal: worker.toldCount, led };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Waker().wait(ms, signal);
}

function toldEntry(rec: TrialRecord): Extract<JournalEntry, { type: 'told' }> {
  const result = { status: rec.status === 'queued' || rec.status === 'running' ? 'ok' : rec.status, ...(rec.fitness === null ? {} : { fitness: rec.fitness }), ...(rec.error === null ? {} : { error: rec.error }) } as Extract<JournalEntry, { type: 'told' }>['result'];
  return { type: 'told', trialId: rec.trialId, result, ...(rec.worker === null ? {} : { worker: rec.worker }) };
}
