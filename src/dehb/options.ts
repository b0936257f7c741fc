/**
 * Owns validation and defaulting of optimizer options (OptimizerOptions -> ResolvedOptimizerOptions).
 * Every error is a DehbError('E_CONFIG') naming the option and the fix; space errors are E_SPACE.
 */
import { DehbError } from '../errors.js';
import type { KeyList } from './key-list.js';
import { parseSpace } from './space/parse-space.js';
import { fidelityLadder } from './fidelity.js';
import {
  CROSSOVERS,
  type FidelityType,
  type IncumbentRule,
  MUTATIONS,
  type OptimizerKind,
  type OptimizerOptions,
  type ResolvedOptimizerOptions,
  type Schedule,
  type Strategy,
} from './types.js';

/** All 14 valid `<mutation>_<crossover>` names. */
export const STRATEGIES: readonly Strategy[] = MUTATIONS.flatMap((m) => CROSSOVERS.map((c) => `${m}_${c}` as Strategy));
const KINDS: readonly OptimizerKind[] = ['dehb', 'random', 'manual'];
const SCHEDULES: readonly Schedule[] = ['sync', 'async'];

/** Every key of OptimizerOptions (the unknown-key check of option objects uses it). */
export const OPTIMIZER_OPTION_KEYS: KeyList<OptimizerOptions> = {
  space: true,
  minFidelity: true,
  maxFidelity: true,
  eta: true,
  mutationFactor: true,
  crossoverProb: true,
  strategy: true,
  boundaryFix: true,
  minClip: true,
  maxClip: true,
  seed: true,
  kind: true,
  schedule: true,
  fidelityType: true,
  incumbent: true,
};
const FIDELITY_TYPES: readonly FidelityType[] = ['float', 'int'];
const INCUMBENT_RULES: readonly IncumbentRule[] = ['any-fidelity', 'max-fidelity'];

function bad(option: string, message: string): never {
  throw new DehbError('E_CONFIG', `${option} ${message}`, { details: { option } });
}

function show(x: unknown): string {
  if (typeof x === 'number') return String(x);
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s;
}

function finiteNumber(option: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(option, `must be a finite number (got ${show(v)})`);
  return v;
}

function clip(option: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(option, `must be a positive integer (got ${show(v)})`);
  return v;
}

/** A random 32-bit seed (only used when the user gives none; it is stored in the state). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}

/** Validates options and fills defaults. Idempotent on resolved options. */
export function resolveOptimizerOptions(o: OptimizerOptions | ResolvedOptimizerOptions): ResolvedOptimizerOptions {
  if (typeof o !== 'object' || o === null) bad('options', `must be an object (got ${show(o)})`);
  if (o.space === undefined || o.space === null) bad('space', 'is required: give a search space (parameter name -> spec)');
  const space = parseSpace(o.space);
  const kind = o.kind === undefined ? 'dehb' : o.kind;
  if (!KINDS.includes(kind)) bad('kind', `must be one of ${KINDS.join(', ')} (got ${show(kind)})`);
  // random and manual studies evaluate at one fidelity each: no range needed (default 1)
  const single = kind !== 'dehb';
  const given = { min: o.minFidelity ?? undefined, max: o.maxFidelity ?? undefined };
  if (single) {
    given.max ??= given.min ?? 1;
    given.min ??= given.max;
  }
  if (given.min === undefined) bad('minFidelity', 'is required (a number > 0)');
  if (given.max === undefined) bad('maxFidelity', 'is required (a number > minFidelity)');
  const minFidelity = finiteNumber('minFidelity', given.min);
  const maxFidelity = finiteNumber('maxFidelity', given.max);
  if (minFidelity <= 0) bad('minFidelity', `must be > 0 (got ${minFidelity})`);
  if (maxFidelity === minFidelity && !single) {
    bad('maxFidelity', `must be > minFidelity (both are ${minFidelity}); DEHB needs a fidelity range — to optimise at a single fidelity use plain DE or kind 'random'`);
  }
  if (maxFidelity < minFidelity) bad('maxFidelity', `must be > minFidelity (got minFidelity=${minFidelity}, maxFidelity=${maxFidelity})`);
  const eta = o.eta === undefined ? 3 : finiteNumber('eta', o.eta);
  if (eta <= 1) bad('eta', `must be > 1 (got ${eta}); the usual value is 3`);
  const mutationFactor = o.mutationFactor === undefined ? 0.5 : finiteNumber('mutationFactor', o.mutationFactor);
  if (mutationFactor <= 0 || mutationFactor > 2) bad('mutationFactor', `must be in (0, 2] (got ${mutationFactor}); the default is 0.5`);
  const crossoverProb = o.crossoverProb === undefined ? 0.5 : finiteNumber('crossoverProb', o.crossoverProb);
  if (crossoverProb < 0 || crossoverProb > 1) bad('crossoverProb', `must be in [0, 1] (got ${crossoverProb}); the default is 0.5`);
  const strategy = o.strategy === undefined ? 'rand1_bin' : o.strategy;
  if (!STRATEGIES.includes(strategy)) {
    bad('strategy', `${show(strategy)} is not a valid strategy; use one of ${STRATEGIES.join(', ')}`);
  }
  const boundaryFix = o.boundaryFix === undefined ? 'random' : o.boundaryFix;
  if (boundaryFix !== 'random' && boundaryFix !== 'clip') {
    bad('boundaryFix', `must be 'random' or 'clip' (got ${show(boundaryFix)})`);
  }
  const minClip = clip('minClip', o.minClip);
  const maxClip = clip('maxClip', o.maxClip);
  if (minClip !== null && maxClip !== null && maxClip < minClip) {
    bad('maxClip', `must be >= minClip (got minClip=${minClip}, maxClip=${maxClip})`);
  }
  let seed: number;
  if (o.seed === undefined || o.seed === null) seed = randomSeed();
  else {
    if (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed)) bad('seed', `must be an integer (got ${show(o.seed)})`);
    seed = o.seed;
  }
  const schedule = o.schedule === undefined ? 'sync' : o.schedule;
  if (!SCHEDULES.includes(schedule)) {
    bad('schedule', `must be 'sync' (the reference's, default) or 'async' (ASHA-style promotions) (got ${show(schedule)})`);
  }
  const fidelityType = o.fidelityType === undefined ? 'float' : o.fidelityType;
  if (!FIDELITY_TYPES.includes(fidelityType)) bad('fidelityType', `must be 'float' or 'int' (got ${show(fidelityType)})`);
  fidelityLadder(minFidelity, maxFidelity, eta, fidelityType);
  const incumbent = o.incumbent === undefined ? 'any-fidelity' : o.incumbent;
  if (!INCUMBENT_RULES.includes(incumbent)) bad('incumbent', `must be 'any-fidelity' or 'max-fidelity' (got ${show(incumbent)})`);
  return {
    space,
    minFidelity,
    maxFidelity,
    eta,
    mutationFactor,
    crossoverProb,
    strategy,
    boundaryFix,
    minClip,
    maxClip,
    seed,
    kind,
    schedule,
    fidelityType,
    incumbent,
  };
}
