/**
 * Owns the bookkeeping every local backend shares: a FIFO of at most `capacity` evaluations in
 * flight (abortable while queued), GPU acquire/release around each evaluation, one AbortController
 * per running evaluation (user abort and forced close both land there), durations, and close()
 * semantics. Backends plug in a single `exec` function that runs one admitted evaluation.
 *
 * close(): no new submits (they reject E_EXECUTOR); evaluations still queued resolve `cancelled`;
 * graceful close waits for running ones, forced close aborts them (they resolve `cancelled`).
 */
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
}

export type ExecFn = (task: EvalTask, control: ExecControl) => Promise<EvalOutcome>;

interface Waiter {
  admit: (ok: boolean) => void;
}

export const CLOSED_REASON = 'executor closed';
export const FORCED_REASON = 'executor closed (forced)';

export class ExecutorCore {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private readonly active = new Set<AbortController>();
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
      for (const ac of this.active) ac.abort(FORCED_REASON);
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async run(task: EvalTask, opts: SubmitOptions): Promise<EvalOutcome> {
    const userSignal = opts.signal;
    if (userSignal?.aborted) return cancelled(userSignal.reason);
    const admitted = await this.admit(userSignal);
    if (!admitted) return cancelled(userSignal?.aborted === true ? userSignal.reason : CLOSED_REASON);

    const ac = new AbortController();
    const onUserAbort = (): void => ac.abort(userSignal?.reason ?? 'aborted');
    userSignal?.addEventListener('abort', onUserAbort, { once: true });
    this.active.add(ac);
    if (this.forced) ac.abort(FORCED_REASON);
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
      });
      const worker = devices.length > 0 ? { ...out.worker, devices } : out.worker;
      return { ...out, ...(worker === undefined ? {} : { worker }), durationMs: out.durationMs ?? Date.now() - t0 };
    } finally {
      if (held) this.allocator?.release(devices);
      userSignal?.removeEventListener('abort', onUserAbort);
      this.active.delete(ac);
      this.release();
    }
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
