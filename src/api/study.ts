/**
 * The Study API — named, persistent optimizations any process can join through a storage URL:
 * `createStudy`, `loadStudy`, `listStudies`, `deleteStudy`, and on a Study `optimize`, `push`,
 * `trials`, `trial`, `summary`, `export`. The CLI commands are thin wrappers over these.
 */
import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { DehbError } from '../errors.js';
import { resolveOptimizerOptions } from '../dehb/optimizer.js';
import { OPTIMIZER_OPTION_KEYS } from '../dehb/options.js';
import { OPTIMIZER_VERSION } from '../dehb/version.js';
import { rejectUnknownKeys, type KeyList } from '../unknown-keys.js';
import { checkPlaceholders } from '../cluster/command-placeholders.js';
import { parseSpace, validateConfig } from '../dehb/space/index.js';
import type { Config, OptimizerOptions } from '../dehb/types.js';
import type { ObjectiveRef } from '../protocol/executor.js';
import type { RunMeta, StoredEntry } from '../study/journal-types.js';
import { readInputFiles, storeInputFiles, type InputFileInfo } from '../study/input-files.js';
import { queuePushes } from '../study/study-pushes.js';
import { defaultStorageUrl, unknownStudy, type CreatedEntry, type LeaseInfo, type QueueStats, type StudyStorage } from '../study/storage.js';
import { openStorage } from '../study/storage-open.js';
import {
  exportCsv,
  exportJson,
  filterTrials,
  studyView,
  summarize,
  type StudySummary,
  type StudyTrial,
  type StudyView,
} from '../study/study-records.js';
import { runStudy, type StudyRunOptions, type StudyRunSummary } from './study-loop.js';

export type StorageInput = string | StudyStorage | undefined;

export interface CreateStudyOptions extends Omit<OptimizerOptions, 'space'> {
  name: string;
  /** Storage URL or instance. Default $DEHB_STORAGE or ./dehb-studies. */
  storage?: StorageInput;
  /** The search space (validated). */
  space: unknown;
  /** A module or command objective (workers cannot run in-process functions). */
  objective?: Extract<ObjectiveRef, { kind: 'module' | 'command' }>;
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

async function useStorage(input: StorageInput): Promise<{ storage: StudyStorage; owned: boolean }> {
  if (input !== undefined && typeof input !== 'string') return { storage: input, owned: false };
  return { storage: await openStorage(defaultStorageUrl(input)), owned: true };
}

export async function createStudy(opts: CreateStudyOptions): Promise<Study> {
  rejectUnknownKeys(opts, CREATE_STUDY_KEYS, 'createStudy(options)');
  const { storage, owned } = await useStorage(opts.storage);
  try {
    const { name, space: rawSpace, objective, inputFiles, skipIfExists, trialTimeoutMs, labels, maxFileBytes, storage: _s, ...optimizer } = opts;
    if (skipIfExists === true && (await storage.studyExists(name))) return new Study(name, storage, owned, false);
    if (objective !== undefined && objective.kind !== 'module' && objective.kind !== 'command') {
      throw new DehbError('E_CONFIG', 'a study objective must be a module path or a command (workers cannot run in-process functions)');
    }
    const options = resolveOptimizerOptions({ ...optimizer, space: parseSpace(rawSpace) });
    if (objective?.kind === 'command') checkPlaceholders(objective.argv, options.space, 'objective.argv');
    const files = await readInputFiles(inputFiles ?? [], maxFileBytes === undefined ? {} : { maxBytes: maxFileBytes });
    const fileInfo: InputFileInfo[] = files.map((f) => ({ name: f.name, sha256: '', size: f.data.length }));
    let ref: ObjectiveRef | undefined = objective;
    if (ref?.kind === 'module') {
      const abs = resolve(ref.path);
      const shipped = files.find((f) => f.path === abs);
      ref = { ...ref, path: shipped !== undefined ? shipped.name : abs };
    } else if (ref?.kind === 'command' && ref.cwd === undefined) {
      ref = { ...ref, cwd: process.cwd() };
    }
    for (const [i, f] of files.entries()) (fileInfo[i] as InputFileInfo).sha256 = createHash('sha256').update(f.data).digest('hex');
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
    return new Study(name, storage, owned, made);
  } catch (err) {
    if (owned) await storage.close();
    throw err;
  }
}

export async function loadStudy(name: string, opts: { storage?: StorageInput } = {}): Promise<Study> {
  rejectUnknownKeys(opts, STORAGE_KEYS, 'loadStudy(name, options)');
  const { storage, owned } = await useStorage(opts.storage);
  if (!(await storage.studyExists(name))) {
    if (owned) await storage.close();
    throw unknownStudy(name, storage.url);
  }
  return new Study(name, storage, owned);
}

export async function listStudies(opts: { storage?: StorageInput } = {}): Promise<StudySummary[]> {
  rejectUnknownKeys(opts, STORAGE_KEYS, 'listStudies(options)');
  const { storage, owned } = await useStorage(opts.storage);
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
  const { storage, owned } = await useStorage(opts.storage);
  try {
    return await storage.deleteStudy(name);
  } finally {
    if (owned) await storage.close();
  }
}

export interface PushResult {
  /** The trial id, or null when a running leader has not handed it out yet. */
  trialId: number | null;
  config: Config;
  fidelity: number;
}

export type OptimizeOptions = Omit<StudyRunOptions, 'storage' | 'study' | 'mode' | 'budget'> & {
  fevals?: number;
  brackets?: number;
  runtimeMs?: number;
};

const OPTIMIZE_KEYS: KeyList<OptimizeOptions> = {
  fevals: true,
  brackets: true,
  runtimeMs: true,
  nWorkers: true,
  singleNodeWithGpus: true,
  gpusPerTrial: true,
  trialTimeoutMs: true,
  executor: true,
  acceptStudyFiles: true,
  trialsDir: true,
  workerId: true,
  claimTtlMs: true,
  leaseTtlMs: true,
  queueAhead: true,
  idleExitMs: true,
  maxTrials: true,
  signal: true,
  killSignal: true,
  log: true,
  onTold: true,
};

export class Study {
  constructor(
    readonly name: string,
    readonly storage: StudyStorage,
    private readonly ownsStorage = false,
    /** True when createStudy made it (false when it existed and skipIfExists applied). */
    readonly created = false,
  ) {}

  /** Everything the journal says, read without locks. */
  async view(): Promise<StudyView> {
    const j = await this.storage.journal(this.name);
    try {
      return studyView(this.name, await j.read(1));
    } finally {
      await j.close();
    }
  }

  async summary(): Promise<StudySummary> {
    return summarize(await this.view());
  }

  async trials(filter: { status?: string | string[] } = {}): Promise<StudyTrial[]> {
    const s = filter.status;
    return filterTrials((await this.view()).trials, s === undefined ? undefined : Array.isArray(s) ? s : [s]);
  }

  async trial(trialId: number): Promise<StudyTrial> {
    const t = (await this.view()).trials.find((x) => x.trialId === trialId);
    if (t === undefined) throw new DehbError('E_STUDY', `study "${this.name}" has no trial ${trialId}`);
    return t;
  }

  async status(): Promise<{ queue: QueueStats; lease: LeaseInfo | null }> {
    // a directory storage counts its local queue; a Redis study's trials are out as cluster jobs: count them in the journal
    const local = this.storage.queue;
    const queue = local !== undefined ? await local.queueStats(this.name) : countOut(await this.trials());
    return { queue, lease: await this.storage.getLease(this.name) };
  }

  /**
   * Queues a hand-written configuration (validated against the space; fidelity defaults to the
   * maximum). It is evaluated before optimizer trials. When no leader runs, this call turns it into
   * a trial itself; otherwise it waits up to `waitMs` (default 5 s) for the leader to do so.
   */
  async push(params: Record<string, unknown>, fidelity?: number, opts: { waitMs?: number } = {}): Promise<PushResult> {
    const j = await this.storage.journal(this.name);
    try {
      const created = (await j.read(1))[0] as Extract<StoredEntry, { type: 'created' }>;
      const o = created.options;
      const config = validateConfig(o.space, params);
      const f = fidelity ?? o.maxFidelity;
      if (typeof f !== 'number' || !Number.isFinite(f) || f < o.minFidelity || f > o.maxFidelity) {
        throw new DehbError('E_CONFIG', `--fidelity must be within [${o.minFidelity}, ${o.maxFidelity}] (got ${String(fidelity)})`);
      }
      const seq = await j.append([{ type: 'pushed', config, fidelity: f }]);
      await queuePushes(this.storage, this.name, `push-${randomUUID().slice(0, 8)}`);
      const deadline = Date.now() + (opts.waitMs ?? 5000);
      for (;;) {
        const entries = await j.read(1);
        const k = entries.filter((e) => e.type === 'pushed' && e.seq <= seq).length;
        const asked = entries.filter((e) => e.type === 'asked' && e.job.source === 'manual');
        const mine = asked[k - 1];
        if (mine !== undefined && mine.type === 'asked') return { trialId: mine.trialId, config, fidelity: f };
        if (Date.now() >= deadline) return { trialId: null, config, fidelity: f };
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await j.close();
    }
  }

  /** Runs (or joins) the optimization until the study's total budget is met. */
  async optimize(opts: OptimizeOptions): Promise<StudyRunSummary & { best: StudySummary['best'] }> {
    rejectUnknownKeys(opts, OPTIMIZE_KEYS, 'study.optimize(options)');
    const { fevals, brackets, runtimeMs, ...rest } = opts;
    const budget = {
      ...(fevals === undefined ? {} : { fevals }),
      ...(brackets === undefined ? {} : { brackets }),
      ...(runtimeMs === undefined ? {} : { runtimeMs }),
    };
    const r = await runStudy({ ...rest, storage: this.storage, study: this.name, mode: 'optimize', budget });
    return { ...r, best: (await this.summary()).best };
  }

  async export(format: 'json' | 'csv'): Promise<string> {
    const view = await this.view();
    if (format === 'json') return exportJson(view);
    if (format === 'csv') return exportCsv(view.trials);
    throw new DehbError('E_USAGE', `--format must be json or csv (got "${String(format)}")`);
  }

  async close(): Promise<void> {
    if (this.ownsStorage) await this.storage.close();
  }
}

function countOut(trials: StudyTrial[]): QueueStats {
  return { queued: trials.filter((t) => t.status === 'queued').length, claimed: trials.filter((t) => t.status === 'running').length };
}
