/**
 * Opening studies — the Study API's entry points: `createStudy` (records the `created` entry:
 * optimizer options, objective reference, timeout, shipped input files, labels), `loadStudy`,
 * `listStudies` and `deleteStudy`, each on a storage given as a place (directory, Redis URL,
 * scheduler file) or a StudyStorage; without one a study is created in memory. The Study itself
 * (optimize, ask/tell, push, views) is in study.ts.
 */
import { resolve } from 'node:path';
import { DehbError } from '../errors.js';
import { resolveOptimizerOptions } from '../dehb/optimizer.js';
import { OPTIMIZER_OPTION_KEYS } from '../dehb/options.js';
import { OPTIMIZER_VERSION } from '../dehb/version.js';
import { rejectUnknownKeys, type KeyList } from '../unknown-keys.js';
import { parseSpace } from '../dehb/space/index.js';
import type { OptimizerOptions } from '../dehb/types.js';
import type { ObjectiveRef } from '../protocol/executor.js';
import type { ObjectiveFn } from '../objective.js';
import type { RunMeta } from '../study/journal-types.js';
import { readInputFiles, storeInputFiles, type InputFileInfo } from '../study/input-files.js';
import { fileToStore, unknownStudy, type CreatedEntry, type StudyStorage } from '../study/storage.js';
import { openStorage } from '../study/storage-open.js';
import { checkCommandObjective, toObjectiveRef, type ObjectiveInput } from './dehb-options.js';
import {
  studyView,
  summarize,
  type StudySummary,
} from '../study/study-records.js';
import { Study } from './study.js';
export type StorageInput = string | StudyStorage | undefined;

export interface CreateStudyOptions extends Omit<OptimizerOptions, 'space'> {
  name: string;
  /**
   * Where the study lives: a directory, a redis:// or rediss:// URL, a scheduler file, or a
   * StudyStorage. Default: a new in-memory storage (the study lives as long as this process).
   */
  storage?: StorageInput;
  /** The search space (validated). */
  space: unknown;
  /**
   * What to minimise: a JS function (evaluated in this process: only a Study holding it can
   * optimize), a module path, `{ module, exportName }`, `{ command: [...] }`, or a reference
   * `{ kind: 'module' | 'command', ... }`. Leave it out to use ask/tell only.
   */
  objective?: ObjectiveInput | Extract<ObjectiveRef, { kind: 'module' | 'command' }>;
  /** Kill an evaluation after this many ms. */
  trialTimeoutMs?: number | null;
  /** Files shipped to workers (paths; relative names are kept). */
  inputFiles?: string[];
  /** Cap per input file in bytes. Default 50 MiB. */
  maxFileBytes?: number;
  /** Return the existing study instead of failing when the name is taken. */
  skipIfExists?: boolean;
  labels?: Record<string, string>;
}

const CREATE_STUDY_KEYS: KeyList<CreateStudyOptions> = {
  ...OPTIMIZER_OPTION_KEYS,
  name: true,
  storage: true,
  objective: true,
  trialTimeoutMs: true,
  inputFiles: true,
  maxFileBytes: true,
  skipIfExists: true,
  labels: true,
};
const STORAGE_KEYS = ['storage'] as const;

async function useStorage(input: StorageInput, call: string): Promise<{ storage: StudyStorage; owned: boolean }> {
  if (input === undefined || input === '') {
    if (call !== 'createStudy') {
      throw new DehbError('E_CONFIG', `${call} needs options.storage (a directory, a redis:// URL, a scheduler file or a StudyStorage): a study created without one lives only in its Study object`);
    }
    // loaded on use: the CLI's study commands import this module, and zod stays out of `--help`
    const { MemoryStudyStorage } = await import('../study/storage-memory.js');
    return { storage: new MemoryStudyStorage(), owned: true };
  }
  if (typeof input !== 'string') return { storage: input, owned: false };
  return { storage: await openStorage(input), owned: true };
}

/** The objective reference a study records, and the function when it is one. */
function studyObjective(input: CreateStudyOptions['objective']): { ref: ObjectiveRef; fn?: ObjectiveFn } | null {
  if (input !== null && typeof input === 'object' && 'kind' in input) {
    if (input.kind !== 'module' && input.kind !== 'command') {
      throw new DehbError('E_CONFIG', 'objective.kind must be "module" or "command" (pass a JS function itself as objective to evaluate it in this process)');
    }
    return { ref: input };
  }
  return toObjectiveRef(input);
}

export async function createStudy(opts: CreateStudyOptions): Promise<Study> {
  rejectUnknownKeys(opts, CREATE_STUDY_KEYS, 'createStudy(options)');
  const { storage, owned } = await useStorage(opts.storage, 'createStudy');
  try {
    const { name, space: rawSpace, objective: rawObjective, inputFiles, skipIfExists, trialTimeoutMs, labels, maxFileBytes, storage: _s, ...optimizer } = opts;
    // the one timeout rule of new DEHB and the wire (zod, loaded only when a limit is given)
    if (trialTimeoutMs !== undefined) (await import('../protocol/schemas.js')).checkTrialTimeout(trialTimeoutMs);
    const objective = studyObjective(rawObjective);
    if (skipIfExists === true && (await storage.studyExists(name))) return new Study(name, storage, owned, false, objective?.fn);
    const options = resolveOptimizerOptions({ ...optimizer, space: parseSpace(rawSpace) });
    checkCommandObjective(objective?.ref, options.space, 'objective.argv');
    const files = await readInputFiles(inputFiles ?? [], maxFileBytes === undefined ? {} : { maxBytes: maxFileBytes });
    const fileInfo: InputFileInfo[] = files.map((f) => ({ name: f.name, ...fileToStore(f.data, Infinity) }));
    let ref: ObjectiveRef | undefined = objective?.ref;
    if (ref?.kind === 'module') {
      const abs = resolve(ref.path);
      const shipped = files.find((f) => f.path === abs);
      ref = { ...ref, path: shipped !== undefined ? shipped.name : abs };
    } else if (ref?.kind === 'command' && ref.cwd === undefined) {
      ref = { ...ref, cwd: process.cwd() };
    }
    const meta: RunMeta = {
      runId: name,
      ...(ref === undefined ? {} : { objective: ref }),
      ...(trialTimeoutMs === undefined ? {} : { trialTimeoutMs }),
      ...(fileInfo.length === 0 ? {} : { inputFiles: fileInfo }),
      ...(labels === undefined ? {} : { labels }),
    };
    const created: CreatedEntry = { type: 'created', options, meta, optimizer: OPTIMIZER_VERSION };
    const made = await storage.createStudy(name, created, { skipIfExists: skipIfExists === true });
    if (made && files.length > 0) {
      try {
        await storeInputFiles(storage, name, files, maxFileBytes);
      } catch (err) {
        await storage.deleteStudy(name).catch(() => undefined);
        throw err;
      }
    }
    return new Study(name, storage, owned, made, objective?.fn);
  } catch (err) {
    if (owned) await storage.close();
    throw err;
  }
}

export async function loadStudy(name: string, opts: { storage?: StorageInput; objective?: ObjectiveFn } = {}): Promise<Study> {
  rejectUnknownKeys(opts, ['storage', 'objective'], 'loadStudy(name, options)');
  if (opts.objective !== undefined && typeof opts.objective !== 'function') {
    throw new DehbError('E_CONFIG', 'loadStudy(name, { objective }) takes the JS function of a study created with one (module and command objectives are stored in the study)');
  }
  const { storage, owned } = await useStorage(opts.storage, 'loadStudy');
  if (!(await storage.studyExists(name))) {
    if (owned) await storage.close();
    throw unknownStudy(name, storage.url);
  }
  return new Study(name, storage, owned, false, opts.objective);
}

export async function listStudies(opts: { storage?: StorageInput } = {}): Promise<StudySummary[]> {
  rejectUnknownKeys(opts, STORAGE_KEYS, 'listStudies(options)');
  const { storage, owned } = await useStorage(opts.storage, 'listStudies');
  try {
    const out: StudySummary[] = [];
    for (const name of await storage.listStudies()) {
      const j = await storage.journal(name).catch(() => null);
      if (j === null) continue; // deleted meanwhile
      try {
        out.push(summarize(studyView(name, await j.read(1))));
      } finally {
        await j.close();
      }
    }
    return out;
  } finally {
    if (owned) await storage.close();
  }
}

export async function deleteStudy(name: string, opts: { storage?: StorageInput } = {}): Promise<boolean> {
  rejectUnknownKeys(opts, STORAGE_KEYS, 'deleteStudy(name, options)');
  const { storage, owned } = await useStorage(opts.storage, 'deleteStudy');
  try {
    return await storage.deleteStudy(name);
  } finally {
    if (owned) await storage.close();
  }
}
