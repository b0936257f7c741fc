/**
 * `runStudyWorker`: the entry point for `dehb worker --study NAME --storage URL` and
 * `dehb study worker NAME` — open the storage by URL, check the study exists, evaluate its
 * trials (study-loop.ts in worker mode: a directory's local queue, or a Redis study's BullMQ jobs)
 * until stopped, idle or done, then close the storage.
 */
import { defaultStorageUrl, unknownStudy } from '../study/storage.js';
import { openStorage } from '../study/storage-open.js';
import { runStudy, type StudyRunOptions, type StudyRunSummary } from './study-loop.js';

export interface RunStudyWorkerOptions extends Omit<StudyRunOptions, 'storage' | 'mode' | 'budget' | 'leaseTtlMs' | 'queueAhead'> {
  /** Storage URL; default $DEHB_STORAGE or ./dehb-studies. */
  storage?: string;
}

export async function runStudyWorker(opts: RunStudyWorkerOptions): Promise<StudyRunSummary> {
  const storage = await openStorage(defaultStorageUrl(opts.storage));
  try {
    if (!(await storage.studyExists(opts.study))) throw unknownStudy(opts.study, storage.url);
    const { storage: _url, ...rest } = opts;
    return await runStudy({ ...rest, storage, mode: 'worker' });
  } finally {
    await storage.close();
  }
}
