/**
 * Owns loading a module objective: resolve the path (relative paths against the current working
 * directory), import it as a file URL, pick the named export, and fail with one clear E_CONFIG
 * line when the file or the export is missing. Successful loads are cached per path and export.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DehbError } from '../errors.js';
import type { ObjectiveFn } from '../objective.js';

const cache = new Map<string, ObjectiveFn>();
/** The same loads by the path and export exactly as given: a trial's lookup, with no path work. */
const byRef = new Map<string, Map<string | undefined, ObjectiveFn>>();

/** The objective an earlier load of this very path and export returned, else undefined (sync: no await per trial). */
export function loadedObjective(path: string, exportName?: string): ObjectiveFn | undefined {
  return byRef.get(path)?.get(exportName);
}

/**
 * Load `exportName` (default `objective`) from the module at `path`. When no export name is
 * given and the module has no `objective` export, a function default export is accepted.
 * Throws DehbError E_CONFIG naming the file and the fix.
 */
export async function loadObjectiveModule(path: string, exportName?: string): Promise<ObjectiveFn> {
  const abs = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const name = exportName ?? 'objective';
  const key = `${abs}\u0000${exportName ?? ''}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    remember(path, exportName, hit);
    return hit;
  }

  try {
    const st = await stat(abs);
    if (!st.isFile()) {
      throw new DehbError('E_CONFIG', `objective module is not a file: ${abs} (objective.path)`);
    }
  } catch (err) {
    if (err instanceof DehbError) throw err;
    throw new DehbError('E_CONFIG', `objective module not found: ${abs} (objective.path)`, { cause: err });
  }

  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    const hint = /\.ts$/.test(abs) && /Unknown file extension/.test(msg)
      ? ' (a .ts objective needs `node --import tsx`, or compile it to .js)'
      : '';
    throw new DehbError('E_CONFIG', `objective module ${abs} failed to load: ${msg}${hint}`, { cause: err });
  }

  let fn = mod[name];
  if (fn === undefined && exportName === undefined && typeof mod.default === 'function') fn = mod.default;
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const list = exported.length > 0 ? exported.join(', ') : 'none';
    const what = fn === undefined ? `has no export named '${name}'` : `export '${name}' is not a function`;
    throw new DehbError(
      'E_CONFIG',
      `objective module ${abs} ${what} (exported functions: ${list}); set objective.exportName`,
    );
  }
  cache.set(key, fn as ObjectiveFn);
  remember(path, exportName, fn as ObjectiveFn);
  return fn as ObjectiveFn;
}

function remember(path: string, exportName: string | undefined, fn: ObjectiveFn): void {
  let m = byRef.get(path);
  if (m === undefined) byRef.set(path, (m = new Map()));
  m.set(exportName, fn);
}
