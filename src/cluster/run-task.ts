/**
 * Owns evaluating one EvalTask in the CURRENT process or thread: module objectives through a
 * dynamic import, function objectives the caller allows, command objectives through the command
 * runner. Honours task.timeoutMs (timed-out) and ctx.signal (cancelled). Called by the inline
 * backend, by piscina worker threads and by cluster workers (`dehb worker`).
 *
 * Timeouts of in-process objectives are cooperative: at the deadline the objective's ctx.signal is
 * aborted and `timed-out` is returned, but JS code cannot be interrupted. A synchronous objective
 * that overruns its deadline blocks until it returns; its result is then discarded as `timed-out`
 * so that every backend treats an over-long evaluation the same way.
 */
import { hostname } from 'node:os';
import type { ObjectiveFn } from '../objective.js';
import { runCommand } from './command-runner.js';
import type { EvalOutcome, EvalTask, ObjectiveContext, WorkerInfo } from '../protocol/executor.js';
import { loadedObjective, loadObjectiveModule } from './objective-loader.js';
import { LazyTrialDir } from './lazy-trial-dir.js';
import { errorOutcome, failed, normalizeResult } from './result-parse.js';

export { loadObjectiveModule } from './objective-loader.js';

export interface RunTaskContext {
  signal?: AbortSignal;
  /** Devices assigned to this evaluation (pinned for commands, informational for JS). */
  devices?: string[];
  onReport?: (step: number, value: number) => void;
  /** Merged into the outcome's `worker` field. */
  workerInfo?: WorkerInfo;
  /** Resolves a `{kind:'function'}` objective by name; without it function objectives fail. */
  allowFunction?: (name: string | undefined) => ObjectiveFn | undefined;
  /** SIGTERM -> SIGKILL grace for command objectives (default 2000 ms). */
  killGraceMs?: number;
  /**
   * A JS objective's `task.trialDir` is made when it first reads `ctx.trialDir`, and removed after
   * the objective (lazy-trial-dir.ts); commands get theirs made by their runner as always.
   */
  lazyTrialDir?: boolean;
}

const HOST = hostname();

/** Evaluate `task` here. Never rejects for anything the objective does. */
export async function runTask(task: EvalTask, ctx: RunTaskContext = {}): Promise<EvalOutcome> {
  const t0 = Date.now();
  const outcome = await dispatch(task, ctx);
  const worker: WorkerInfo = {
    host: HOST,
    pid: process.pid,
    ...ctx.workerInfo,
    ...outcome.worker,
    ...(ctx.devices !== undefined && ctx.devices.length > 0 ? { devices: ctx.devices } : {}),
  };
  const res: EvalOutcome = Object.assign({}, outcome); // not a spread followed by keys (see executor-core.ts)
  res.worker = worker;
  res.durationMs = outcome.durationMs ?? Date.now() - t0;
  return res;
}

async function dispatch(task: EvalTask, ctx: RunTaskContext): Promise<EvalOutcome> {
  if (ctx.signal?.aborted) return cancelledOutcome(ctx.signal.reason);
  const ref = task.objective;
  switch (ref.kind) {
    case 'command':
      return runCommand(task, {
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
        ...(ctx.devices === undefined ? {} : { devices: ctx.devices }),
        ...(ctx.onReport === undefined ? {} : { onReport: ctx.onReport }),
        ...(ctx.killGraceMs === undefined ? {} : { killGraceMs: ctx.killGraceMs }),
      });
    case 'module': {
      // loaded before (every trial after the first): no await for the lookup
      let fn = loadedObjective(ref.path, ref.exportName);
      if (fn === undefined) {
        try {
          fn = await loadObjectiveModule(ref.path, ref.exportName);
        } catch (err) {
          return errorOutcome(err);
        }
      }
      return runFunction(fn, task, ctx);
    }
    case 'function': {
      const fn = ctx.allowFunction?.(ref.name);
      if (fn === undefined) {
        return failed(
          `function objective${ref.name === undefined ? '' : ` '${ref.name}'`} is not available here: JS functions run only in-process (inline backend); use a module path for threads and cluster workers`,
        );
      }
      return runFunction(fn, task, ctx);
    }
    default:
      return failed(`unknown objective kind '${(ref as { kind?: unknown }).kind as string}' (expected module, command or function)`);
  }
}

/**
 * Call a JS objective with a context; race it against the timeout and the abort signal. A
 * synchronous result needs no race (nothing could interrupt it): no timer, no listener, and the
 * objective's ctx.signal is made only if it is read.
 */
export async function runFunction(fn: ObjectiveFn, task: EvalTask, ctx: RunTaskContext): Promise<EvalOutcome> {
  const lazy = ctx.lazyTrialDir === true && task.trialDir !== undefined ? new LazyTrialDir(task.trialDir) : undefined;
  if (lazy === undefined) return callObjective(fn, task, ctx, undefined);
  try {
    return await callObjective(fn, task, ctx, lazy);
  } finally {
    await lazy.remove();
  }
}

async function callObjective(fn: ObjectiveFn, task: EvalTask, ctx: RunTaskContext, lazy: LazyTrialDir | undefined): Promise<EvalOutcome> {
  const ac = new AbortController();
  const timeoutMs = task.timeoutMs !== null && task.timeoutMs !== undefined && task.timeoutMs > 0 ? task.timeoutMs : null;
  const objCtx = new Context(task, ctx.devices ?? [], ac, ctx.onReport, lazy);
  const started = Date.now();
  const overran = (outcome: EvalOutcome): EvalOutcome =>
    (outcome.status === 'ok' || outcome.status === 'failed') && timeoutMs !== null && Date.now() - started > timeoutMs
      ? { status: 'timed-out', timeoutMs }
      : outcome;
  let value: unknown;
  try {
    value = fn({ ...task.config }, task.fidelity, objCtx);
  } catch (err) {
    return overran(errorOutcome(err));
  }
  if (!isThenable(value)) return overran(normalizeResult(value));

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stoppers: Array<Promise<EvalOutcome>> = [];
  if (timeoutMs !== null) {
    stoppers.push(
      new Promise<EvalOutcome>((resolve) => {
        timer = setTimeout(() => {
          ac.abort(new Error(`trial ${task.trialId} timed out after ${timeoutMs} ms`));
          resolve({ status: 'timed-out', timeoutMs });
        }, Math.max(0, started + timeoutMs - Date.now()));
      }),
    );
  }
  const signal = ctx.signal;
  if (signal !== undefined) {
    stoppers.push(
      new Promise<EvalOutcome>((resolve) => {
        onAbort = () => {
          ac.abort(signal.reason);
          resolve(cancelledOutcome(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    );
  }
  const result = Promise.resolve(value).then(normalizeResult, errorOutcome);
  // A late rejection after a timeout/abort must not surface as unhandled.
  result.catch(() => undefined);
  try {
    return overran(stoppers.length === 0 ? await result : await Promise.race([result, ...stoppers]));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The objective's ctx. A class, so that the lazy `signal` and `trialDir` getters live on the prototype: a getter
 * in an object literal gives every context a hidden class of its own (old-generation garbage per
 * evaluation). `report` stays an own property, so `const { report } = ctx` keeps working.
 */
class Context implements ObjectiveContext {
  readonly trialId: number;
  readonly runId: string;
  readonly fidelity: number;
  readonly devices: string[];
  readonly report: (step: number, value: number) => void;
  readonly #ac: AbortController;
  readonly #dir: string | LazyTrialDir | undefined;

  constructor(task: EvalTask, devices: string[], ac: AbortController, onReport: ((step: number, value: number) => void) | undefined, lazyDir: LazyTrialDir | undefined) {
    this.trialId = task.trialId;
    this.runId = task.runId;
    this.fidelity = task.fidelity;
    this.devices = devices;
    this.report = (step: number, value: number): void => {
      if (typeof step !== 'number' || typeof value !== 'number') {
        throw new TypeError(`ctx.report(step, value) expects two numbers (got ${typeof step}, ${typeof value})`);
      }
      onReport?.(step, value);
    };
    this.#dir = lazyDir ?? task.trialDir;
    this.#ac = ac;
  }

  /** The trial's directory (a lazy one is made on this first read). */
  get trialDir(): string | undefined {
    const d = this.#dir;
    return typeof d === 'object' ? d.get() : d;
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function cancelledOutcome(reason: unknown): EvalOutcome {
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return { status: 'cancelled', reason: text };
}
