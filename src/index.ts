/**
 * Public API of the `dehb` package (named exports only): the DEHB class, search-space builders
 * and parsing, the pure optimizer, errors, and the types users meet.
 */
export { DEHB } from './api/dehb.js';
export type { RunResult, RunOptions } from './api/dehb.js';
export type { DEHBOptions, ObjectiveInput, ClusterClient } from './api/dehb-options.js';
export { DehbError, serializeError, isDehbError } from './errors.js';
export type { DehbErrorCode, SerializedError } from './errors.js';
export { ObjectiveError } from './objective.js';
export type { ObjectiveFn, ObjectiveResult } from './objective.js';
export { param, defineSpace, parseSpace, encode, decode, validateConfig, toConfigSpace } from './dehb/space/index.js';
export type { ConfigOf, ValueOf } from './dehb/space/index.js';
export * as optimizer from './dehb/index.js';
export type {
  SpaceSpec,
  ParamSpec,
  ConditionSpec,
  ForbiddenSpec,
  FidelityType,
  IncumbentRule,
  Config,
  Job,
  TrialResult,
  TrialStatus,
  Incumbent,
  OptimizerOptions,
  Strategy,
  DehbState,
} from './dehb/types.js';
export type { EvalTask, EvalOutcome, Executor, ObjectiveRef, ObjectiveContext } from './protocol/executor.js';
export type { TrialRecord, JournalEntry, JournalBackend } from './study/journal-types.js';
export { MemoryJournal } from './study/memory-journal.js';
export { FileJournal } from './study/file-journal.js';
export { replay } from './study/replay.js';
export { GpuAllocator, discoverGpus } from './gpu/index.js';
export type { Budget } from './driver/budget.js';
export { createStudy, loadStudy, listStudies, deleteStudy } from './api/study-open.js';
export { Study } from './api/study.js';
export type { CreateStudyOptions } from './api/study-open.js';
export type { OptimizeOptions, OptimizeResult, PushResult } from './api/study.js';
export type { AskedTrial, AskOptions } from './api/study-ask.js';
export type { ResultInput } from './api/result-input.js';
export type { StudyTrial, StudySummary } from './study/study-records.js';
export { openStorage } from './study/storage-open.js';
export { MemoryStore, MemoryStudyStorage } from './study/storage-memory.js';
export type { StudyStorage } from './study/storage.js';
export { createClusterClient } from './api/cluster-client.js';
export type { ClusterClientOptions } from './api/cluster-client.js';
