/**
 * Owns how a study process's running trials stop (api/study-loop.ts), as `dehb worker` does. A
 * graceful stop (`signal`): the local queue's running trials get `graceMs` to finish, then `kill`
 * aborts and what still runs goes back to the queue; the cluster runtime (this process's slots on
 * Redis) is stopped at once with the same grace: it takes nothing more, lets running trials finish
 * within it, then hands them back.
 * A forced stop (`killSignal`): `kill` aborts at once and the cluster runtime stops without grace.
 */
import type { ClusterWorker } from '../cluster/bullmq/worker-runtime.js';
import { waitForGrace } from '../cluster/grace.js';
import type { StudyRunOptions } from './study-run-options.js';

export interface StudyStop {
  /** Cancels the local queue's running trials: a forced stop, or a graceful stop's grace over. */
  readonly kill: AbortSignal;
  /** Stops listening to the stop signals. */
  dispose(): void;
}

/**
 * Listens to `opts.signal` and `opts.killSignal` from now on. `running` is this process's running
 * trials on a local queue; `runtime` its cluster slots, once started (null until then, or none).
 */
export function watchStop(
  opts: Pick<StudyRunOptions, 'signal' | 'killSignal'>,
  graceMs: number,
  running: ReadonlyMap<number, Promise<void>>,
  runtime: () => ClusterWorker | null,
): StudyStop {
  const graceOver = new AbortController();
  const kill = opts.killSignal === undefined ? graceOver.signal : AbortSignal.any([opts.killSignal, graceOver.signal]);
  const onStop = (): void => {
    const slots = runtime();
    if (slots === null) void waitForGrace([...running.values()], graceMs, opts.killSignal).then(() => graceOver.abort());
    else void slots.stop({ graceMs });
  };
  const onKill = (): void => void runtime()?.stop({ graceMs: 0 });
  opts.signal?.addEventListener('abort', onStop, { once: true });
  opts.killSignal?.addEventListener('abort', onKill, { once: true });
  return {
    kill,
    dispose: () => {
      opts.signal?.removeEventListener('abort', onStop);
      opts.killSignal?.removeEventListener('abort', onKill);
    },
  };
}
