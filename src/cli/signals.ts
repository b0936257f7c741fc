/**
 * Ctrl-C / SIGTERM handling for long commands: the first signal aborts `stop` (graceful), the
 * second aborts `kill` (forced). Handlers are removed by dispose().
 */
export interface InterruptSignals {
  stop: AbortSignal;
  kill: AbortSignal;
  dispose(): void;
}

export function interruptSignals(onSignal: (count: number) => void): InterruptSignals {
  const stop = new AbortController();
  const kill = new AbortController();
  let count = 0;
  const handler = (): void => {
    count++;
    onSignal(count);
    if (count === 1) stop.abort();
    else kill.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stop: stop.signal,
    kill: kill.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
