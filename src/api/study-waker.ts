/**
 * Owns the wake-up of a study process's idle loops (api/study-loop.ts): one waiter at a time
 * waits up to `ms` (or until `signal` aborts); `wake()` ends that wait at once, and a wake with
 * nobody waiting makes the next wait return at once.
 */
export class Waker {
  private resolve: (() => void) | null = null;
  private woken = false;
  wake(): void {
    if (this.resolve === null) this.woken = true;
    else this.resolve();
  }
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
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
