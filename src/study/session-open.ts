/**
 * The one seam where a RunSession opens on a journal, of either kind:
 *
 * - `run-dir`: a run directory's journal file (run-journal.ts, its writer lock held until close):
 *   `new DEHB({ outputDir })` and so `dehb run`. A new run makes the directory and writes
 *   `created`; a failed set-up removes the directory it made. Resuming replays the journal.
 * - `study`: a study's journal in its storage, the session's appends fenced by the lease
 *   (leader-journal.ts): a study's lease holder, an asker (`study.ask()`), `dehb push`. The study
 *   exists already (createStudy wrote `created`), so this always replays it.
 */
import { mkdir, rm } from 'node:fs/promises';
import { DehbError } from '../errors.js';
import type { OptimizerOptions } from '../dehb/types.js';
import type { JournalBackend, JournalEntry, RunMeta } from './journal-types.js';
import { LeaderJournal } from './leader-journal.js';
import type { RunJournal } from './run-journal.js';
import { RunSession } from './run-session.js';
import type { StudyStorage } from './storage.js';

export interface RunDirPlace {
  kind: 'run-dir';
  dir: string;
  /** The journal file in `dir`. */
  path: string;
  /** Continue the run journaled there (else a new run, refused if one is there). */
  resume: boolean;
  /** A new run's options and meta (its `created` entry; unused on resume). */
  options: OptimizerOptions;
  meta: RunMeta;
}

export interface StudyPlace {
  kind: 'study';
  storage: StudyStorage;
  study: string;
  /** The lease holder the appends are fenced by. */
  holder: string;
  /** The study's journal as the storage opened it (the caller closes it). */
  reader: JournalBackend;
  /** Entries others journal, so this session drops its copy (leader-journal.ts). Default: none. */
  writtenElsewhere?: (entry: Extract<JournalEntry, { type: 'started' | 'report' | 'told' }>) => boolean;
}

export interface OpenedSession<J> {
  session: RunSession;
  journal: J;
}

export function openSession(place: RunDirPlace): Promise<OpenedSession<RunJournal>>;
export function openSession(place: StudyPlace): Promise<OpenedSession<LeaderJournal>>;
export async function openSession(place: RunDirPlace | StudyPlace): Promise<OpenedSession<RunJournal | LeaderJournal>> {
  if (place.kind === 'study') {
    const journal = new LeaderJournal(place.storage, place.study, place.holder, place.reader, place.writtenElsewhere ?? (() => false));
    return { session: await RunSession.resume(journal, `study "${place.study}"`), journal };
  }
  const { dir, path, resume } = place;
  // loaded here: the study kind is on the CLI's start-up path, and the run journal brings zod
  const { RunJournal } = await import('./run-journal.js');
  const made = resume ? undefined : await mkdir(dir, { recursive: true });
  let journal: RunJournal | undefined;
  try {
    journal = await RunJournal.open(path, { create: !resume });
    if (!resume && journal.lastSeq > 0) {
      throw new DehbError('E_CONFIG', `${path} already holds a run: pass resume: true to continue it, or choose another outputDir`);
    }
    if (resume) return { session: await RunSession.resume(journal, path), journal };
    const session = RunSession.create(place.options, place.meta, journal);
    await session.flush(); // the `created` entry is on disk before the run starts
    return { session, journal };
  } catch (err) {
    await journal?.close();
    if (made !== undefined) await rm(made, { recursive: true, force: true });
    throw err;
  }
}
