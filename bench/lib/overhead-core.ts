/**
 * The overhead benchmark's logic (bench/overhead.ts is its CLI): time ask+tell pairs of the
 * optimizer alone with a trivial objective (sum of the unit-cube vector), in blocks, so the cost
 * of the first and the last block can be compared (flat = no growth with history).
 */
import { DehbError } from '../../src/errors.js';
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

/** 6-D float space. */
export function floatSpace6(): SpaceSpec {
  const s: SpaceSpec = {};
  for (let i = 0; i < 6; i++) s[`x${i}`] = { type: 'float', low: -5, high: 5 };
  return s;
}

/** 32-D mixed space: 10 floats (4 log), 8 ints (3 log), 8 categoricals, 6 ordinals. */
export function mixedSpace32(): SpaceSpec {
  const s: SpaceSpec = {};
  for (let i = 0; i < 10; i++) {
    s[`f${i}`] = i < 4 ? { type: 'float', low: 1e-5, high: 1, log: true } : { type: 'float', low: -1, high: 1 };
  }
  for (let i = 0; i < 8; i++) {
    s[`i${i}`] = i < 3 ? { type: 'int', low: 1, high: 1024, log: true } : { type: 'int', low: 0, high: 20 };
  }
  for (let i = 0; i < 8; i++) {
    s[`c${i}`] = { type: 'categorical', choices: ['a', 'b', 'c', 'd', 'e'].slice(0, 2 + (i % 4)) };
  }
  for (let i = 0; i < 6; i++) s[`o${i}`] = { type: 'ordinal', values: [16, 32, 64, 128, 256, 512].slice(0, 3 + (i % 4)) };
  return s;
}

export interface OverheadOptions {
  evals: number;
  block: number;
  seed: number;
  minFidelity: number;
  maxFidelity: number;
  eta: number;
}

export interface BlockFigure {
  us_per_pair: number;
  pairs_per_s: number;
}

export interface OverheadFigures {
  space: string;
  dims: number;
  evals: number;
  total_s: number;
  pairs_per_s: number;
  first: BlockFigure;
  last: BlockFigure;
  /** µs per pair of every block, in order. */
  blocks_us: number[];
  /** Split from a second, identical run with per-call timers (includes timer cost). */
  ask_us: number;
  tell_us: number;
  state_json_bytes: number;
}

function fig(ms: number, n: number): BlockFigure {
  return { us_per_pair: (ms * 1000) / n, pairs_per_s: n / (ms / 1000) };
}

function sum(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x;
  return s;
}

/** Time `opts.evals` sequential ask+tell pairs on `space`. */
export function measureOverhead(name: string, space: SpaceSpec, opts: OverheadOptions): OverheadFigures {
  const mk = () =>
    createState({ space, minFidelity: opts.minFidelity, maxFidelity: opts.maxFidelity, eta: opts.eta, seed: opts.seed });

  // Pass 1: block timers only.
  const state = mk();
  const blocks: number[] = [];
  let done = 0;
  const tStart = performance.now();
  while (done < opts.evals) {
    const n = Math.min(opts.block, opts.evals - done);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = ask(state);
      if (!('job' in r)) throw new DehbError('E_STATE', `ask() returned wait (${r.reason}) in a sequential loop`);
      tell(state, r.job.trialId, { status: 'ok', fitness: sum(r.job.vector), cost: 1 });
    }
    blocks.push(performance.now() - t0);
    done += n;
  }
  const totalMs = performance.now() - tStart;
  const stateBytes = JSON.stringify(state).length;

  // Pass 2: same sequence with per-call timers, for the ask / tell split.
  const st2 = mk();
  let askMs = 0;
  let tellMs = 0;
  for (let i = 0; i < opts.evals; i++) {
    const a0 = performance.now();
    const r = ask(st2);
    const a1 = performance.now();
    if (!('job' in r)) throw new DehbError('E_STATE', `ask() returned wait (${r.reason}) in a sequential loop`);
    const fitness = sum(r.job.vector);
    const t0 = performance.now();
    tell(st2, r.job.trialId, { status: 'ok', fitness, cost: 1 });
    tellMs += performance.now() - t0;
    askMs += a1 - a0;
  }

  const firstN = Math.min(opts.block, opts.evals);
  const lastN = opts.evals - opts.block * (blocks.length - 1);
  return {
    space: name,
    dims: Object.keys(space).length,
    evals: opts.evals,
    total_s: totalMs / 1000,
    pairs_per_s: opts.evals / (totalMs / 1000),
    first: fig(blocks[0], firstN),
    last: fig(blocks[blocks.length - 1], lastN),
    blocks_us: blocks.map((ms, i) => (ms * 1000) / (i === blocks.length - 1 ? lastN : opts.block)),
    ask_us: (askMs * 1000) / opts.evals,
    tell_us: (tellMs * 1000) / opts.evals,
    state_json_bytes: stateBytes,
  };
}
