/**
 * Owns the wording of a failed file write: Node's errors for a write on an open file (ENOSPC,
 * EDQUOT, EIO, EROFS...) name no file, so the user cannot tell which disk filled up. This names
 * the file and the fix.
 */
import { DehbError, isDehbError } from './errors.js';

const FIX: Record<string, string> = {
  ENOSPC: 'no space left on the device; free space (or choose another directory) and resume',
  EDQUOT: 'disk quota exceeded; free space (or choose another directory) and resume',
  EROFS: 'the filesystem is read-only',
  EACCES: 'permission denied',
  EIO: 'input/output error from the device',
};

/** `err` as an E_JOURNAL DehbError naming `path`; DehbErrors and errors without an errno code pass through. */
export function writeError(err: unknown, path: string): unknown {
  if (isDehbError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return err;
  const why = FIX[code] ?? (err as Error).message;
  return new DehbError('E_JOURNAL', `cannot write ${path}: ${why} (${code})`, { cause: err, details: { file: path, errno: code } });
}
