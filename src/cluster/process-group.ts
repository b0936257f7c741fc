/**
 * Owns process-group handling for command evaluations: signalling a whole group, telling whether
 * it still has live (non-zombie) members, waiting for it to empty after a kill, and killing the
 * groups still running if this process exits.
 */
import { readdir, readFile } from 'node:fs/promises';
import { sleep } from '../util/sleep.js';

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** Remember a running group so that it is SIGKILLed if this process exits first. */
export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const g of liveGroups) signalGroup(g, 'SIGKILL');
    });
  }
}

export function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/** Send a signal to a whole process group; a group that is already gone is fine. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* ESRCH: nothing left */
  }
}

/** Some member (maybe a zombie) of the group exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Wait until the group has no live member, or ~500 ms after SIGKILL was sent. */
export async function waitGroupGone(pgid: number, sigkillSent: () => boolean): Promise<void> {
  let afterKill = 0;
  while (await groupHasLiveMember(pgid)) {
    await sleep(25);
    if (sigkillSent()) {
      afterKill += 25;
      if (afterKill > 500) return;
    }
  }
}

/**
 * kill(-pgid, 0) also succeeds for zombies (dead members nobody reaped yet, common when PID 1 is
 * not an init). On Linux, look at /proc to ignore them.
 */
export async function groupHasLiveMember(pgid: number): Promise<boolean> {
  if (!groupAlive(pgid)) return false;
  if (process.platform !== 'linux') return true;
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return true;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // After the `(comm)` field: state, ppid, pgrp, ...
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (rest[2] === String(pgid) && rest[0] !== 'Z' && rest[0] !== 'X') return true;
  }
  return false;
}
