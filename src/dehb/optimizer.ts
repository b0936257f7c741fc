/**
 * Owns the pure ask/tell/push transitions over DehbState (spec §2.4–2.8). ask() hands out manual
 * jobs first, then (kind 'dehb') a job of the oldest bracket that can hand out work, opening a new
 * bracket otherwise; tell() applies DE selection, bracket bookkeeping and the incumbent. Both
 * mutate the state in place and use no clock, no I/O and no randomness outside state.rng.
 */
import { DehbError } from '../errors.js';
import { acquireConfig } from './acquire.js';
import { asyncNextRung, completeJob, isDone, isPending, nextRung, openBracket, previousRungWaits, registerJob } from './brackets.js';
import { select } from './selection.js';
import { decode } from './space/decode.js';
import { encode } from './space/encode.js';
import { repairForbidden } from './space/forbidden.js';
import { sampleSpaceVector } from './space/sample.js';
import { validateConfig } from './space/validate-config.js';
import type { AskResult, BracketState, Config, DehbState, Job, TrialResult } from './types.js';

export { resolveOptimizerOptions, STRATEGIES } from './options.js';
export { createState } from './state.js';

export interface AskOptions {
  /** Never open a bracket whose id is >= maxBrackets (the brackets budget); wait instead. */
  maxBrackets?: number;
}

function finishJob(state: DehbState, job: Job): { job: Job } {
  state.pending[String(job.trialId)] = job;
  state.asked += 1;
  return { job };
}

function manualJob(state: DehbState): { job: Job } {
  const m = state.manualQueue.shift();
  if (m === undefined) throw new Error('manual queue is empty');
  return finishJob(state, {
    trialId: state.nextTrialId++,
    configId: state.nextConfigId++,
    bracketId: -1,
    rung: m.rung,
    fidelity: m.fidelity,
    parentId: -1,
    vector: m.vector,
    config: m.config,
    source: 'manual',
  });
}

function randomJob(state: DehbState): { job: Job } {
  const space = state.options.space;
  const vector = repairForbidden(space, state.rng, sampleSpaceVector(space, state.rng));
  const top = state.fidelities.length - 1;
  return finishJob(state, {
    trialId: state.nextTrialId++,
    configId: state.nextConfigId++,
    bracketId: -1,
    rung: top,
    fidelity: state.fidelities[top],
    parentId: -1,
    vector,
    config: decode(space, vector),
    source: 'random',
  });
}

/** Bracket-rung index bracket b hands out next under the run's schedule, or -1 if it cannot now. */
function rungToHandOut(state: DehbState, b: BracketState): number {
  if (state.options.schedule === 'async') return asyncNextRung(b, state.options.eta);
  return isPending(b) && !previousRungWaits(b) ? nextRung(b) : -1;
}

/** The bracket that receives the next job, or null when a new one must be opened. */
function runnableBracket(state: DehbState): BracketState | null {
  for (const b of state.brackets) {
    if (rungToHandOut(state, b) >= 0) return b;
  }
  return null;
}

/** Id of the bracket that would receive the next DEHB job (an open one, or the next new one). */
export function nextBracketId(state: DehbState): number {
  const b = runnableBracket(state);
  return b !== null ? b.id : state.iterationCounter + 1;
}

/** Hands out the next job, or says why there is none. Mutates `state`. */
export function ask(state: DehbState, opts: AskOptions = {}): AskResult {
  if (state.manualQueue.length > 0) return manualJob(state);
  const kind = state.options.kind;
  if (kind === 'manual') return { wait: true, reason: 'no-manual-jobs' };
  if (kind === 'random') return randomJob(state);
  let b = runnableBracket(state);
  if (b === null) {
    const id = state.iterationCounter + 1;
    if (opts.maxBrackets !== undefined && id >= opts.maxBrackets) return { wait: true, reason: 'bracket-limit' };
    const { options } = state;
    b = openBracket(id, state.fidelities.length, options.eta, options);
    state.iterationCounter = id;
    state.brackets.push(b);
  }
  const j = rungToHandOut(state, b);
  if (j < 0) throw new Error(`bracket ${b.id} has no rung to hand out (internal error)`);
  const a = acquireConfig(state, b, j);
  registerJob(b, j);
  const rung = b.firstRung + j;
  // a forbidden configuration is never handed out: the seeded RNG repairs it (a new config id)
  const vector = repairForbidden(state.options.space, state.rng, a.vector);
  const configId = vector === a.vector || a.source !== 'promotion' ? a.configId : state.nextConfigId++;
  return finishJob(state, {
    trialId: state.nextTrialId++,
    configId,
    bracketId: b.id,
    rung,
    fidelity: state.fidelities[rung],
    parentId: a.parentId,
    vector,
    config: decode(state.options.space, vector),
    source: a.source,
  });
}

/** Fitness used for selection: the result's fitness if ok and finite, else +Infinity. */
export function effectiveFitness(result: TrialResult): number {
  if (result.status !== 'ok') return Infinity;
  const f = result.fitness;
  return typeof f === 'number' && Number.isFinite(f) ? f : Infinity;
}

/** A JSON-exact copy of user info (so the state round-trips even if info holds Infinity, Dates, ...). */
function plainInfo(info: Record<string, unknown> | undefined): Record<string, unknown> {
  if (info === undefined || info === null) return {};
  try {
    const copy: unknown = JSON.parse(JSON.stringify(info));
    return typeof copy === 'object' && copy !== null && !Array.isArray(copy) ? (copy as Record<string, unknown>) : {};
  } catch {
    return { note: 'info was not JSON-serialisable and was dropped' };
  }
}

/** Applies a result. Throws E_STATE for an unknown or already told trial. Mutates `state`. */
export function tell(state: DehbState, trialId: number, result: TrialResult): { improved: boolean } {
  const key = String(trialId);
  const job = Object.prototype.hasOwnProperty.call(state.pending, key) ? state.pending[key] : undefined;
  if (job === undefined) {
    const told = Number.isInteger(trialId) && trialId >= 0 && trialId < state.nextTrialId;
    throw new DehbError(
      'E_STATE',
      told
        ? `trial ${trialId} was already told; each trial takes exactly one result`
        : `trial ${trialId} was never asked (next trial id is ${state.nextTrialId}); tell only jobs returned by ask()`,
      { details: { trialId, reason: told ? 'already-told' : 'unknown' } },
    );
  }
  delete state.pending[key];
  state.told += 1;
  const f = effectiveFitness(result);

  if (job.bracketId >= 0) {
    const bi = state.brackets.findIndex((b) => b.id === job.bracketId);
    if (bi >= 0) {
      const b = state.brackets[bi];
      completeJob(b, job.rung - b.firstRung);
      if (isDone(b)) state.brackets.splice(bi, 1);
    }
  }

  select(state, job, f);

  let improved = false;
  const counts = state.options.incumbent !== 'max-fidelity' || job.rung === state.fidelities.length - 1;
  if (counts && Number.isFinite(f) && (state.incumbent === null || f < state.incumbent.fitness)) {
    state.incumbent = {
      trialId: job.trialId,
      configId: job.configId,
      config: job.config,
      vector: job.vector,
      fitness: f === 0 ? 0 : f,
      fidelity: job.fidelity,
      info: plainInfo(result.info),
    };
    improved = true;
  }
  return { improved };
}

/** Ladder index of the largest fidelity <= `fidelity` (-1 when below the ladder). */
export function rungFor(state: DehbState, fidelity: number): number {
  let r = -1;
  for (let i = 0; i < state.fidelities.length; i++) {
    if (state.fidelities[i] <= fidelity * (1 + 1e-12)) r = i;
  }
  return r;
}

/**
 * Queues a hand-written configuration; it is handed out by the next ask() before anything else.
 * The config is validated (E_SPACE naming the parameter); fidelity defaults to maxFidelity.
 */
export function push(state: DehbState, config: Record<string, unknown>, fidelity?: number): void {
  const f = fidelity === undefined ? state.options.maxFidelity : fidelity;
  if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0) {
    throw new DehbError('E_CONFIG', `fidelity must be a finite number > 0 (got ${String(f)})`, {
      details: { option: 'fidelity' },
    });
  }
  const space = state.options.space;
  const valid: Config = validateConfig(space, config);
  const vector = encode(space, valid);
  state.manualQueue.push({ config: valid, vector, fidelity: f, rung: rungFor(state, f) });
}
