/**
 * Ctrl-C / SIGTERM handling for long commands: the first signal aborts `stop` (graceful), the
 * second aborts `kill` (forced). Handlers are removed by dispose(). A reader that closes stdout
 * under a long command (`dehb run --json | head`) counts as a first signal: the command stops
 * gracefully (results journaled, lock released) instead of dying between two writes.
 */
export interface InterruptSignals {
  stop: AbortSignal;
  kill: AbortSignal;
  dispose(): void;
}

let onOutputClosed: (() => void) | null = null;
let stoppingForOutput = false;

/**
 * Called by the CLI's EPIPE handler on stdout: true when a long command takes it as a graceful
 * stop (or already is stopping for it: it exits with its own code when done), false when nothing
 * runs that needs one (the process may simply exit).
 */
export function outputClosed(): boolean {
  if (onOutputClosed !== null) {
    stoppingForOutput = true;
    onOutputClosed();
  }
  return stoppingForOutput;
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
  let outputGone = false;
  onOutputClosed = (): void => {
    if (outputGone) return;
    outputGone = true;
    process.stderr.write('dehb: stdout was closed by its reader; stopping as on Ctrl-C\n');
    if (count === 0) handler();
  };
  return {
    stop: stop.signal,
    kill: kill.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      onOutputClosed = null;
    },
  };
}
