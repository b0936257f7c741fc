/**
 * Turns a RunModel into the page's Payload (payload.ts), view by view (views/*). A report takes
 * one full payload; the dashboard sends each new page a full one, then deltas, which carry all
 * (small, aggregated) chart data but only the table rows of the trials that changed.
 * Parameter importance, the one costly view, is recomputed only when the results grew by a tenth
 * or IMPORTANCE_EVERY_MS passed.
 */
import { computeLadder } from '../dehb/brackets.js';
import type { RunModel } from './model.js';
import type { Importance, Payload } from './payload.js';
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

const IMPORTANCE_EVERY_MS = 5000;

export class PayloadBuilder {
  private importance: { value: Importance; told: number; at: number } | null = null;

  constructor(
    private readonly model: RunModel,
    private readonly source: string,
  ) {}

  /** `changed`: a delta whose table rows are only these trials; otherwise every trial. */
  build(opts: { changed?: readonly number[]; now?: number } = {}): Payload {
    const m = this.model;
    const now = opts.now ?? Date.now();
    const o = m.options;
    const space = o?.space ?? {};
    const fidelities = o === null ? [] : computeLadder(o.minFidelity, o.maxFidelity, o.eta);
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
    return {
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
      trajectory: buildTrajectory(records, t0),
      scatter: buildScatter(records, t0, fidelities),
      hyperband: buildHyperband(records, fidelities),
      timeline: buildTimeline(records, t0, m.finished !== null ? (m.lastAt ?? now) : now),
      parallel: buildParallel(records, space, topRung, fidelities[topRung] ?? null),
      importance: this.importanceOf(records, space, rungCount, now),
      curves: buildCurves(records),
      live: buildLive(m, records, now),
      columns: tableColumns(params),
      rows: rowsOf.map((r) => tableRow(r, params, t0)),
      errors,
      delta,
    };
  }

  private importanceOf(records: ReturnType<RunModel['records']>, space: NonNullable<RunModel['options']>['space'], rungCount: number, now: number): Importance {
    const c = this.importance;
    const told = this.model.told;
    if (c !== null && told < c.told * 1.1 && now - c.at < IMPORTANCE_EVERY_MS && told - c.told < 50) return c.value;
    const value = buildImportance(records, space, this.model.vectors, rungCount);
    this.importance = { value, told, at: now };
    return value;
  }
}
