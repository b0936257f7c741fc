/**
 * The study storage seam: named studies, each with a journal, a leader lease, metadata and
 * content-addressed input files, behind one interface with three implementations — in this
 * process (storage-memory.ts, the Study API's default), a directory (storage-file.ts, the CLI's
 * default) and Redis (storage-redis.ts, for clusters). How trials go out is a capability: a
 * directory or in-memory storage has a local work queue (`queue`, LocalStudyQueue); a Redis storage
 * names the BullMQ queue on the same Redis (`cluster`), so its trials are cluster jobs that any
 * `dehb worker` of that Redis can run. `openStorage(place)` (storage-open.ts) picks one from a
 * directory, a Redis URL or a scheduler file. The conformance suite
 * (test/conformance/storage.test.ts) runs against all three.
 *
 * Semantics every implementation keeps:
 * - createStudy writes the `created` entry as journal seq 1; a duplicate name is E_STUDY unless
 *   skipIfExists (then nothing changes and `false` is returned).
 * - The lease is exclusive with a TTL; `appendAsLeader` appends only while the holder still owns
 *   it (atomically with the check), so a deposed leader can never write `asked` entries.
 * - A local queue (`queue`) is idempotent by trialId (a queued, claimed or done trial is not enqueued
 *   twice), claims are atomic (exactly one worker gets a task), lower priority values are claimed
 *   first, then lower trial ids; claims expire unless heart-beaten and expired claims go back to the
 *   queue (claim() reclaims them first); only the holder of a claim completes it, and a done task
 *   keeps its outcome until removed.
 * - Files are addressed by sha256, size-capped on put, and verified on get.
 */
import { createHash } from 'node:crypto';
import { DehbError } from '../errors.js';
import type { Config } from '../dehb/types.js';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { STUDY_RUN_PREFIX } from '../protocol/schemas.js';
import type { JournalBackend, JournalEntry } from './journal-types.js';

export type CreatedEntry = Extract<JournalEntry, { type: 'created' }>;

export interface QueueTask {
  trialId: number;
  /** 0 for pushed (manual) trials, 1 for optimizer trials: lower is claimed first. */
  priority: number;
  config: Config;
  fidelity: number;
}

export interface ClaimedTask extends QueueTask {
  workerId: string;
  /** ms since epoch (storage clock). */
  expiresAt: number;
  /** How many times this trial was claimed (1 on the first claim). */
  attempts: number;
}

export interface LeaseInfo {
  holder: string;
  /** ms since epoch (storage clock). */
  expiresAt: number;
}

export interface QueueStats {
  queued: number;
  claimed: number;
}

export interface StoredFile {
  sha256: string;
  size: number;
}

/** Default cap on one input file: 50 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024;

/** What createStudy does when the name is taken: false with skipIfExists, else an error saying so. */
export function studyTaken(name: string, url: string, opts: { skipIfExists?: boolean }, reuse = '--skip-if-exists'): false {
  if (opts.skipIfExists === true) return false;
  throw new DehbError('E_STUDY', `a study named "${name}" already exists in ${url} (use ${reuse} to reuse it)`, { details: { study: name } });
}

/** A file to store, under the cap (`maxBytes`, default 50 MiB), with its sha256: every backend's putFile check. */
export function fileToStore(data: Buffer, maxBytes = DEFAULT_MAX_FILE_BYTES): StoredFile {
  if (data.length > maxBytes) {
    throw new DehbError('E_STUDY', `input file is ${data.length} bytes, over the ${maxBytes}-byte cap`, { details: { size: data.length, max: maxBytes } });
  }
  return { sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

/** A stored file read back (null: not there), checked against its sha256: every backend's getFile check. */
export function checkStoredFile(study: string, sha256: string, data: Buffer | null | undefined): Buffer {
  if (data === null || data === undefined) throw new DehbError('E_STUDY', `study "${study}" has no stored file ${sha256}`);
  const got = createHash('sha256').update(data).digest('hex');
  if (got !== sha256) throw new DehbError('E_STUDY', `stored file ${sha256} of study "${study}" is corrupt (checksum ${got})`);
  return data;
}

export interface StudyStorage {
  /** The URL (or directory) this storage was opened with, credentials masked. */
  readonly url: string;
  readonly kind: 'file' | 'redis' | 'memory';

  /** Creates a study whose journal starts with `created`. Returns false when skipped. */
  createStudy(name: string, created: CreatedEntry, opts?: { skipIfExists?: boolean }): Promise<boolean>;
  listStudies(): Promise<string[]>;
  studyExists(name: string): Promise<boolean>;
  /** Removes the study and everything it owns; false when it did not exist. */
  deleteStudy(name: string): Promise<boolean>;
  /** The study's journal (E_STUDY when the study does not exist). Close it when done. */
  journal(name: string): Promise<JournalBackend>;

  /** Takes the lease if free or expired (or renews it when `holder` already owns it). */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease; false when `holder` no longer owns it. */
  renewLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  getLease(name: string): Promise<LeaseInfo | null>;
  /** Appends to the journal iff `holder` owns the lease; otherwise E_STUDY (lease lost). */
  appendAsLeader(name: string, holder: string, entries: JournalEntry[]): Promise<number>;

  /** The local work queue of a storage shared by processes of one machine (directory storage). */
  readonly queue?: LocalStudyQueue;
  /** The BullMQ queue on the same Redis that carries this storage's trials (Redis storage). */
  readonly cluster?: ClusterConnection;

  /** Stores an input file of the study; E_STUDY when larger than maxBytes (default 50 MiB). */
  putFile(name: string, data: Buffer, opts?: { maxBytes?: number }): Promise<StoredFile>;
  /** Reads a stored file and verifies its checksum (E_STUDY when missing or corrupt). */
  getFile(name: string, sha256: string): Promise<Buffer>;

  /** A directory of the study on this machine (directory storage only): trials live under it. */
  localDir?(name: string): string;

  close(): Promise<void>;
}

/**
 * A work queue of study trials on one machine (the directory storage's, storage-file-queue.ts):
 * the transport of a study's local queue executor (study-queue-executor.ts). The lease holder
 * queues tasks and reads back the outcomes workers leave; it journals every result itself.
 */
export interface LocalStudyQueue {
  /**
   * Removes the `drop` tasks whatever their state (results journaled, or a trial to run again),
   * then queues the tasks not already queued, claimed or done; returns how many were added.
   */
  enqueue(name: string, tasks: QueueTask[], drop?: number[]): Promise<number>;
  /** Atomically claims the first task (reclaiming expired claims first), or null. */
  claim(name: string, workerId: string, claimTtlMs: number): Promise<ClaimedTask | null>;
  /** Extends a claim; false when `workerId` no longer holds it. */
  heartbeat(name: string, trialId: number, workerId: string, claimTtlMs: number): Promise<boolean>;
  /** Leaves a claimed task's outcome for the lease holder; false (dropped) when `workerId` no longer holds the claim. */
  complete(name: string, trialId: number, workerId: string, outcome: unknown): Promise<boolean>;
  /** Gives a claimed task back to the queue (graceful shutdown). */
  unclaim(name: string, trialId: number, workerId: string): Promise<void>;
  /** The lease holder's look (no lock): outcomes left by workers (untrusted: validate them) and the claimed trials. */
  results(name: string): Promise<QueueResults>;
  queueStats(name: string): Promise<QueueStats>;
}

export interface QueueResults {
  done: Array<{ trialId: number; workerId: string; outcome: unknown }>;
  claimed: Array<{ trialId: number; workerId: string }>;
}

/** The storage's local queue (E_STUDY for a storage whose trials go out another way). */
export function localQueue(storage: StudyStorage): LocalStudyQueue {
  if (storage.queue === undefined) throw new DehbError('E_STUDY', `${storage.url} has no local work queue (its trials go out as cluster jobs)`);
  return storage.queue;
}

/**
 * The run id of a study's trials on a cluster queue (job ids `study.<name>-<trialId>`): one rule
 * for the lease holder that submits them and `dehb worker --study NAME` that filters on them.
 */
export function studyRunId(name: string): string {
  return `${STUDY_RUN_PREFIX}${checkStudyName(name)}`;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Study names are safe as directory names and Redis key parts. */
export function checkStudyName(name: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new DehbError(
      'E_USAGE',
      `study name must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit (got "${String(name)}")`,
    );
  }
  return name;
}

export function unknownStudy(name: string, url: string): DehbError {
  return new DehbError('E_STUDY', `no study named "${name}" in ${url} (see \`dehb study list --storage ${url}\`)`, {
    details: { study: name },
  });
}

/** The CLI's storage place: the flag, else $DEHB_STORAGE, else ./dehb-studies (the library's default is in memory). */
export function defaultStorageUrl(flag?: string): string {
  if (flag !== undefined && flag !== '') return flag;
  const env = process.env.DEHB_STORAGE;
  return env !== undefined && env !== '' ? env : './dehb-studies';
}

export function isRedisUrl(url: string): boolean {
  return /^rediss?(\+cluster)?:\/\//i.test(url);
}

/** Masks the password of a URL for messages. */
export function maskUrl(url: string): string {
  return url.replace(/^(rediss?(?:\+cluster)?:\/\/[^:@/]*:)[^@]*@/i, '$1***@');
}
