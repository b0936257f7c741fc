/**
 * The data a report page draws, as plain JSON: built by build-payload.ts (Node), read by the page
 * bundle (src/report/page, browser). Types only, so both sides share them. Everything is already
 * decimated or aggregated: no chart receives more points than it has pixels. Times are seconds
 * since the run's first journal entry.
 */

export type Scalar = string | number | boolean;

export interface RunInfo {
  runId: string;
  source: string;
  options: Record<string, unknown>;
  meta: Record<string, unknown>;
  seed: number | null;
  budget: Record<string, number> | null;
  finished: string | null;
  startedAt: number | null;
  lastAt: number | null;
  generatedAt: number;
  counts: Record<string, number>;
  fidelities: number[];
  params: string[];
}

export interface Incumbent {
  trialId: number;
  fitness: number;
  fidelity: number;
  config: Record<string, Scalar>;
}

/** Incumbent change points: x = evaluations told, seconds, cumulative cost. */
export interface Trajectory {
  evals: number[];
  time: number[];
  cost: Array<number | null>;
  fitness: number[];
  /** Total evaluations / seconds / cost at the end (the step is drawn up to there). */
  end: { evals: number; time: number; cost: number | null };
  incumbent: Incumbent | null;
}

/** Fitness vs time per rung, min/max per pixel column; failures as their own points. */
export interface Scatter {
  rungs: Array<{ rung: number; fidelity: number; points: Array<[number, number, number]>; trials: number }>;
  failed: Array<[number, number, string]>;
  failedTotal: number;
  trials: number;
}

export interface HyperbandRung {
  rung: number;
  fidelity: number;
  held: number;
  promoted: number;
  done: number;
}

export interface Hyperband {
  totals: HyperbandRung[];
  /** First and last brackets (at most 40 rows). */
  brackets: Array<{ id: number; rungs: HyperbandRung[] }>;
  bracketCount: number;
  /** Spearman rank correlation of fitness between the same config at two rungs. */
  spearman: Array<{ low: number; high: number; rho: number | null; n: number }>;
}

export interface Timeline {
  lanes: string[];
  /** [lane, start s, end s, trials merged, failed in it]. */
  blocks: Array<[number, number, number, number, number]>;
  trials: number;
  /** Queued (asked, not started) over time: [s, count]. */
  queue: Array<[number, number]>;
  wait: { mean: number | null; max: number | null };
  busyFraction: number | null;
}

export interface Parallel {
  dims: Array<{ name: string; type: 'value' | 'category' | 'log'; categories?: string[] }>;
  /** Max-fidelity trials: values per dim, then fitness last. */
  top: Array<Array<number | string | null>>;
  others: Array<Array<number | string | null>>;
  fidelity: number | null;
  trials: number;
}

export interface Importance {
  method: string;
  params: Array<{ name: string; importance: number }>;
  basis: string;
  n: number;
}

export interface Curves {
  curves: Array<{ trialId: number; fidelity: number; points: Array<[number, number]> }>;
  trialsWithReports: number;
}

/** [trialId, status, fitness, fidelity, bracket, rung, start s, duration s, cost, worker (index into Payload.workers), ...param values]. */
export type TrialRow = Array<number | string | boolean | null>;

export interface Live {
  inFlight: Array<{ trialId: number; fidelity: number; worker: string; since: number | null; status: string }>;
  queued: number;
  running: number;
  workers: Array<{ label: string; host: string; done: number; busy: boolean; lastSeen: number | null }>;
  budget: { kind: string; done: number; total: number; fraction: number } | null;
}

export interface Payload {
  info: RunInfo;
  trajectory: Trajectory;
  scatter: Scatter;
  hyperband: Hyperband;
  timeline: Timeline;
  parallel: Parallel;
  importance: Importance;
  curves: Curves;
  live: Live;
  columns: string[];
  rows: TrialRow[];
  /** Worker labels the rows refer to by index (stable across a dashboard's payloads). */
  workers: string[];
  /** trialId -> error text (truncated). */
  errors: Record<string, string>;
  /** True when rows holds only the trials changed since the previous payload (dashboard). */
  delta: boolean;
}
