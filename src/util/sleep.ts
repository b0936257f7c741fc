/**
 * Owns the one timed pause of src/: `sleep(ms, signal)` resolves after `ms`, or as soon as
 * `signal` aborts (at once when it already has). It never rejects: a caller that must fail on
 * an abort checks `signal.aborted` after it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
