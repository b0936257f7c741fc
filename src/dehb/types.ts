/**
 * The optimizer's public data shapes: search-space JSON, options, jobs, results and the
 * JSON-serialisable DehbState. Everything here is plain data (no classes, no functions) so that
 * `JSON.parse(JSON.stringify(state))` round-trips exactly.
 */

// ---------------------------------------------------------------- search space (user JSON)

export type SpaceValue = string | number | boolean;

/**
 * When a conditional parameter is active. Leaves name a `parent` and one test: `in` (one of the
 * values), `eq`, `neq`, `lt`, `gt` (numbers, or values of an ordinal parent, compared by their
 * position); `all` / `any` combine conditions (ConfigSpace's AND / OR conjunctions). A leaf whose
 * parent is inactive is false.
 */
export type ConditionSpec =
  | { parent: string; in: SpaceValue[] }
  | { parent: string; eq: SpaceValue }
  | { parent: string; neq: SpaceValue }
  | { parent: string; lt: SpaceValue }
  | { parent: string; gt: SpaceValue }
  | { all: ConditionSpec[] }
  | { any: ConditionSpec[] };

/**
 * A forbidden clause: configurations for which it holds are never evaluated. Leaves name a
 * `param` and one test: `eq`, `in`, `lt`, `le`, `gt`, `ge`; `all` / `any` combine clauses
 * (ConfigSpace's ForbiddenAndConjunction / ForbiddenOrConjunction). A leaf on an inactive
 * parameter is false.
 */
export type ForbiddenSpec =
  | { param: string; eq: SpaceValue }
  | { param: string; in: SpaceValue[] }
  | { param: string; lt: SpaceValue }
  | { param: string; le: SpaceValue }
  | { param: string; gt: SpaceValue }
  | { param: string; ge: SpaceValue }
  | { all: ForbiddenSpec[] }
  | { any: ForbiddenSpec[] };

interface ParamBase {
  condition?: ConditionSpec;
  /**
   * Forbidden clauses. In a parsed space each clause is kept on the last parameter (in space
   * order) that it mentions; input may also give them at the top level (`{ parameters, forbidden }`).
   */
  forbidden?: ForbiddenSpec[];
  /** Value used to impute the parameter while it is inactive (encoding only). */
  default?: string | number | boolean;
}

export interface FloatParamSpec extends ParamBase {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
  /** A normal prior (ConfigSpace normal_float): initial and random samples follow it, truncated to [low, high]. */
  prior?: NormalPrior;
}
export interface IntParamSpec extends ParamBase {
  type: 'int';
  low: number;
  high: number;
  log?: boolean;
  /** A normal prior (ConfigSpace normal_int), truncated to [low, high]. */
  prior?: NormalPrior;
}
/** Mean and standard deviation of a normal prior (on the log scale when the parameter is log). */
export interface NormalPrior {
  mu: number;
  sigma: number;
}
export interface CategoricalParamSpec extends ParamBase {
  type: 'categorical';
  choices: Array<string | number | boolean>;
  /** Relative sampling weights of the choices (initial and random samples follow them). */
  weights?: number[];
}
export interface OrdinalParamSpec extends ParamBase {
  type: 'ordinal';
  values: Array<string | number | boolean>;
}
export interface ConstantParamSpec extends ParamBase {
  type: 'constant';
  value: string | number | boolean;
}

export type ParamSpec =
  | FloatParamSpec
  | IntParamSpec
  | CategoricalParamSpec
  | OrdinalParamSpec
  | ConstantParamSpec;

/** A search space: parameter name -> spec. Key order is the vector order. */
export type SpaceSpec = Record<string, ParamSpec>;

/** A configuration as the objective receives it (inactive conditional parameters absent). */
export type Config = Record<string, string | number | boolean>;

// ---------------------------------------------------------------- options

export const MUTATIONS = [
  'rand1',
  'rand2',
  'rand2dir',
  'best1',
  'best2',
  'currenttobest1',
  'randtobest1',
] as const;
export type Mutation = (typeof MUTATIONS)[number];
export const CROSSOVERS = ['bin', 'exp'] as const;
export type Crossover = (typeof CROSSOVERS)[number];
export type Strategy = `${Mutation}_${Crossover}`;

/**
 * How successive halving inside a bracket hands out the next rung: `sync` (the reference's: rung
 * j+1 starts once every result of rung j is in) or `async` (ASHA-style: a job of rung j+1 is handed
 * out as soon as eta results of rung j per promotion are in, the promoted configuration being the
 * best received so far).
 */
export type Schedule = 'sync' | 'async';

/** What the optimizer proposes: DEHB (default), random search at max fidelity, or only pushed jobs. */
export type OptimizerKind = 'dehb' | 'random' | 'manual';

/** User input for the optimizer (TSDoc gives units and defaults). */
export interface OptimizerOptions {
  space: SpaceSpec;
  /** Lowest fidelity (user units, > 0). Only decides the number of rungs. Required for kind `dehb`. */
  minFidelity?: number;
  /**
   * Highest fidelity (user units, > minFidelity). Required for kind `dehb`; kinds `random` and
   * `manual` need no range (both default to the one given, else 1).
   */
  maxFidelity?: number;
  /** Hyperband reduction factor, > 1. Default 3. */
  eta?: number;
  /** DE scale factor F in (0, 2]. Default 0.5. */
  mutationFactor?: number;
  /** DE crossover rate CR in [0, 1]. Default 0.5. */
  crossoverProb?: number;
  /** `<mutation>_<crossover>`. Default `rand1_bin`. */
  strategy?: Strategy;
  /** Repair of out-of-[0,1] coordinates. Default `random`. */
  boundaryFix?: 'random' | 'clip';
  /** Lower clip on rung sizes (reference `min_clip`). */
  minClip?: number;
  /** Upper clip on rung sizes (only used together with minClip, as in the reference). */
  maxClip?: number;
  /** Integer seed. Default: a random 32-bit integer drawn once and stored in the state. */
  seed?: number;
  /** Default `dehb`. */
  kind?: OptimizerKind;
  /**
   * Successive-halving schedule inside each bracket. Default `sync`: the reference DEHB's (rung
   * j+1 of a bracket starts only when all results of rung j are in; while it waits, new brackets
   * open). `async` (opt-in, ASHA-style): the k-th job of rung j+1 is handed out as soon as k·eta
   * results of rung j are in, taking the best of the results received so far (so a promoted
   * configuration is in the top 1/eta of its rung at that moment); promotions are preferred over
   * new configurations. Brackets, rung sizes, DE populations and selection are unchanged; what
   * changes is when upper-rung jobs start and, during the first Hyperband iteration, which
   * configurations are promoted (the best so far instead of the best of the complete rung).
   * With one job in flight both schedules behave the same except for that promotion order.
   */
  schedule?: Schedule;
  /** `int`: fidelities handed to the objective are the ladder rounded to integers (epochs). Default `float`. */
  fidelityType?: FidelityType;
  /** Which results may become the incumbent. Default `any-fidelity` (the reference's). */
  incumbent?: IncumbentRule;
}

export type FidelityType = 'float' | 'int';
/** `any-fidelity`: the best result at any fidelity (reference); `max-fidelity`: only results at the highest fidelity. */
export type IncumbentRule = 'any-fidelity' | 'max-fidelity';

/** Options after defaults and validation. */
export interface ResolvedOptimizerOptions {
  space: SpaceSpec;
  minFidelity: number;
  maxFidelity: number;
  eta: number;
  mutationFactor: number;
  crossoverProb: number;
  strategy: Strategy;
  boundaryFix: 'random' | 'clip';
  minClip: number | null;
  maxClip: number | null;
  seed: number;
  kind: OptimizerKind;
  schedule: Schedule;
  fidelityType: FidelityType;
  incumbent: IncumbentRule;
}

// ---------------------------------------------------------------- jobs and results

export type JobSource = 'de' | 'promotion' | 'random' | 'manual';

/** One evaluation handed out by ask(). Plain JSON. */
export interface Job {
  /** Unique, increasing from 0 in ask order. */
  trialId: number;
  /** Id in the config repository (promoted configs keep their id). */
  configId: number;
  /** Hyperband bracket id (-1 for manual or random jobs outside brackets). */
  bracketId: number;
  /** Index into the fidelity ladder. */
  rung: number;
  /** Fidelity in user units (a ladder value, a float). */
  fidelity: number;
  /** Slot in the rung's sub-population that selection compares against (-1: none). */
  parentId: number;
  /** Unit-cube encoding of the configuration. */
  vector: number[];
  /** Decoded configuration. */
  config: Config;
  source: JobSource;
}

export type TrialStatus = 'ok' | 'failed' | 'timed-out' | 'cancelled';

/** What tell() receives. Non-ok statuses count as fitness +Infinity for selection. */
export interface TrialResult {
  status: TrialStatus;
  /** Minimised. Required (finite) when status is ok. */
  fitness?: number;
  cost?: number;
  info?: Record<string, unknown>;
  /** Why a non-ok trial ended (timed-out and cancelled trials get one too, for display). */
  error?: { name?: string; message: string; code?: string; stack?: string; details?: Record<string, unknown> };
  /** failed: whether the executor judged the failure worth a re-run. */
  retryable?: boolean;
  /** timed-out: the limit it hit. */
  timeoutMs?: number;
  /** cancelled: who or what cancelled it. */
  reason?: string;
}

export type AskResult = { job: Job } | { wait: true; reason: 'bracket-limit' | 'no-manual-jobs' };

/** The incumbent as runs and studies report it (RunResult.incumbent, a study summary's best). */
export type IncumbentSummary = Pick<Incumbent, 'trialId' | 'config' | 'fitness' | 'fidelity'>;

export interface Incumbent {
  trialId: number;
  configId: number;
  config: Config;
  vector: number[];
  fitness: number;
  fidelity: number;
  info: Record<string, unknown>;
}

// ---------------------------------------------------------------- state

export interface RngState {
  /** xoshiro128** state words (unsigned 32-bit) */
  s: [number, number, number, number];
  /** A cached second normal deviate, or null. */
  spare?: number | null;
}

export interface SubPopulation {
  fidelity: number;
  vectors: number[][];
  /** Fitness per slot; null stands for +Infinity (never evaluated, or failed) so JSON round-trips. */
  fitness: Array<number | null>;
  configIds: number[];
  /** Next parent slot (round-robin). */
  parentCounter: number;
  /** Promotion candidates: configId + vector, consumed first to last. */
  promotionPool: Array<{ configId: number; vector: number[] }>;
}

export interface BracketState {
  id: number;
  /** Ladder index of the bracket's first rung. */
  firstRung: number;
  /** Per bracket rung (0 = first), sizes, pending and done counts. */
  sizes: number[];
  pending: number[];
  done: number[];
  currentRung: number;
}

export interface DehbState {
  version: 1;
  options: ResolvedOptimizerOptions;
  /** Fidelity ladder (ascending). */
  fidelities: number[];
  /** Sub-population size per rung. */
  popSizes: number[];
  rng: RngState;
  subpops: SubPopulation[];
  /** Active (not yet finished) brackets, oldest first. */
  brackets: BracketState[];
  /** Id of the last opened bracket (starts at -1, as the reference's iteration_counter). */
  iterationCounter: number;
  /** Next config id to announce. */
  nextConfigId: number;
  /** Next trial id to hand out. */
  nextTrialId: number;
  /** Asked but not yet told, keyed by trial id (string keys for JSON). */
  pending: Record<string, Job>;
  /** Jobs pushed by hand and not yet asked, FIFO. */
  manualQueue: Array<{ config: Config; vector: number[]; fidelity: number; rung: number }>;
  incumbent: Incumbent | null;
  /** Counters. */
  told: number;
  asked: number;
}
