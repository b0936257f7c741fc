/**
 * Owns what a cluster worker agrees to run: the module objective it was started with
 * (`--objective`), the exact command it was started with (`--command`), and anything whose file
 * lies under an `--allow` directory (symlinks resolved, so `..` and links cannot escape). Every
 * refusal is one sentence naming the objective and the flag that would allow it. A job's `env`
 * and `cwd` never get here: the worker drops them (wire.ts), so they cannot change what runs.
 */
import { realpath, stat } from 'node:fs/promises';
import { DehbError } from '../../errors.js';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ObjectiveRef } from '../../protocol/executor.js';

export interface ObjectivePolicyOptions {
  /** Module the worker was started with. */
  objective?: string;
  /** Command argv the worker was started with. */
  command?: string[];
  /** Directories whose modules / executables may run. */
  allow?: string[];
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
}

async function real(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * An --allow entry as a real directory path. Anything else is refused (E_CONFIG) at start: a
 * typo, or a program name such as `--allow python3`, would otherwise only show as every job of
 * that kind being refused later.
 */
async function allowedDir(entry: string, cwd: string): Promise<string> {
  const dir = await real(resolve(cwd, entry));
  const isDir = await stat(dir).then((st) => st.isDirectory(), () => false);
  if (!isDir) {
    throw new DehbError(
      'E_CONFIG',
      `--allow ${entry}: ${dir} is not a directory; --allow takes directories whose modules and executables may run (a command such as "python3 train.py ..." is allowed by --command, exactly as the run gives it, or by a script with a shebang under an --allow directory as argv[0])`,
    );
  }
  return dir;
}

function isUnder(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export class ObjectivePolicy {
  /** Decisions by objective reference (paths are resolved once, not per trial). */
  private readonly cache = new Map<string, string | null>();

  private constructor(
    private readonly module: string | null,
    private readonly command: string[] | null,
    private readonly dirs: string[],
    private readonly cwd: string,
  ) {}

  static async create(opts: ObjectivePolicyOptions): Promise<ObjectivePolicy> {
    const cwd = opts.cwd ?? process.cwd();
    const module = opts.objective === undefined ? null : await real(resolve(cwd, opts.objective));
    const dirs = await Promise.all((opts.allow ?? []).map((d) => allowedDir(d, cwd)));
    return new ObjectivePolicy(module, opts.command ?? null, dirs, cwd);
  }

  /** True when nothing at all may run (the worker should say so at start). */
  get allowsNothing(): boolean {
    return this.module === null && this.command === null && this.dirs.length === 0;
  }

  /** True when some module objective may run (the worker then starts its thread pool at once). */
  get allowsModules(): boolean {
    return this.module !== null || this.dirs.length > 0;
  }

  describe(): string {
    const parts: string[] = [];
    if (this.module !== null) parts.push(`module ${this.module}`);
    if (this.command !== null) parts.push(`command ${JSON.stringify(this.command)}`);
    for (const d of this.dirs) parts.push(`anything under ${d}${sep}`);
    return parts.length === 0 ? 'nothing (start the worker with --allow DIR, --objective MODULE or --command CMD)' : parts.join(', ');
  }

  /** null when allowed, else the reason (one sentence with the fix). */
  async check(ref: ObjectiveRef): Promise<string | null> {
    const key = JSON.stringify(ref);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const decision = await this.decide(ref);
    if (this.cache.size > 1_000) this.cache.clear();
    this.cache.set(key, decision);
    return decision;
  }

  private async decide(ref: ObjectiveRef): Promise<string | null> {
    if (ref.kind === 'function') {
      return 'function objectives run in-process only; give the run a module path (objective.path) or a command';
    }
    if (ref.kind === 'module') {
      const file = await real(resolve(this.cwd, ref.path));
      if (this.module !== null && file === this.module) return null;
      if (this.dirs.some((d) => isUnder(file, d))) return null;
      return `this worker refuses objective module ${file}: it is not the worker's --objective and not under any --allow directory (allowed: ${this.describe()}); restart the worker with --allow ${dirOf(file)} or --objective ${file}`;
    }
    // a shell is the worker's decision too: its own --command runs without one, so a job asking for one is refused
    if (this.command !== null && ref.shell !== true && sameArgv(this.command, ref.argv)) return null;
    const exe = ref.argv[0] ?? '';
    if (ref.shell !== true && this.dirs.length > 0 && (exe.includes('/') || exe.includes(sep))) {
      // relative to the worker's own directory: a job's cwd never reaches here (wire.ts strips it)
      const file = await real(resolve(this.cwd, exe));
      if (this.dirs.some((d) => isUnder(file, d))) return null;
    }
    const shellNote = ref.shell === true ? ' (a job cannot ask for a shell: cluster workers run commands as argv, without one)' : '';
    return `this worker refuses command ${JSON.stringify(ref.argv)}${shellNote}: it is not the worker's --command and its executable is not under any --allow directory (allowed: ${this.describe()}); restart the worker with --command matching it exactly, or --allow the directory of a script the command runs as argv[0]`;
  }
}

function sameArgv(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function dirOf(file: string): string {
  const i = file.lastIndexOf(sep);
  return i <= 0 ? sep : file.slice(0, i);
}
