/**
 * What a live dashboard adds: trials in flight (queued and running), the workers seen with their
 * hosts, and how far the current budget is spent (evaluations, brackets or wall-clock time).
 */
import type { TrialRecord } from '../../study/journal-types.js';
import { workerLabel, type RunModel } from '../model.js';
import type { Live } from '../payload.js';
import { round, secs } from './common.js';

const MAX_IN_FLIGHT = 200;

export function buildLive(model: RunModel, records: readonly TrialRecord[], now: number): Live {
  const t0 = model.startedAt ?? now;
  const flying = records.filter((r) => r.status === 'queued' || r.status === 'running');
  const workers = new Map<string, Live['workers'][number]>();
  for (const r of records) {
    if (r.worker === null) continue;
    const label = workerLabel(r);
    const w = workers.get(label) ?? { label, host: r.worker.host ?? '', done: 0, busy: false, lastSeen: null };
    if (r.status === 'running') w.busy = true;
    else if (r.finishedAt !== null) w.done++;
    const seen = r.finishedAt ?? r.startedAt;
    if (seen !== null) w.lastSeen = Math.max(w.lastSeen ?? 0, secs(seen, t0) as number);
    workers.set(label, w);
  }
  return {
    inFlight: flying.slice(0, MAX_IN_FLIGHT).map((r) => ({
      trialId: r.trialId,
      fidelity: round(r.fidelity) as number,
      worker: r.worker === null ? '' : workerLabel(r),
      since: secs(r.startedAt ?? r.askedAt, t0),
      status: r.status,
    })),
    queued: flying.filter((r) => r.status === 'queued').length,
    running: flying.filter((r) => r.status === 'running').length,
    workers: [...workers.values()].sort((a, b) => a.label.localeCompare(b.label)),
    budget: budgetProgress(model, records, now),
  };
}

function budgetProgress(model: RunModel, records: readonly TrialRecord[], now: number): Live['budget'] {
  const b = model.budget;
  if (b === null) return null;
  const frac = (done: number, total: number): number => Math.min(1, total > 0 ? done / total : 1);
  if (b.fevals !== undefined) return { kind: 'evaluations', done: model.told, total: b.fevals, fraction: frac(model.told, b.fevals) };
  if (b.brackets !== undefined) {
    const ids = new Set(records.filter((r) => r.bracketId >= 0).map((r) => r.bracketId));
    return { kind: 'brackets', done: ids.size, total: b.brackets, fraction: frac(ids.size, b.brackets) };
  }
  if (b.runtimeMs !== undefined) {
    const end = model.finished !== null ? (model.lastAt ?? now) : now;
    const spent = (end - (model.startedAt ?? now)) / 1000;
    return { kind: 'seconds', done: round(spent) as number, total: b.runtimeMs / 1000, fraction: frac(spent, b.runtimeMs / 1000) };
  }
  return null;
}
