/**
 * What a caller may hand to `tell()` (DEHB and Study alike): a number, `{fitness, cost?, info?}`,
 * or a full TrialResult with one of the statuses `ok | failed | timed-out | cancelled`; and its
 * normalisation into the TrialResult the optimizer and the journal record. A non-finite number or
 * a missing fitness is recorded as a failed trial, saying why.
 */
import { DehbError } from '../errors.js';
import type { TrialResult } from '../dehb/types.js';
import { FINISHED_STATUSES } from '../protocol/journal-versions.js';

export type ResultInput = number | { fitness: number; cost?: number; info?: Record<string, unknown> } | TrialResult;

const STATUSES: ReadonlySet<string> = new Set(FINISHED_STATUSES);

export function normaliseResult(result: unknown): TrialResult {
  if (typeof result === 'number') {
    return Number.isFinite(result)
      ? { status: 'ok', fitness: result }
      : { status: 'failed', error: { message: `objective returned ${String(result)}` } };
  }
  if (result !== null && typeof result === 'object') {
    const r = result as Partial<TrialResult> & { fitness?: unknown };
    if (r.status !== undefined) {
      if (!STATUSES.has(r.status)) {
        throw new DehbError('E_CONFIG', `result.status must be ok, failed, timed-out or cancelled (got ${JSON.stringify(r.status)})`);
      }
      if (r.status === 'ok' && (typeof r.fitness !== 'number' || !Number.isFinite(r.fitness))) {
        throw new DehbError('E_CONFIG', `a result with status "ok" needs a finite numeric fitness (got ${JSON.stringify(r.fitness)})`);
      }
      return r as TrialResult;
    }
    if (typeof r.fitness === 'number' && Number.isFinite(r.fitness)) {
      const out: TrialResult = { status: 'ok', fitness: r.fitness };
      if (typeof r.cost === 'number') out.cost = r.cost;
      if (r.info !== undefined) out.info = r.info;
      return out;
    }
    return { status: 'failed', error: { message: `result has no finite numeric fitness (got ${JSON.stringify(r.fitness)})` } };
  }
  return { status: 'failed', error: { message: `result must be a number or { fitness } (got ${typeof result})` } };
}
