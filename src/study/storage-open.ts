/**
 * `openStorage(url)`: the study storage factory. `redis://` / `rediss://` URLs (user, password,
 * db, `?prefix=`) open the Redis storage; plain paths and `file:` URLs open a directory storage.
 * Implementations are imported lazily, so a directory user never loads ioredis.
 */
import { DehbError } from '../errors.js';
import { isRedisUrl, type StudyStorage } from './storage.js';

export { defaultStorageUrl } from './storage.js';

/** Opens a storage by URL: redis://, rediss://, file:, or a plain directory path. */
export async function openStorage(url: string): Promise<StudyStorage> {
  if (isRedisUrl(url)) {
    const { RedisStudyStorage } = await import('./storage-redis.js');
    return RedisStudyStorage.open(url);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:/i.test(url)) {
    throw new DehbError('E_USAGE', `unsupported storage URL "${url}": use a directory, file:DIR, redis:// or rediss://`);
  }
  const { FileStudyStorage } = await import('./storage-file.js');
  return FileStudyStorage.open(url);
}
