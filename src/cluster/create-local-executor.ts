/**
 * Owns choosing a single-machine backend for an objective:
 * - a JS function -> inline (capacity nWorkers: async functions overlap, sync ones serialise);
 * - a command -> process (one child per evaluation, GPU pinning through the allocator);
 * - a module -> local (piscina threads) when nWorkers > 1 or a trial timeout is set (threads
 *   give hard timeouts), otherwise inline.
 * `backend` overrides the choice.
 */
import { DehbError } from '../errors.js';
import type { ObjectiveFn } from '../objective.js';
import type { DeviceAllocatorLike } from './executor-core.js';
import type { Executor, ObjectiveRef } from '../protocol/executor.js';
import { InlineExecutor } from './inline/inline-executor.js';
import { LocalExecutor } from './local/local-executor.js';
import { ProcessExecutor } from './process/process-executor.js';

export type LocalBackendName = 'inline' | 'local' | 'process';

export interface CreateLocalExecutorOptions {
  /** The objective: a JS function (in-process only) or a module / command reference. */
  objective: ObjectiveRef | ObjectiveFn;
  /** Evaluations in flight at most. Default 1. */
  nWorkers?: number;
  /** Pins `task.gpus` devices per evaluation (commands) / passes them in ctx.devices (JS). */
  gpuAllocator?: DeviceAllocatorLike;
  /** The run's per-trial timeout (tasks carry their own timeoutMs); only used to pick a backend. */
  trialTimeoutMs?: number | null;
  /** Force a backend instead of the automatic choice. */
  backend?: LocalBackendName;
  /** SIGTERM -> SIGKILL grace for command objectives. Default 2000 ms. */
  killGraceMs?: number;
}

export function chooseLocalBackend(o: CreateLocalExecutorOptions): LocalBackendName {
  if (o.backend !== undefined) return o.backend;
  const n = o.nWorkers ?? 1;
  if (typeof o.objective === 'function' || o.objective.kind === 'function') return 'inline';
  if (o.objective.kind === 'command') return 'process';
  const hasTimeout = o.trialTimeoutMs !== undefined && o.trialTimeoutMs !== null && o.trialTimeoutMs > 0;
  return n > 1 || hasTimeout ? 'local' : 'inline';
}

export function createLocalExecutor(o: CreateLocalExecutorOptions): Executor {
  const n = o.nWorkers ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new DehbError('E_CONFIG', `nWorkers must be an integer >= 1 (got ${n})`);
  const backend = chooseLocalBackend(o);
  const fn = typeof o.objective === 'function' ? o.objective : undefined;
  const common = {
    ...(o.gpuAllocator === undefined ? {} : { gpuAllocator: o.gpuAllocator }),
    ...(o.killGraceMs === undefined ? {} : { killGraceMs: o.killGraceMs }),
  };
  switch (backend) {
    case 'inline':
      return new InlineExecutor({ ...common, capacity: n, ...(fn === undefined ? {} : { objective: fn }) });
    case 'local':
      if (fn !== undefined) {
        throw new DehbError('E_CONFIG', 'backend "local" runs module objectives in threads; a JS function can only run inline (pass a module path instead)');
      }
      return new LocalExecutor({ ...common, nWorkers: n });
    case 'process':
      if (fn !== undefined || (typeof o.objective !== 'function' && o.objective.kind !== 'command')) {
        throw new DehbError('E_CONFIG', 'backend "process" runs command objectives only (objective.command)');
      }
      return new ProcessExecutor({ ...common, capacity: n });
    default:
      throw new DehbError('E_CONFIG', `unknown backend '${String(backend)}' (expected inline, local or process)`);
  }
}
