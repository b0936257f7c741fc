/**
 * Two-sided Mann-Whitney U test with the normal approximation, tie correction and continuity
 * correction (what scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='asymptotic')
 * computes), and the standard normal tail it needs.
 */

/** erfc(x) for x >= 0 (W. J. Cody's rational approximations, relative error < 1e-15 in double). */
function erfcPositive(x: number): number {
  if (x < 0.5) {
    const t = x * x;
    const num = ((((1.85777706184603153e-1 * t + 3.16112374387056560) * t + 1.13864154151050156e2) * t + 3.77485237685302021e2) * t + 3.20937758913846947e3);
    const den = ((((t + 2.36012909523441209e1) * t + 2.44024637934444173e2) * t + 1.28261652607737228e3) * t + 2.84423683343917062e3);
    return 1 - (x * num) / den;
  }
  if (x < 4) {
    const p = [5.64188496988670089e-1, 8.88314979438837594, 6.61191906371416295e1, 2.98635138197400131e2, 8.81952221241769090e2, 1.71204761263407058e3, 2.05107837782607147e3, 1.23033935479799725e3, 2.15311535474403846e-8];
    const q = [1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2, 1.62138957456669019e3, 3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3, 1.23033935480374942e3];
    let num = p[8] * x;
    let den = x;
    for (let i = 0; i < 7; i++) {
      num = (num + p[i]) * x;
      den = (den + q[i]) * x;
    }
    const r = (num + p[7]) / (den + q[7]);
    return Math.exp(-x * x) * r;
  }
  const p = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
  const q = [2.56852019228982242, 1.87295284992346725, 5.27905102951428412e-1, 6.05183413124413191e-2, 2.33520497626869185e-3];
  const z = 1 / (x * x);
  let num = p[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + p[i]) * z;
    den = (den + q[i]) * z;
  }
  let r = (z * (num + p[4])) / (den + q[4]);
  r = (1 / Math.sqrt(Math.PI) - r) / x;
  return Math.exp(-x * x) * r;
}

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const v = 0.5 * erfcPositive(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? v : 1 - v;
}

export interface MwuResult {
  /** U statistic of the first sample (number of pairs x > y, ties counting one half). */
  u: number;
  /** Two-sided p-value (1 when both samples are all ties). */
  p: number;
}

/** Average ranks (1-based) of `values`, ties sharing the mean rank; also returns Σ(t³ - t). */
function rank(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks, tieTerm };
}

/** Two-sided Mann-Whitney U test of x against y (normal approximation with tie and continuity correction). */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MwuResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs two non-empty samples');
  if ([...x, ...y].some((v) => Number.isNaN(v))) throw new RangeError('mannWhitneyU: samples must not contain NaN');
  const { ranks, tieTerm } = rank([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i];
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u, p: 1 };
  const big = Math.max(u, n1 * n2 - u);
  const z = (big - mu - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * normalSf(z)) };
}
