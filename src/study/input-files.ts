/**
 * Input files that travel with a study: read and name them at creation (size-capped), and on a
 * worker fetch them from the storage (checksum verified), keep them in a local content cache and
 * materialise them into a trial's working directory. Names keep a relative path given at creation
 * (`scripts/train.py`) unless it is absolute or leaves the directory, then only the base name.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { DehbError } from '../errors.js';
import type { RunMeta } from './journal-types.js';
import { DEFAULT_MAX_FILE_BYTES, type StudyStorage } from './storage.js';

export type InputFileInfo = NonNullable<RunMeta['inputFiles']>[number];

export interface LocalInputFile {
  name: string;
  /** Absolute path it was read from. */
  path: string;
  data: Buffer;
}

/** The stored name of a file given on the command line. */
export function inputFileName(given: string): string {
  const n = normalize(given);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`)) return basename(n);
  return n.split(sep).join('/').replace(/^\.\//, '');
}

/** Reads the files to ship; E_USAGE for missing files and duplicate names, E_STUDY over the cap. */
export async function readInputFiles(
  paths: readonly string[],
  opts: { cwd?: string; maxBytes?: number } = {},
): Promise<LocalInputFile[]> {
  const max = opts.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const out: LocalInputFile[] = [];
  const seen = new Set<string>();
  for (const given of paths) {
    const path = resolve(opts.cwd ?? process.cwd(), given);
    const name = inputFileName(given);
    if (seen.has(name)) throw new DehbError('E_USAGE', `--input-file: two files would be stored as "${name}"; rename one`);
    seen.add(name);
    let st;
    try {
      st = await fsp.stat(path);
    } catch (err) {
      throw new DehbError('E_USAGE', `--input-file: ${path} does not exist`, { cause: err });
    }
    if (!st.isFile()) throw new DehbError('E_USAGE', `--input-file: ${path} is not a regular file`);
    if (st.size > max) {
      throw new DehbError('E_STUDY', `--input-file: ${path} is ${st.size} bytes, over the ${max}-byte cap per file`);
    }
    out.push({ name, path, data: await fsp.readFile(path) });
  }
  return out;
}

/** Uploads files to a study; returns their meta (name, sha256, size). */
export async function storeInputFiles(
  storage: StudyStorage,
  study: string,
  files: readonly LocalInputFile[],
  maxBytes?: number,
): Promise<InputFileInfo[]> {
  const out: InputFileInfo[] = [];
  for (const f of files) {
    const stored = await storage.putFile(study, f.data, maxBytes === undefined ? {} : { maxBytes });
    out.push({ name: f.name, sha256: stored.sha256, size: stored.size });
  }
  return out;
}

/**
 * Where a stored file name may be written under `dir`: a relative path of plain segments (`a.py`,
 * `scripts/a.py`; no `..`, `.`, empty or absolute parts, no backslash or NUL), whose directories
 * are created here and must not be symlinks, so nothing is written outside `dir`. E_STUDY else.
 */
export async function placedPath(dir: string, name: string): Promise<string> {
  const parts = name.split('/');
  const bad = name === '' || isAbsolute(name) || /[\\\0]/.test(name) || parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw new DehbError('E_STUDY', `refusing input file name ${JSON.stringify(name)}: names must be relative paths without "..", "." or "\\" parts`);
  await fsp.mkdir(dir, { recursive: true });
  let at = dir;
  for (const [i, p] of parts.entries()) {
    at = join(at, p);
    const st = await fsp.lstat(at).catch(() => null);
    if (st?.isSymbolicLink() === true) throw new DehbError('E_STUDY', `refusing to place input file ${JSON.stringify(name)}: ${at} is a symlink`);
    if (i < parts.length - 1 && st === null) await fsp.mkdir(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  return at;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A worker-side cache of one study's files: `<cacheDir>/<sha256>` blobs (verified when written and
 * when used) and `<cacheDir>/set-<digest>/<name>`, a stable directory holding every file under its
 * name (module objectives are imported from there, so repeated trials reuse one module instance).
 */
export class InputFileCache {
  private setDir: string | null = null;

  constructor(
    private readonly storage: StudyStorage,
    private readonly study: string,
    private readonly files: readonly InputFileInfo[],
    private readonly cacheDir: string,
  ) {}

  /** Materialises all files in the stable set directory and returns it. */
  async ensureSet(): Promise<string> {
    const digest = sha256(Buffer.from(JSON.stringify(this.files.map((f) => [f.name, f.sha256])))).slice(0, 16);
    const dir = join(this.cacheDir, `set-${digest}`);
    if (this.setDir === dir) return dir;
    for (const f of this.files) await this.place(f, dir);
    this.setDir = dir;
    return dir;
  }

  /** Copies every file into `dir` (a trial's working directory) under its name. */
  async materialize(dir: string): Promise<void> {
    for (const f of this.files) await this.place(f, dir);
  }

  /** Writes one file under `dir`; its stored name is checked here, where it is placed. */
  private async place(f: InputFileInfo, dir: string): Promise<void> {
    const target = await placedPath(dir, f.name);
    const data = await this.blob(f);
    try {
      const existing = await fsp.readFile(target);
      if (sha256(existing) === f.sha256) return;
    } catch {
      // not there yet
    }
    const tmp = `${target}.${randomUUID()}.tmp`;
    await fsp.writeFile(tmp, data, { mode: 0o755 });
    await fsp.rename(tmp, target);
  }

  private async blob(f: InputFileInfo): Promise<Buffer> {
    const path = join(this.cacheDir, f.sha256);
    try {
      const data = await fsp.readFile(path);
      if (sha256(data) === f.sha256) return data;
    } catch {
      // fetch below
    }
    const data = await this.storage.getFile(this.study, f.sha256); // verified by the storage
    await fsp.mkdir(this.cacheDir, { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, path);
    return data;
  }
}
