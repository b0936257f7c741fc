/**
 * What a live dashboard adds: trials in flight (queued and running), the workers seen with their
 * hosts, and how far the current budget is spent (evaluations, brackets or wall-clock time).
 */
import type { TrialRecord } from '../../study/journal-types.js';
import { workerLabel, type RunModel } from '../model.js';
import type { Live } from '../payload.js';
import { round, secs } from './common.js';

const MAX_IN_FLIGHT = 200;

export function buildLive(model: RunModel, now: number): Live {
  const t0 = model.startedAt ?? now;
  const flying: TrialRecord[] = [];
  for (const id of model.inFlight) {
    const r = model.history.get(id);
    if (r !== undefined) flying.push(r);
  }
  flying.sort((a, b) => a.trialId - b.trialId);
  const busy = new Set(flying.filter((r) => r.status === 'running' && r.worker !== null).map(workerLabel));
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
    workers: [...model.workers.entries()]
      .map(([label, w]) => ({ label, host: w.host, done: w.done, busy: busy.has(label), lastSeen: secs(w.lastSeen, t0) }))
      .sort((a, b) => a.label.localeCompare(b.label)),
    budget: budgetProgress(model, now),
  };
}

function budgetProgress(model: RunModel, now: number): Live['budget'] {
  const b = model.budget;
  if (b === null) return null;
  const frac = (done: number, total: number): number => Math.min(1, total > 0 ? done / total : 1);
  if (b.fevals !== undefined) return { kind: 'evaluations', done: model.told, total: b.fevals, fraction: frac(model.told, b.fevals) };
  if (b.brackets !== undefined) {
    const n = model.bracketIds.size;
    return { kind: 'brackets', done: n, total: b.brackets, fraction: frac(n, b.brackets) };
  }
  if (b.runtimeMs !== undefined) {
    const end = model.finished !== null ? (model.lastAt ?? now) : now;
    const spent = (end - (model.startedAt ?? now)) / 1000;
    return { kind: 'seconds', done: round(spent) as number, total: b.runtimeMs / 1000, fraction: frac(spent, b.runtimeMs / 1000) };
  }
  return null;
}
