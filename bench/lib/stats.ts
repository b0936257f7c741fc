/** Small statistics helpers for the bench scripts (mean, population std, checkpoints). */

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation (numpy's default ddof=0, as the reference uses). */
export function popStd(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const a = [...xs].sort((p, q) => p - q);
  const mid = a.length >> 1;
  return a.length % 2 ? a[mid] : (a[mid - 1] + a[mid]) / 2;
}

/** Percent checkpoints the reference table uses. */
export const CHECKPOINTS = [20, 40, 60, 80, 100] as const;

/** Trajectory index for `pct` % of `n` evaluations: int(pct/100·n) - 1, as generate_summary.py. */
export function checkpointIndex(pct: number, n: number): number {
  return Math.max(0, Math.floor((pct * n) / 100) - 1);
}
