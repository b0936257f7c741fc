/**
 * Owns a trial directory made only when a JS objective first reads `ctx.trialDir` (a cluster
 * worker's temporary trial directories: most module objectives never use theirs, and a mkdir plus
 * an rmdir per trial cost about as much CPU as the rest of the worker's work on a trivial
 * objective). Made with one mkdirSync in the objective's own thread; something already there must
 * be a directory (not a symlink or file), as trial-dirs.ts checks for directories made up front;
 * a missing parent (the run's directory was cleaned up meanwhile) is made again. Removed, if made,
 * once the objective has returned.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';

export class LazyTrialDir {
  private made = false;

  constructor(readonly path: string) {}

  /** The directory, made now if it is not yet. */
  get(): string {
    if (!this.made) {
      makeDirSync(this.path);
      this.made = true;
    }
    return this.path;
  }

  /** Removes the directory if it was made (never throws). */
  async remove(): Promise<void> {
    if (this.made) await rm(this.path, { recursive: true, force: true }).catch(() => undefined);
  }
}

function makeDirSync(d: string): void {
  try {
    mkdirSync(d);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      mkdirSync(d, { recursive: true });
      return;
    }
    if (code !== 'EEXIST') throw err;
  }
  if (!lstatSync(d).isDirectory()) throw new Error(`trial directory ${d} is not a directory (a symlink or file is in the way); remove it`);
}
