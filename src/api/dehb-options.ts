/**
 * User options of the DEHB class (optimizer options, how to evaluate: evaluation.ts, and where the
 * run directory is), and the objective input both front doors take, resolved into a reference.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DehbError } from '../errors.js';
import type { OptimizerOptions, Job, SpaceSpec } from '../dehb/types.js';
import { checkPlaceholders } from '../cluster/command-placeholders.js';
import type { Executor, ObjectiveRef } from '../protocol/executor.js';
import type { ObjectiveFn } from '../objective.js';
import type { TrialRecord } from '../study/journal-types.js';
import { OPTIMIZER_OPTION_KEYS } from '../dehb/options.js';
import { rejectUnknownKeys, suggestKey, type KeyList } from '../unknown-keys.js';
import { EVALUATION_OPTION_KEYS, type EvaluationOptions } from './evaluation.js';

/** A cluster client (see `createClusterClient`): hands out an executor for a run. */
export interface ClusterClient {
  /**
   * The fair-share weight the client was given, if any: a new run records it in its journal, and
   * a resumed run given none passes back the recorded one as `opts.weight`.
   */
  readonly weight?: number;
  executor(
    runId: string,
    capacity?: number,
    owner?: { instance: string; resume: boolean; output?: string },
    opts?: { weight?: number },
  ): Executor | Promise<Executor>;
  close?(): Promise<void>;
}

export type ObjectiveInput =
  | ObjectiveFn
  | string
  | URL
  | { module: string | URL; exportName?: string }
  | { command: string[]; cwd?: string; env?: Record<string, string> };

export interface DEHBOptions extends OptimizerOptions, EvaluationOptions {
  /**
   * What to minimise: a function (runs in this thread), a module path or URL exporting it
   * (`objective` by default; runs in worker threads when nWorkers > 1), or a command argv (one
   * child process per evaluation, any language).
   */
  objective?: ObjectiveInput;
  /** Directory for the journal, history and incumbent (created). Default: none (in memory). */
  outputDir?: string;
  /** Continue the run whose journal is in outputDir. Default false. */
  resume?: boolean;
  /** Name of the run (cluster job ids are `<runId>-<trialId>`). Default: random. */
  runId?: string;
  /** Evaluate on a cluster instead of locally. */
  client?: ClusterClient;
  /** Called after each recorded result. */
  onTrialEnd?: (record: TrialRecord, info: { improved: boolean }) => void;
  onTrialStart?: (job: Job) => void;
}

/** Every key of DEHBOptions: `new DEHB({ nworkers: 4 })` is an error, not a silent default. */
export const DEHB_OPTION_KEYS: KeyList<DEHBOptions> = {
  ...OPTIMIZER_OPTION_KEYS,
  ...EVALUATION_OPTION_KEYS,
  objective: true,
  outputDir: true,
  resume: true,
  runId: true,
  client: true,
  onTrialEnd: true,
  onTrialStart: true,
};

/** An unknown `{name}` in a command objective is refused before any trial runs (new DEHB, createStudy). */
export function checkCommandObjective(ref: ObjectiveRef | undefined, space: SpaceSpec, key = 'objective.command'): void {
  if (ref?.kind === 'command') checkPlaceholders(ref.argv, space, key);
}

export function toObjectiveRef(input: ObjectiveInput | undefined): { ref: ObjectiveRef; fn?: ObjectiveFn } | null {
  if (input === undefined) return null;
  if (typeof input === 'function') return { ref: { kind: 'function', name: input.name || 'objective' }, fn: input };
  if (typeof input === 'string' || input instanceof URL) return { ref: { kind: 'module', path: modulePath(input) } };
  if ('command' in input) {
    rejectUnknownKeys(input, ['command', 'cwd', 'env'], 'objective');
    if (!Array.isArray(input.command) || input.command.length === 0 || !input.command.every((a) => typeof a === 'string')) {
      throw new DehbError('E_CONFIG', 'objective.command must be a non-empty array of strings (argv)');
    }
    return { ref: { kind: 'command', argv: input.command, ...(input.cwd ? { cwd: input.cwd } : {}), ...(input.env ? { env: input.env } : {}) } };
  }
  if ('module' in input) {
    rejectUnknownKeys(input, ['module', 'exportName'], 'objective');
    return {
      ref: { kind: 'module', path: modulePath(input.module), ...(input.exportName ? { exportName: input.exportName } : {}) },
    };
  }
  const hint = Object.keys(input).map((k) => suggestKey(k, ['command', 'module'])).find((k) => k !== undefined);
  throw new DehbError(
    'E_CONFIG',
    `objective must be a function, a module path, { module, exportName } or { command: [...] }${hint === undefined ? '' : ` (did you mean '${hint}'?)`}`,
  );
}

function modulePath(p: string | URL): string {
  if (p instanceof URL) return fileURLToPath(p);
  if (p.startsWith('file:')) return fileURLToPath(p);
  return isAbsolute(p) ? p : resolve(p);
}
