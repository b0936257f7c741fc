/**
 * Turns a RunModel into the page's Payload (payload.ts), view by view (views/*). A report takes
 * one full payload; the dashboard sends each new page a full one, then deltas, which carry all
 * (small, aggregated) chart data but only the table rows of the trials that changed.
 * Live, the aggregated views are rebuilt at most every COST_FACTOR times what they took to build
 * (on a 50k-trial run that keeps the updates cheap; on small runs every update rebuilds them).
 */
import { fidelityLadder } from '../dehb/fidelity.js';
import type { RunModel } from './model.js';
import type { Payload } from './payload.js';
import { maxRung } from './views/common.js';
import { buildCurves } from './views/curves.js';
import { buildHyperband } from './views/hyperband.js';
import { buildImportance } from './views/importance.js';
import { buildLive } from './views/live.js';
import { buildParallel } from './views/parallel.js';
import { buildScatter } from './views/scatter.js';
import { buildTimeline } from './views/timeline.js';
import { buildTrajectory } from './views/trajectory.js';
import { errorText, tableColumns, tableRow } from './views/trials-table.js';

/** Live: the aggregated views are rebuilt only after COST_FACTOR times their last build time. */
const COST_FACTOR = 5;

export class PayloadBuilder {
  private readonly cache = new Map<string, unknown>();
  private readonly workerIds = new Map<string, number>();
  private nextRefresh = 0;
  /** True when the last build reused aggregated views older than the entries it had. */
  stale = false;

  constructor(
    private readonly model: RunModel,
    private readonly source: string,
  ) {}

  /**
   * `changed`: a delta whose table rows are only these trials; otherwise every trial. `live`: the
   * run may still be going (its queue extends to now) and costly views may be reused for a while.
   */
  build(opts: { changed?: readonly number[]; now?: number; live?: boolean } = {}): Payload {
    const m = this.model;
    const now = opts.now ?? Date.now();
    const live = opts.live === true;
    const o = m.options;
    const space = o?.space ?? {};
    const fidelities = o === null ? [] : fidelityLadder(o.minFidelity, o.maxFidelity, o.eta, o.fidelityType ?? 'float');
    const records = m.records();
    const t0 = m.startedAt ?? now;
    const rungCount = Math.max(fidelities.length, 1 + maxRung(records));
    const topRung = rungCount - 1;
    const params = Object.keys(space);
    const delta = opts.changed !== undefined;
    const rowsOf = opts.changed === undefined ? records : opts.changed.map((id) => m.history.get(id)).filter((r) => r !== undefined);
    const errors: Record<string, string> = {};
    for (const r of rowsOf) {
      const e = errorText(r);
      if (e !== null) errors[String(r.trialId)] = e;
    }
    const counts: Record<string, number> = { trials: records.length };
    for (const r of records) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const fresh = !live || now >= this.nextRefresh;
    const started = performance.now();
    const view = <T>(name: string, fn: () => T): T => {
      if (!fresh && this.cache.has(name)) return this.cache.get(name) as T;
      const value = fn();
      this.cache.set(name, value);
      return value;
    };
    const payload: Payload = {
      info: {
        runId: m.meta?.runId ?? '',
        source: this.source,
        options: o === null ? {} : { ...o, space: undefined },
        meta: { ...(m.meta ?? {}) },
        seed: o?.seed ?? null,
        budget: m.budget === null ? null : { ...m.budget },
        finished: m.finished,
        startedAt: m.startedAt,
        lastAt: m.lastAt,
        generatedAt: now,
        counts,
        fidelities,
        params,
      },
      trajectory: view('trajectory', () => buildTrajectory(records, t0, o?.incumbent === 'max-fidelity' ? topRung : null)),
      scatter: view('scatter', () => buildScatter(records, t0, fidelities)),
      hyperband: view('hyperband', () => buildHyperband(records, fidelities)),
      timeline: view('timeline', () => buildTimeline(records, t0, live && m.finished === null ? now : (m.lastAt ?? now))),
      parallel: view('parallel', () => buildParallel(records, space, topRung, fidelities[topRung] ?? null)),
      importance: view('importance', () => buildImportance(records, space, rungCount)),
      curves: view('curves', () => buildCurves(records)),
      live: buildLive(m, now),
      columns: tableColumns(params),
      rows: rowsOf.map((r) => tableRow(r, params, t0, this.workerId)),
      workers: [...this.workerIds.keys()],
      errors,
      delta,
    };
    if (fresh) this.nextRefresh = now + COST_FACTOR * (performance.now() - started);
    this.stale = !fresh;
    return payload;
  }

  private readonly workerId = (label: string): number => {
    let id = this.workerIds.get(label);
    if (id === undefined) this.workerIds.set(label, (id = this.workerIds.size));
    return id;
  };

  /** ms until a live build would rebuild the aggregated views again. */
  refreshIn(now = Date.now()): number {
    return Math.max(0, this.nextRefresh - now);
  }
}
