/**
 * The Hyperband view: per bracket and rung how many trials the rung held, how many of them were
 * promotions from the rung below, and how many are done; totals per rung; the rank agreement per
 * rung pair (spearman.ts). Only the first and last brackets are listed one by one (a long run has
 * thousands); the totals cover all.
 */
import type { TrialRecord } from '../../study/journal-types.js';
import type { Hyperband, HyperbandRung } from '../payload.js';
import { isDone, maxRung } from './common.js';
import { rungPairs } from './spearman.js';

const LISTED = 20;

export function buildHyperband(records: readonly TrialRecord[], fidelities: readonly number[]): Hyperband {
  const rungCount = Math.max(fidelities.length, 1 + maxRung(records));
  const brackets = new Map<number, HyperbandRung[]>();
  const totals = emptyRungs(rungCount, fidelities);
  for (const r of records) {
    if (r.rung < 0 || r.rung >= rungCount) continue;
    let rungs = brackets.get(r.bracketId);
    if (rungs === undefined) brackets.set(r.bracketId, (rungs = emptyRungs(rungCount, fidelities)));
    for (const row of [rungs[r.rung] as HyperbandRung, totals[r.rung] as HyperbandRung]) {
      row.held++;
      if (isDone(r)) row.done++;
    }
    if (r.source === 'promotion' && r.rung > 0) {
      (rungs[r.rung - 1] as HyperbandRung).promoted++;
      (totals[r.rung - 1] as HyperbandRung).promoted++;
    }
  }
  const ids = [...brackets.keys()].sort((a, b) => a - b);
  const listed = ids.length <= 2 * LISTED ? ids : [...ids.slice(0, LISTED), ...ids.slice(-LISTED)];
  return {
    totals,
    brackets: listed.map((id) => ({ id, rungs: (brackets.get(id) as HyperbandRung[]).filter((x) => x.held > 0) })),
    bracketCount: ids.length,
    spearman: rungPairs(records, rungCount),
  };
}

function emptyRungs(n: number, fidelities: readonly number[]): HyperbandRung[] {
  return Array.from({ length: n }, (_, rung) => ({ rung, fidelity: fidelities[rung] ?? rung, held: 0, promoted: 0, done: 0 }));
}
