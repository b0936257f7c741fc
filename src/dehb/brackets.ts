/**
 * Owns the Hyperband side of DEHB: the fidelity ladder, the bracket plans (rung sizes, clipping),
 * the per-fidelity sub-population sizes, and the bookkeeping of one successive-halving bracket
 * (pending / waiting / done per rung, current rung, next rung, previous-rung-waits).
 */
import type { BracketState } from './types.js';

const EPS = 1e-9;

/** Number of rungs: floor(log_eta(max/min) + 1e-9) + 1 (exact powers never lose a rung). */
export function ladderSize(minFidelity: number, maxFidelity: number, eta: number): number {
  return Math.floor(Math.log(maxFidelity / minFidelity) / Math.log(eta) + EPS) + 1;
}

/** Ascending fidelities b_i = max / eta^(L-1-i); the top one is exactly maxFidelity. */
export function computeLadder(minFidelity: number, maxFidelity: number, eta: number): number[] {
  const L = ladderSize(minFidelity, maxFidelity, eta);
  const out: number[] = [];
  for (let i = 0; i < L; i++) out.push(maxFidelity / Math.pow(eta, L - 1 - i));
  return out;
}

export interface Clips {
  minClip: number | null;
  maxClip: number | null;
}

export interface BracketPlan {
  /** Hyperband s: the bracket has s+1 rungs. */
  s: number;
  /** Ladder index of the first rung (= L-1-s). */
  firstRung: number;
  /** Number of configurations per rung, first rung first. */
  sizes: number[];
}

/** Rung sizes of bracket k (spec §2.2, HpBandSter's floor formula, then the clip rules). */
export function bracketPlan(k: number, L: number, eta: number, clips: Clips): BracketPlan {
  const s = L - 1 - (k % L);
  const n0 = Math.floor(Math.floor(L / (s + 1)) * Math.pow(eta, s) + EPS);
  let sizes: number[] = [];
  for (let j = 0; j <= s; j++) sizes.push(Math.max(Math.floor(n0 / Math.pow(eta, j) + EPS), 1));
  if (clips.minClip !== null) {
    const lo = clips.minClip;
    const hi = clips.maxClip !== null ? clips.maxClip : Math.max(...sizes);
    sizes = sizes.map((n) => Math.min(Math.max(n, lo), hi));
  }
  return { s, firstRung: L - 1 - s, sizes };
}

/** Sub-population size per ladder index: the largest rung that fidelity gets over L brackets. */
export function subpopSizes(L: number, eta: number, clips: Clips): number[] {
  const sizes = new Array<number>(L).fill(0);
  for (let k = 0; k < L; k++) {
    const plan = bracketPlan(k, L, eta, clips);
    plan.sizes.forEach((n, j) => {
      const r = plan.firstRung + j;
      if (n > sizes[r]) sizes[r] = n;
    });
  }
  return sizes;
}

export function openBracket(id: number, L: number, eta: number, clips: Clips): BracketState {
  const plan = bracketPlan(id, L, eta, clips);
  return {
    id,
    firstRung: plan.firstRung,
    sizes: plan.sizes,
    pending: plan.sizes.slice(),
    done: plan.sizes.map(() => 0),
    currentRung: 0,
  };
}

export function waitingIn(b: BracketState, j: number): number {
  return b.sizes[j] - b.pending[j] - b.done[j];
}

export function isPending(b: BracketState): boolean {
  for (let j = 0; j < b.pending.length; j++) if (b.pending[j] > 0) return true;
  return false;
}

export function isWaiting(b: BracketState): boolean {
  for (let j = 0; j < b.sizes.length; j++) if (waitingIn(b, j) > 0) return true;
  return false;
}

export function isDone(b: BracketState): boolean {
  return !isPending(b) && !isWaiting(b);
}

/** Bracket-rung index of the next job: the current rung if pending, else the next one, else -1. */
export function nextRung(b: BracketState): number {
  if (b.pending[b.currentRung] > 0) return b.currentRung;
  const next = (b.currentRung + 1) % b.sizes.length;
  return b.pending[next] > 0 ? next : -1;
}

/** True if a rung below the current one has handed out all its jobs but still awaits results. */
export function previousRungWaits(b: BracketState): boolean {
  for (let j = 0; j < b.currentRung; j++) {
    if (b.pending[j] === 0 && waitingIn(b, j) > 0) return true;
  }
  return false;
}

/** Records that a job of bracket-rung j was handed out. */
export function registerJob(b: BracketState, j: number): void {
  if (!(b.pending[j] > 0)) throw new Error(`bracket ${b.id} rung ${j} has no pending job`);
  b.pending[j] -= 1;
  if (b.pending[b.currentRung] === 0) b.currentRung = (b.currentRung + 1) % b.sizes.length;
}

/** Records a result for bracket-rung j. */
export function completeJob(b: BracketState, j: number): void {
  if (!(b.done[j] < b.sizes[j])) throw new Error(`bracket ${b.id} rung ${j} already complete`);
  b.done[j] += 1;
}

/**
 * Bracket-rung index of the next job under the asynchronous (ASHA-style) schedule, or -1 when the
 * bracket cannot hand out work now. Upper rungs first: rung j >= 1 may hand out its k-th job once
 * k·eta results of rung j-1 are in (every job once rung j-1 is complete); otherwise the first
 * rung's next job.
 */
export function asyncNextRung(b: BracketState, eta: number): number {
  for (let j = b.sizes.length - 1; j >= 1; j--) {
    if (b.pending[j] === 0) continue;
    const below = b.done[j - 1];
    const allowed = below >= b.sizes[j - 1] ? b.sizes[j] : Math.min(b.sizes[j], Math.floor(below / eta + EPS));
    if (b.sizes[j] - b.pending[j] < allowed) return j;
  }
  return b.pending[0] > 0 ? 0 : -1;
}
