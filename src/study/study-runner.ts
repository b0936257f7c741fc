/**
 * One process's part in a study: `nWorkers` evaluation slots (StudyWorker) plus, for `optimize`,
 * a bid for the leader lease (StudyLeader). Every optimize process evaluates; whichever holds the
 * lease also runs the optimizer; when it dies the lease expires and another process takes over by
 * replaying the journal. A follower stops once its own budget is visibly met (fevals: told trials
 * in the journal; runtime: its deadline); for a brackets budget it waits until it can take the
 * lease and see the budget met itself. Worker mode (`dehb worker --study`) only evaluates, and when
 * pushed configurations wait with no leader around it briefly leads to queue them.
 *
 * Polling: the leader ticks every 20 ms and at once when a local trial ends; followers and idle
 * workers back off from 20 ms to 250 ms. No timer runs while nothing is due.
 */
import { DehbError } from '../errors.js';
import type { JournalEntry } from './journal-types.js';
import { StudyLeader, type LeaderBudget } from './leader.js';
import type { StudyStorage } from './storage.js';
import { StudyWorker } from './study-worker.js';

export interface StudyBudget {
  fevals?: number;
  brackets?: number;
  runtimeMs?: number;
}

export interface StudyRunOptions {
  storage: StudyStorage;
  study: string;
  mode: 'optimize' | 'worker';
  /** optimize: exactly one budget (totals over the study; runtime is this invocation's). */
  budget?: StudyBudget;
  /** Evaluations this process runs at once. Default 1. */
  nWorkers?: number;
  acceptStudyFiles?: boolean;
  trialsDir?: string;
  workerId?: string;
  /** Default 30 s. */
  claimTtlMs?: number;
  /** Default 10 s. */
  leaseTtlMs?: number;
  /** Unclaimed optimizer trials kept queued. Default max(2, nWorkers). */
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

export function checkBudget(b: StudyBudget | undefined): StudyBudget {
  const given = Object.entries(b ?? {}).filter(([, v]) => v !== undefined);
  if (given.length !== 1) {
    throw new DehbError('E_USAGE', 'optimize needs exactly one budget: --fevals N, --brackets N or --runtime DURATION');
  }
  const [key, value] = given[0] as [string, number];
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (key !== 'runtimeMs' && !Number.isInteger(value))) {
    throw new DehbError('E_USAGE', `${key} must be a positive ${key === 'runtimeMs' ? 'duration' : 'whole number'} (got ${String(value)})`);
  }
  return { [key]: value };
}

class Waker {
  private resolve: (() => void) | null = null;
  wake(): void {
    this.resolve?.();
  }
  wait(ms: number, signal?: AbortSignal): Promise<void> {
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
  const now = Date.now;
  const started = now();
  const budget = opts.mode === 'optimize' ? checkBudget(opts.budget) : {};
  const slots = opts.nWorkers ?? 1;
  if (!Number.isInteger(slots) || slots < 1) throw new DehbError('E_USAGE', `--n-workers must be a whole number >= 1 (got ${slots})`);
  const deadline = budget.runtimeMs !== undefined ? started + budget.runtimeMs : undefined;
  const worker = new StudyWorker({
    storage: opts.storage,
    study: opts.study,
    ...(opts.workerId === undefined ? {} : { workerId: opts.workerId }),
    ...(opts.acceptStudyFiles === undefined ? {} : { acceptStudyFiles: opts.acceptStudyFiles }),
    ...(opts.trialsDir === undefined ? {} : { trialsDir: opts.trialsDir }),
    ...(opts.claimTtlMs === undefined ? {} : { claimTtlMs: opts.claimTtlMs }),
    ...(opts.log === undefined ? {} : { log: opts.log }),
    ...(opts.onTold === undefined ? {} : { onTold: opts.onTold }),
  });
  await worker.init();
  const leaderBudget: LeaderBudget = {
    ...(budget.fevals === undefined ? {} : { fevals: budget.fevals }),
    ...(budget.brackets === undefined ? {} : { brackets: budget.brackets }),
    ...(deadline === undefined ? {} : { deadline }),
    given: budget,
  };
  const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const leader = new StudyLeader(opts.storage, opts.study, worker.workerId, {
    leaseTtlMs,
    budget: opts.mode === 'optimize' ? leaderBudget : null,
    queueAhead: opts.queueAhead ?? Math.max(2, slots),
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  const waker = new Waker();
  const running = new Map<number, Promise<void>>();
  let reason: StudyRunSummary['reason'] | null = null;
  let led = false;
  let idleSince = now();
  let backoff = 20;
  try {
    while (reason === null) {
      if (opts.signal?.aborted === true || opts.killSignal?.aborted === true) {
        reason = 'stopped';
        break;
      }
      let leading = false;
      if (opts.mode === 'optimize') {
        const t = await leader.tick();
        leading = t.leading;
        led ||= t.leading;
        if (t.leading && t.done) {
          reason = t.reason === 'no-work' ? 'no-work' : 'budget';
          break;
        }
        if (!t.leading) {
          await worker.sync();
          if (budget.fevals !== undefined && worker.toldCount >= budget.fevals) reason = 'budget';
          else if (deadline !== undefined && now() >= deadline) reason = 'budget';
          if (reason !== null) break;
        }
      } else {
        if (opts.maxTrials !== undefined && worker.toldHere >= opts.maxTrials) {
          reason = 'max-trials';
          break;
        }
        if (running.size < slots) {
          await worker.sync();
          if (worker.pushesWaiting > 0) {
            const t = await leader.tick(); // queue the pushes if nobody leads
            if (t.leading) await leader.release();
          }
        }
      }
      let claimed = false;
      const cap = opts.maxTrials === undefined ? slots : Math.min(slots, opts.maxTrials - worker.toldHere - running.size);
      while (running.size < cap) {
        const task = await worker.claim();
        if (task === null) break;
        claimed = true;
        const p = worker
          .run(task, opts.killSignal)
          .then(
            () => undefined,
            (err: unknown) => opts.log?.(`trial ${task.trialId}: ${(err as Error).message}`),
          )
          .finally(() => {
            running.delete(task.trialId);
            waker.wake();
          });
        running.set(task.trialId, p);
      }
      if (claimed || running.size > 0) {
        idleSince = now();
        backoff = 20;
      } else {
        backoff = leading ? 20 : Math.min(250, backoff * 1.5);
        if (opts.mode === 'worker' && opts.idleExitMs !== undefined && now() - idleSince >= opts.idleExitMs) {
          reason = 'idle';
          break;
        }
      }
      await waker.wait(leading ? 20 : backoff, opts.signal);
    }
    await Promise.all(running.values());
  } finally {
    await Promise.allSettled(running.values());
    await leader.release();
    await worker.sync().catch(() => []);
    await worker.close();
  }
  return { reason, toldHere: worker.toldHere, toldTotal: worker.toldCount, led };
}
