/**
 * Owns the bookkeeping every local backend shares: a FIFO of at most `capacity` evaluations in
 * flight (abortable while queued), GPU acquire/release around each evaluation, one AbortController
 * per running evaluation (user abort and forced close both land there), durations, and close()
 * semantics. Backends plug in a single `exec` function that runs one admitted evaluation.
 * The evaluations submitted with the same caller signal share one derived signal (aborted by that
 * signal or by a forced close): an AbortSignal per evaluation cost ~2 us and, as Node's signals
 * outlive young-generation collections, ~0.7 KB of old-generation garbage each.
 *
 * close(): no new submits (they reject E_EXECUTOR); evaluations still queued resolve `cancelled`;
 * graceful close waits for running ones, forced close aborts them (they resolve `cancelled`).
 */
import { setMaxListeners } from 'node:events';
import { DehbError } from '../errors.js';
import type { EvalOutcome, EvalTask, SubmitOptions, WorkerInfo } from '../protocol/executor.js';
import { parseTask } from '../protocol/wire.js';
import type { RunTaskContext } from './run-task.js';

/** What the process and local backends need from a GPU allocator (src/gpu implements it). */
export interface DeviceAllocatorLike {
  acquire(n: number): Promise<string[]> | string[];
  release(devices: string[]): unknown;
}

export interface ExecControl {
  /** Aborted on user abort or forced close; `reason` says which. */
  signal: AbortSignal;
  devices: string[];
  onReport?: (step: number, value: number) => void;
  liveReports?: boolean;
  lazyTrialDir?: boolean;
}

export type ExecFn = (task: EvalTask, control: ExecControl) => Promise<EvalOutcome>;

interface Waiter {
  admit: (ok: boolean) => void;
}

/** The signal shared by the evaluations running under one caller signal (or none). */
interface Shared {
  key: AbortSignal | undefined;
  ac: AbortController;
  refs: number;
  detach: () => void;
}

export const CLOSED_REASON = 'executor closed';
export const FORCED_REASON = 'executor closed (forced)';

export class ExecutorCore {
  private running = 0;
  private readonly queue: Waiter[] = [];
  /** Derived signals by caller signal (undefined: submitted without one). */
  private readonly shared = new Map<AbortSignal | undefined, Shared>();
  private lastShared: Shared | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private forced = false;

  constructor(
    private readonly name: string,
    readonly capacity: number,
    private readonly exec: ExecFn,
    private readonly allocator?: DeviceAllocatorLike,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new DehbError('E_CONFIG', `${name} executor capacity must be an integer >= 1 (got ${capacity})`);
    }
  }

  submit(task: EvalTask, opts: SubmitOptions = {}): Promise<EvalOutcome> {
    const parsed = parseTask(task);
    if (!parsed.ok) return Promise.reject(new DehbError('E_EXECUTOR', `cannot submit trial ${String(task?.trialId)}: ${parsed.message}`));
    return this.submitChecked(parsed.value, opts);
  }

  /** submit() of a task its caller validated already (a cluster worker's parsed job: not twice). */
  submitChecked(task: EvalTask, opts: SubmitOptions = {}): Promise<EvalOutcome> {
    if (this.closing) {
      return Promise.reject(new DehbError('E_EXECUTOR', `the ${this.name} executor is closed; submit() was called after close()`));
    }
    const p = this.run(task, opts);
    this.inFlight.add(p);
    void p.then(
      () => this.inFlight.delete(p),
      () => this.inFlight.delete(p),
    );
    return p;
  }

  /** Stop accepting work; cancel queued; force: abort running. Resolves when nothing runs. */
  async close(force: boolean): Promise<void> {
    this.closing = true;
    for (const w of this.queue.splice(0)) w.admit(false);
    if (force) {
      this.forced = true;
      for (const sh of this.shared.values()) sh.ac.abort(FORCED_REASON);
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(task: EvalTask, opts: SubmitOptions): Promise<EvalOutcome> {
    const userSignal = opts.signal;
    if (userSignal?.aborted) return cancelled(userSignal.reason);
    const admitted = await this.admit(userSignal);
    if (!admitted) return cancelled(userSignal?.aborted === true ? userSignal.reason : CLOSED_REASON);

    const sh = this.share(userSignal);
    const ac = sh.ac;
    let devices: string[] = [];
    let held = false;
    try {
      if (ac.signal.aborted) return cancelled(ac.signal.reason);
      if (opts.devices !== undefined) {
        devices = opts.devices; // assigned by the caller (a cluster worker's own allocator)
      } else if (task.gpus > 0 && this.allocator !== undefined) {
        const got = await raceAbort(Promise.resolve(this.allocator.acquire(task.gpus)), ac.signal, this.allocator);
        if (got === null) return cancelled(ac.signal.reason);
        devices = got;
        held = true;
      }
      const t0 = Date.now();
      const out = await this.exec(task, {
        signal: ac.signal,
        devices,
        ...(opts.onReport === undefined ? {} : { onReport: opts.onReport }),
        ...(opts.liveReports === undefined ? {} : { liveReports: opts.liveReports }),
        ...(opts.lazyTrialDir === true ? { lazyTrialDir: true } : {}),
      });
      const worker = devices.length > 0 ? { ...out.worker, devices } : out.worker;
      // not `{ ...out, worker, durationMs }`: a spread followed by more keys gives every outcome a
      // hidden class of its own in V8 (old-generation garbage per evaluation)
      const res: EvalOutcome = Object.assign({}, out);
      if (worker !== undefined) res.worker = worker;
      res.durationMs = out.durationMs ?? Date.now() - t0;
      return res;
    } finally {
      if (held) this.allocator?.release(devices);
      this.unshare(sh);
      this.release();
    }
  }

  private share(userSignal: AbortSignal | undefined): Shared {
    let sh = this.shared.get(userSignal);
    if (sh === undefined) {
      const ac = new AbortController();
      setMaxListeners(0, ac.signal); // one listener per running evaluation
      const onUserAbort = (): void => ac.abort(userSignal?.reason ?? 'aborted');
      userSignal?.addEventListener('abort', onUserAbort, { once: true });
      sh = { key: userSignal, ac, refs: 0, detach: () => userSignal?.removeEventListener('abort', onUserAbort) };
      this.shared.set(userSignal, sh);
      if (this.forced) ac.abort(FORCED_REASON);
      else if (userSignal?.aborted === true) ac.abort(userSignal.reason); // aborted while the evaluation waited to be admitted
    }
    sh.refs++;
    const prev = this.lastShared;
    this.lastShared = sh;
    if (prev !== null && prev !== sh && prev.refs === 0) this.drop(prev); // kept only while it was the latest
    return sh;
  }

  /** The last user of a derived signal detaches it, unless it is the latest (the next submit likely reuses it). */
  private unshare(sh: Shared): void {
    if (--sh.refs > 0 || (sh === this.lastShared && !sh.ac.signal.aborted)) return;
    this.drop(sh);
  }

  private drop(sh: Shared): void {
    sh.detach();
    this.shared.delete(sh.key);
    if (this.lastShared === sh) this.lastShared = null;
  }

  private admit(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.running < this.capacity && this.queue.length === 0) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      let done = false;
      const waiter: Waiter = {
        admit: (ok) => {
          if (done) return;
          done = true;
          signal?.removeEventListener('abort', onAbort);
          if (ok) this.running++;
          resolve(ok);
        },
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        waiter.admit(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private release(): void {
    this.running--;
    const next = this.queue.shift();
    if (next !== undefined) next.admit(true);
  }
}

/** Await `p` unless the signal aborts first (then null; a late acquisition is released). */
async function raceAbort(p: Promise<string[]>, signal: AbortSignal, allocator: DeviceAllocatorLike): Promise<string[] | null> {
  if (signal.aborted) {
    void p.then((d) => allocator.release(d), () => undefined);
    return null;
  }
  return new Promise<string[] | null>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      resolve(null);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (d) => {
        signal.removeEventListener('abort', onAbort);
        if (settled) allocator.release(d);
        else {
          settled = true;
          resolve(d);
        }
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!settled) {
          settled = true;
          reject(err);
        }
      },
    );
  });
}

export function cancelled(reason: unknown): EvalOutcome {
  return { status: 'cancelled', reason: reasonText(reason) };
}

export function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'string') return reason;
  return 'aborted';
}

/** The runTask context for one evaluation under an ExecutorCore (inline and process backends). */
export function runTaskContext(
  control: ExecControl,
  workerInfo: WorkerInfo,
  opts: { killGraceMs?: number | undefined; allowFunction?: RunTaskContext['allowFunction'] },
): RunTaskContext {
  return {
    signal: control.signal,
    devices: control.devices,
    workerInfo,
    ...(opts.allowFunction === undefined ? {} : { allowFunction: opts.allowFunction }),
    ...(control.onReport === undefined ? {} : { onReport: control.onReport }),
    ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
  };
}
