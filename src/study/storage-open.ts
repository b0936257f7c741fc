/**
 * `openStorage(place)`: the one study storage opener (the Study API's `storage` key and every
 * command's `--storage`: `dehb optimize`, `dehb study ...`, `dehb push`, `dehb report`). A place is
 * named once, as one of:
 * - a `redis://` / `rediss://` URL (user, password, db, `?prefix=`): the Redis storage;
 * - a path to a scheduler file (the JSON file `dehb scheduler start` writes): the Redis it
 *   describes, with its password, TLS settings and key prefix (study keys under `<prefix>:`);
 *   a file that is not a valid scheduler file is an error naming the file and the field;
 * - a directory (made if missing) or a `file:` URL: the directory storage.
 * Implementations are imported lazily, so a directory user never loads ioredis (nor zod).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DehbError, isDehbError } from '../errors.js';
import { isRedisUrl, type StudyStorage } from './storage.js';

export { defaultStorageUrl } from './storage.js';

const PLACES = 'a directory, file:DIR, a redis:// or rediss:// URL, or a scheduler file';

/** Opens a storage: redis://, rediss://, file:, a scheduler file, or a directory path. */
export async function openStorage(place: string): Promise<StudyStorage> {
  if (typeof place !== 'string' || place === '') throw new DehbError('E_USAGE', `storage must be ${PLACES} (got ${JSON.stringify(place)})`);
  if (isRedisUrl(place)) {
    const { RedisStudyStorage } = await import('./storage-redis.js');
    return RedisStudyStorage.open(place);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(place) && !/^file:/i.test(place)) {
    throw new DehbError('E_USAGE', `unsupported storage URL "${place}": use ${PLACES}`);
  }
  if (!/^file:/i.test(place) && (await isFile(place))) return openSchedulerFile(place);
  const { FileStudyStorage } = await import('./storage-file.js');
  return FileStudyStorage.open(place);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false; // missing: a directory storage to be made
  }
}

/** The Redis a scheduler file describes, under its key prefix. */
async function openSchedulerFile(path: string): Promise<StudyStorage> {
  const abs = resolve(path);
  const { readSchedulerFile, connectionFromSchedulerFile } = await import('../protocol/scheduler-file.js');
  let conn;
  try {
    conn = await connectionFromSchedulerFile(await readSchedulerFile(abs), abs);
  } catch (err) {
    if (!isDehbError(err, 'E_SCHEDULER_FILE')) throw err;
    throw new DehbError('E_SCHEDULER_FILE', `${err.message} (storage ${abs} is a file, so it is read as a scheduler file; storage takes ${PLACES})`, {
      cause: err,
      ...(err.details === undefined ? {} : { details: err.details }),
    });
  }
  const { RedisStudyStorage } = await import('./storage-redis.js');
  return RedisStudyStorage.open(abs, { endpoint: conn.endpoint, prefix: `${conn.prefix}:` });
}
