/**
 * Two-sided Mann-Whitney U test: normal approximation with tie and continuity corrections (what
 * scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic') computes).
 */
import { normalCdf } from '../../src/dehb/space/normal.js';

export interface MwuResult {
  /** U statistic of the first sample (pairs with x > y, ties counting one half). */
  u: number;
  /** Two-sided p-value (1 when every value is tied). */
  p: number;
}

export function mannWhitneyU(x: readonly number[], y: readonly number[]): MwuResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: NaN };
  const all = [...x.map((v) => ({ v, first: true })), ...y.map((v) => ({ v, first: false }))].sort((a, b) => a.v - b.v);
  const n = all.length;
  let r1 = 0;
  let tie = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1; // 1-based mean rank of the tie group
    for (let k = i; k <= j; k++) if (all[k].first) r1 += rank;
    const t = j - i + 1;
    tie += t * t * t - t;
    i = j + 1;
  }
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tie / (n * (n - 1))));
  if (!(sigma > 0)) return { u, p: 1 };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(Math.max(z, 0)))) };
}
