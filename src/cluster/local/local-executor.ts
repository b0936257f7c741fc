/**
 * Owns the local backend: a piscina pool of `nWorkers` threads (min = max, kept alive) running
 * module objectives through runTask. The main thread enforces timeouts and aborts: the thread is
 * terminated and replaced, the evaluation resolves `timed-out` / `cancelled`. A thread that exits
 * (process.exit), runs out of memory or crashes yields a `failed` outcome naming the reason.
 * Command objectives given to this backend run as child processes from the main thread (threads
 * would add nothing); function objectives are rejected (they only run inline). GPU devices reach
 * JS objectives through ctx.devices only: threads cannot pin a device.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type ResourceLimits } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { DehbError } from '../../errors.js';
import { cancelled, ExecutorCore, type DeviceAllocatorLike, type ExecControl } from '../executor-core.js';
import type { EvalOutcome, EvalTask, Executor, SubmitOptions } from '../../protocol/executor.js';
import { parseOutcome } from '../../protocol/wire.js';
import { failed } from '../result-parse.js';
import { runTask } from '../run-task.js';
import type { ThreadTaskMessage, ThreadTaskResult } from './thread-worker.js';


const load = createRequire(import.meta.url);

/** piscina, loaded by the first pool: a process that never starts threads (`dehb run -n 1`, a command objective) never loads it. */
function piscina(): typeof Piscina {
  return (load('piscina') as typeof import('piscina')).Piscina;
}

export interface LocalExecutorOptions {
  /** Threads (= evaluations in flight at most). */
  nWorkers: number;
  /** Devices for tasks with gpus > 0; JS objectives see them in ctx.devices (not pinned). */
  gpuAllocator?: DeviceAllocatorLike;
  /** Per-thread V8 limits, e.g. { maxOldGenerationSizeMb: 2048 }; exceeding them fails the trial. */
  resourceLimits?: ResourceLimits;
  /** SIGTERM -> SIGKILL grace for command objectives. Default 2000 ms. */
  killGraceMs?: number;
}

/** The worker entry next to this file, with the same extension (.js from dist, .ts under tsx). */
export function threadWorkerEntry(): { filename: string; execArgv?: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const filename = join(dirname(here), `thread-worker${ext}`);
  if (!existsSync(filename)) throw new DehbError('E_EXECUTOR', `thread worker entry is missing: ${filename}`);
  if (ext === '.ts') {
    // tsx by its resolved URL: a bare `--import tsx` would resolve from the cwd (a test may chdir)
    const rest = process.execArgv.filter((a, i, all) => !(a === '--import' && all[i + 1] === 'tsx') && !(a === 'tsx' && all[i - 1] === '--import'));
    return { filename, execArgv: [...rest, '--import', import.meta.resolve('tsx')] };
  }
  return { filename };
}

export class LocalExecutor implements Executor {
  private readonly core: ExecutorCore;
  private readonly pool: Piscina;
  private closing: Promise<void> | undefined;

  constructor(opts: LocalExecutorOptions) {
    const n = opts.nWorkers;
    if (!Number.isInteger(n) || n < 1) throw new DehbError('E_CONFIG', `nWorkers must be an integer >= 1 (got ${n})`);
    const entry = threadWorkerEntry();
    this.pool = new (piscina())({
      filename: entry.filename,
      name: 'evaluate',
      minThreads: n,
      maxThreads: n,
      idleTimeout: 24 * 3600 * 1000,
      concurrentTasksPerWorker: 1,
      ...(entry.execArgv === undefined ? {} : { execArgv: entry.execArgv }),
      ...(opts.resourceLimits === undefined ? {} : { resourceLimits: opts.resourceLimits }),
    });
    // an idle thread's uncaught error (e.g. an objective's stray rejection) must not crash the run
    this.pool.on('error', () => undefined);
    const mainInfo = { id: 'local-main', host: hostname(), pid: process.pid };
    this.core = new ExecutorCore(
      'local',
      n,
      (task, control) => {
        if (task.objective.kind === 'module') return this.runInThread(task, control);
        return runTask(task, {
          signal: control.signal,
          devices: control.devices,
          workerInfo: mainInfo,
          ...(control.onReport === undefined ? {} : { onReport: control.onReport }),
          ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
        });
      },
      opts.gpuAllocator,
    );
  }

  get capacity(): number {
    return this.core.capacity;
  }

  /** Threads currently alive in the pool. */
  get threadCount(): number {
    return this.pool.threads.length;
  }

  submit(task: EvalTask, opts?: SubmitOptions): Promise<EvalOutcome> {
    if (task?.objective?.kind === 'function') {
      return Promise.reject(
        new DehbError('E_EXECUTOR', 'the local (thread) executor cannot run a JS function objective; pass a module path, or use the inline executor'),
      );
    }
    return this.core.submit(task, opts);
  }

  /** submit() of a module-objective task already validated (a cluster worker's parsed job). */
  submitChecked(task: EvalTask, opts?: SubmitOptions): Promise<EvalOutcome> {
    return this.core.submitChecked(task, opts);
  }

  close(opts: { force?: boolean } = {}): Promise<void> {
    const drained = this.core.close(opts.force === true);
    this.closing ??= drained.then(() => this.pool.destroy());
    return drained.then(() => this.closing);
  }

  private async runInThread(task: EvalTask, control: ExecControl): Promise<EvalOutcome> {
    let why: 'timeout' | 'cancel' | undefined;
    const timeoutMs = task.timeoutMs;
    // without a timeout the caller's signal stops the thread itself (no controller of our own)
    const ac = timeoutMs === null ? undefined : new AbortController();
    const signal = ac?.signal ?? control.signal;
    const timer =
      ac === undefined || timeoutMs === null
        ? undefined
        : setTimeout(() => {
            why ??= 'timeout';
            ac.abort();
          }, timeoutMs);
    const onAbort = (): void => {
      why ??= 'cancel';
      ac?.abort();
    };
    if (ac !== undefined) control.signal.addEventListener('abort', onAbort, { once: true });
    if (control.signal.aborted) onAbort();

    let channel: MessageChannel | undefined;
    let reportsDone: Promise<void> = Promise.resolve();
    const onReport = control.onReport;
    const live = onReport !== undefined && control.liveReports !== false;
    if (live && onReport !== undefined) {
      const ch = new MessageChannel();
      channel = ch;
      reportsDone = new Promise<void>((resolve) => {
        ch.port1.on('message', (m: { step?: number; value?: number; done?: boolean }) => {
          if (m.done === true) resolve();
          else if (typeof m.step === 'number' && typeof m.value === 'number') onReport(m.step, m.value);
        });
      });
    }
    const msg: ThreadTaskMessage = {
      task,
      devices: control.devices,
      ...(channel === undefined ? {} : { reportPort: channel.port2 }),
      ...(onReport !== undefined && !live ? { bufferReports: true } : {}),
      ...(control.lazyTrialDir === true ? { lazyTrialDir: true } : {}),
    };
    try {
      const out = (await this.pool.run(msg, {
        signal,
        ...(channel === undefined ? {} : { transferList: [channel.port2] }),
      })) as ThreadTaskResult;
      if (channel !== undefined) await Promise.race([reportsDone, new Promise((r) => setTimeout(r, 1000).unref())]);
      const parsed = parseOutcome(out);
      if (!parsed.ok) return failed(`objective thread returned an unusable outcome: ${parsed.message}`, { name: 'ThreadCrash' });
      const { reports, ...outcome } = parsed.value;
      for (const [step, value] of reports ?? []) onReport?.(step, value);
      return outcome;
    } catch (err) {
      if (why === 'timeout' && timeoutMs !== null) return { status: 'timed-out', timeoutMs };
      if (why === 'cancel' || control.signal.aborted) return cancelled(control.signal.reason);
      return threadFailure(err);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      control.signal.removeEventListener('abort', onAbort);
      channel?.port1.close();
    }
  }
}

function threadFailure(err: unknown): EvalOutcome {
  const e = err as { message?: unknown; code?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const exited = /worker exited with code:?\s*(-?\d+)/i.exec(message);
  if (exited !== null) {
    return failed(`objective thread exited with code ${exited[1]} (process.exit() in an objective ends its thread)`, { name: 'ThreadCrash' });
  }
  if (e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(message)) {
    return failed(`objective thread ran out of memory: ${message} (raise resourceLimits or lower the objective's memory use)`, { name: 'ThreadCrash' });
  }
  return failed(`objective thread crashed: ${message}`, { name: 'ThreadCrash' });
}
