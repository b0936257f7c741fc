/**
 * Configuration of `dehb run`: a JSON config file layered under command-line flags (flags win),
 * validated with zod at the boundary; relative paths in the file resolve against its folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { DehbError } from '../errors.js';
import { checkRunName, wireSchemas } from '../protocol/schemas.js';
import { lazily } from '../protocol/zod.js';
import { parseSpace } from '../dehb/space/index.js';
import type { FidelityType, IncumbentRule, Schedule, SpaceSpec, Strategy } from '../dehb/types.js';
import type { Budget } from '../driver/budget.js';
import { splitCommand } from './argv.js';
import { intFlag, numFlag } from './flags.js';
import { suggestKey } from '../unknown-keys.js';
import { budgetFromFlags } from './budget-flags.js';
import { parseEvalFlags, type EvalFlags, type EvalSettings } from './eval-flags.js';

/** The config file's schema, built (and zod loaded) when a config file is read. */
const configSchema = lazily((z) =>
  z
    .object({
      space: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
      objective: z.string().optional(),
      exportName: z.string().optional(),
      command: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
      minFidelity: z.number().optional(),
      maxFidelity: z.number().optional(),
      eta: z.number().optional(),
      strategy: z.string().optional(),
      mutationFactor: z.number().optional(),
      crossoverProb: z.number().optional(),
      boundaryFix: z.enum(['random', 'clip']).optional(),
      schedule: z.string().optional(),
      fidelityType: z.enum(['float', 'int']).optional(),
      incumbent: z.enum(['any-fidelity', 'max-fidelity']).optional(),
      minClip: z.number().optional(),
      maxClip: z.number().optional(),
      seed: z.number().int().optional(),
      fevals: z.number().int().positive().optional(),
      brackets: z.number().int().positive().optional(),
      runtime: z.union([z.string(), z.number()]).optional(),
      nWorkers: z.number().int().positive().optional(),
      singleNodeWithGpus: z.boolean().optional(),
      gpusPerTrial: z.number().int().positive().optional(),
      trialTimeout: z.union([z.string(), z.number()]).optional(),
      output: z.string().optional(),
      runId: wireSchemas().evalTaskSchema.shape.runId.optional(),
    })
    .strict(),
);

export type RunFileConfig = z.infer<ReturnType<typeof configSchema>>;

/** Flags as commander gives them (strings unless parsed). */
export interface RunFlags extends EvalFlags {
  config?: string;
  space?: string;
  objective?: string;
  exportName?: string;
  command?: string;
  minFidelity?: string;
  maxFidelity?: string;
  eta?: string;
  strategy?: string;
  mutationFactor?: string;
  crossoverProb?: string;
  boundaryFix?: string;
  schedule?: string;
  fidelityType?: string;
  incumbent?: string;
  seed?: string;
  fevals?: string;
  brackets?: string;
  runtime?: string;
  output?: string;
  runId?: string;
  resume?: boolean;
}

export interface ResolvedRunConfig extends EvalSettings {
  space?: SpaceSpec;
  objective?: { kind: 'module'; path: string; exportName?: string } | { kind: 'command'; argv: string[]; cwd: string };
  optimizer: {
    minFidelity?: number;
    maxFidelity?: number;
    eta?: number;
    strategy?: Strategy;
    mutationFactor?: number;
    crossoverProb?: number;
    boundaryFix?: 'random' | 'clip';
    schedule?: Schedule;
    fidelityType?: FidelityType;
    incumbent?: IncumbentRule;
    minClip?: number;
    maxClip?: number;
    seed?: number;
  };
  budget: Budget;
  output?: string;
  runId?: string;
}

export async function loadRunConfig(flags: RunFlags, cwd = process.cwd()): Promise<ResolvedRunConfig> {
  let file: RunFileConfig = {};
  let base = cwd;
  if (flags.config !== undefined) {
    const path = resolve(cwd, flags.config);
    base = dirname(path);
    const text = await readText(path, '--config');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new DehbError('E_CONFIG', `${path}: not valid JSON (${(err as Error).message})`);
    }
    const parsed = configSchema().safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || '(top level)';
      if (issue?.code === 'unrecognized_keys') {
        // a misspelt key would otherwise be a silent default: name it with the closest known key
        const key = issue.keys[0] as string;
        const hint = suggestKey(key, Object.keys(configSchema().shape));
        throw new DehbError('E_CONFIG', `${path}: unknown key "${key}"${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`);
      }
      throw new DehbError('E_CONFIG', `${path}: ${where}: ${issue?.message ?? 'invalid'}`);
    }
    file = parsed.data;
  }
  const out: ResolvedRunConfig = {
    optimizer: {},
    budget: {},
    ...parseEvalFlags(flags, file),
  };

  // space: a flag path, or the file's path / inline object
  if (flags.space !== undefined) out.space = await readSpace(resolve(cwd, flags.space));
  else if (typeof file.space === 'string') out.space = await readSpace(resolve(base, file.space));
  else if (file.space !== undefined) out.space = parseSpace(file.space);

  // objective: --objective MODULE[#export] or --command; a flag of either kind replaces the file's
  if (flags.objective !== undefined || flags.command !== undefined) {
    if (flags.objective !== undefined && flags.command !== undefined) {
      throw new DehbError('E_USAGE', 'give either --objective MODULE or --command "...", not both');
    }
    out.objective =
      flags.objective !== undefined
        ? moduleRef(resolveModule(cwd, flags.objective), flags.exportName)
        : { kind: 'command', argv: splitCommand(flags.command as string), cwd };
  } else if (file.objective !== undefined) {
    out.objective = moduleRef(resolveModule(base, file.objective), flags.exportName ?? file.exportName);
  } else if (file.command !== undefined) {
    // a command from the file runs in the file's folder, so `python train.py` finds train.py
    out.objective = { kind: 'command', argv: Array.isArray(file.command) ? file.command : splitCommand(file.command, 'command'), cwd: base };
  }

  const o = out.optimizer;
  setIf(o, 'minFidelity', num(flags.minFidelity, '--min-fidelity') ?? file.minFidelity);
  setIf(o, 'maxFidelity', num(flags.maxFidelity, '--max-fidelity') ?? file.maxFidelity);
  setIf(o, 'eta', num(flags.eta, '--eta') ?? file.eta);
  setIf(o, 'strategy', (flags.strategy ?? file.strategy) as Strategy | undefined);
  setIf(o, 'mutationFactor', num(flags.mutationFactor, '--mutation-factor') ?? file.mutationFactor);
  setIf(o, 'crossoverProb', num(flags.crossoverProb, '--crossover-prob') ?? file.crossoverProb);
  setIf(o, 'boundaryFix', (flags.boundaryFix ?? file.boundaryFix) as 'random' | 'clip' | undefined);
  setIf(o, 'schedule', (flags.schedule ?? file.schedule) as Schedule | undefined);
  setIf(o, 'fidelityType', choice(flags.fidelityType, '--fidelity-type', ['float', 'int']) ?? file.fidelityType);
  setIf(o, 'incumbent', choice(flags.incumbent, '--incumbent', ['any-fidelity', 'max-fidelity']) ?? file.incumbent);
  setIf(o, 'minClip', file.minClip);
  setIf(o, 'maxClip', file.maxClip);
  setIf(o, 'seed', num(flags.seed, '--seed', true) ?? file.seed);

  // budget: any budget flag replaces the file's budget
  const flagBudget = flags.fevals !== undefined || flags.brackets !== undefined || flags.runtime !== undefined;
  out.budget = budgetFromFlags(flagBudget ? flags : file);

  const output = flags.output ?? (file.output === undefined ? undefined : resolve(base, file.output));
  if (output !== undefined) out.output = resolve(cwd, output);
  const runId = flags.runId ?? file.runId;
  if (runId !== undefined) out.runId = checkRunName(runId, '--run-id', 'E_USAGE');
  return out;
}

function choice<T extends string>(v: string | undefined, flag: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new DehbError('E_USAGE', `${flag} must be ${allowed.join(' or ')} (got "${v}")`);
  return v as T;
}

function moduleRef(spec: { path: string; exportName?: string }, exportName?: string): ResolvedRunConfig['objective'] {
  const name = exportName ?? spec.exportName;
  return name === undefined ? { kind: 'module', path: spec.path } : { kind: 'module', path: spec.path, exportName: name };
}

/** `path/to/module.mjs#exportName` */
function resolveModule(base: string, spec: string): { path: string; exportName?: string } {
  const hash = spec.lastIndexOf('#');
  if (hash > 0) return { path: resolve(base, spec.slice(0, hash)), exportName: spec.slice(hash + 1) };
  return { path: resolve(base, spec) };
}

/** Reads and validates a space file (our JSON or ConfigSpace JSON); errors name the file. */
export async function readSpace(path: string, flag = '--space'): Promise<SpaceSpec> {
  const text = await readText(path, flag);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DehbError('E_SPACE', `${path}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return parseSpace(json);
  } catch (err) {
    if (err instanceof DehbError) throw new DehbError(err.code, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DehbError('E_CONFIG', code === 'ENOENT' ? `${flag}: file not found: ${path}` : `${flag}: cannot read ${path} (${code ?? String(err)})`);
  }
}

function num(value: string | undefined, flag: string, integer = false): number | undefined {
  return integer ? intFlag(value, flag, Number.MIN_SAFE_INTEGER) : numFlag(value, flag);
}

function setIf<T extends object, K extends keyof T>(obj: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) obj[key] = value;
}
