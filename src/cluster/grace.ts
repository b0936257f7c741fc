/**
 * Owns the grace period of a worker that is stopping, one rule for the cluster worker runtime
 * (`dehb worker --grace-ms`) and a directory study's slots: running evaluations get up to
 * `graceMs` to finish (a second signal, `cut`, ends the wait at once); what still runs then is the
 * caller's to hand back.
 */
export async function waitForGrace(running: Array<Promise<unknown>>, graceMs: number, cut?: AbortSignal): Promise<void> {
  if (running.length === 0 || cut?.aborted === true) return;
  let timer: NodeJS.Timeout | undefined;
  let onCut = (): void => undefined;
  await Promise.race([
    Promise.allSettled(running),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      onCut = resolve;
      cut?.addEventListener('abort', onCut, { once: true });
    }),
  ]);
  clearTimeout(timer);
  cut?.removeEventListener('abort', onCut);
}
