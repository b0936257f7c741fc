/**
 * The parallel benchmark's tables (bench/parallel.ts runs the simulations): regret at equal
 * evaluations, at equal simulated time, and the asynchronous schedule against the synchronous one
 * on anytime regret vs simulated time, each with two-sided Mann-Whitney p-values.
 */
import { mannWhitneyU } from './mwu.js';
import { endTime, regretAtTime, type SimTrace } from './parallel-sim.js';
import { mean, median } from './stats.js';
import { formatTable } from './table.js';

/** Runs of one (problem, schedule, workers) cell, one per seed. */
export interface Cell {
  problem: string;
  schedule: string;
  workers: number;
  traces: SimTrace[];
}

/** Issue 12's figures (40 seeds, its harness): W=1 ours, W=4 reference, W=16 reference. */
export const ISSUE_FIGURES: Readonly<Record<string, { w1: number; w4: number; w16: number }>> = {
  mfh3: { w1: 0.00129, w4: 0.00231, w16: 0.0102 },
  mfh6: { w1: 0.0991, w4: 0.151, w16: 0.102 },
  mixed12: { w1: 0.0638, w4: 0.0918, w16: 0.0891 },
};

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return x === 0 ? '0' : x.toPrecision(3);
}

function pText(a: readonly number[], b: readonly number[]): string {
  const finite = (xs: readonly number[]) => xs.map((x) => (Number.isFinite(x) ? x : Number.MAX_VALUE));
  const p = mannWhitneyU(finite(a), finite(b)).p;
  return p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`;
}

function finals(c: Cell): number[] {
  return c.traces.map((t) => t.regret[t.regret.length - 1]);
}

function find(cells: readonly Cell[], problem: string, schedule: string, workers: number): Cell | undefined {
  return cells.find((c) => c.problem === problem && c.schedule === schedule && c.workers === workers);
}

/** Regret of the final incumbent after the same number of evaluations; ratio and p against the first worker count. */
export function equalEvaluationsTable(cells: readonly Cell[], problems: string[], schedules: string[], workers: number[]): string {
  const header = ['problem', 'schedule', ...workers.map((w, i) => (i === 0 ? `W=${w} mean (median)` : `W=${w} mean (median) x W=${workers[0]}, p`))];
  const rows: string[][] = [];
  for (const p of problems) {
    for (const s of schedules) {
      const base = find(cells, p, s, workers[0]);
      if (base === undefined) continue;
      const b = finals(base);
      rows.push([p, s, ...workers.map((w, i) => {
        const f = finals(find(cells, p, s, w)!);
        const cell = `${fmt(mean(f))} (${fmt(median(f))})`;
        return i === 0 ? cell : `${cell} x${(mean(f) / mean(b)).toFixed(2)}, ${pText(f, b)}`;
      })]);
    }
  }
  return formatTable(header, rows);
}

/** Mean end time of a cell's runs. */
export function meanEnd(c: Cell): number {
  return mean(c.traces.map(endTime));
}

/**
 * Regret at equal simulated time: checkpoints T/w for each worker count w, T the mean time the
 * first worker count's runs took; p against the first worker count at the same time.
 */
export function equalTimeTable(cells: readonly Cell[], problems: string[], schedules: string[], workers: number[]): string {
  const header = ['problem', 'schedule', 'time', ...workers.map((w, i) => (i === 0 ? `W=${w}` : `W=${w}, p`))];
  const rows: string[][] = [];
  for (const p of problems) {
    for (const s of schedules) {
      const base = find(cells, p, s, workers[0]);
      if (base === undefined) continue;
      const T = meanEnd(base);
      for (const w of [...workers].reverse()) {
        const t = T / (w / workers[0]);
        const b = base.traces.map((tr) => regretAtTime(tr, t));
        rows.push([p, s, `${t.toFixed(1)} (T/${w / workers[0]})`, ...workers.map((v, i) => {
          const r = find(cells, p, s, v)!.traces.map((tr) => regretAtTime(tr, t));
          return i === 0 ? fmt(mean(r)) : `${fmt(mean(r))}, ${pText(r, b)}`;
        })]);
      }
    }
  }
  return formatTable(header, rows);
}

/** Async against sync: mean regret at fractions of the sync runs' mean end time, per worker count. */
export function asyncTable(cells: readonly Cell[], problems: string[], workers: number[], fractions = [0.1, 0.25, 0.5, 1]): string {
  const header = ['problem', 'W', ...fractions.map((f) => `t=${f * 100}%: sync / async, p`), 'end time sync / async'];
  const rows: string[][] = [];
  for (const p of problems) {
    for (const w of workers) {
      const sy = find(cells, p, 'sync', w);
      const as = find(cells, p, 'async', w);
      if (sy === undefined || as === undefined) continue;
      const T = meanEnd(sy);
      rows.push([p, String(w), ...fractions.map((f) => {
        const a = sy.traces.map((tr) => regretAtTime(tr, f * T));
        const b = as.traces.map((tr) => regretAtTime(tr, f * T));
        return `${fmt(mean(a))} / ${fmt(mean(b))}, ${pText(b, a)}`;
      }), `${T.toFixed(1)} / ${meanEnd(as).toFixed(1)}`]);
    }
  }
  return formatTable(header, rows);
}
