/**
 * Parameter importance by PED-ANOVA (Watanabe et al., IJCAI 2023; Optuna's default importance
 * evaluator): for each parameter, the Pearson divergence between the distribution of its values
 * among the top GAMMA fraction of trials and among all trials,
 *   I_d = ∫ (p_top(x) / p_all(x) − 1)² p_all(x) dx,
 * normalised to sum to 1. Numeric parameters use Gaussian kernel densities (Scott's bandwidth) of
 * the unit-cube encoding of the configurations on a grid; choices use smoothed frequencies. It is computed on the
 * highest rung that has at least MIN_TRIALS ok trials (else on all ok trials). Caveats (also on the
 * page): it is marginal (one parameter at a time, interactions are not separated), it depends on
 * GAMMA, it is noisy with few trials, and DEHB's sampling is not uniform, so it says which values
 * the good trials share, not a causal effect.
 */
import { compileSpace, type CompiledParam } from '../../dehb/space/compile.js';
import { encodeValue } from '../../dehb/space/encode.js';
import type { SpaceSpec } from '../../dehb/types.js';
import type { TrialRecord } from '../../study/journal-types.js';
import type { Importance } from '../payload.js';
import { round } from './common.js';

const GAMMA = 0.1;
const MIN_TRIALS = 20;
const GRID = 100;

export function buildImportance(records: readonly TrialRecord[], space: SpaceSpec, rungCount: number): Importance {
  const ok = records.filter((r) => r.status === 'ok' && r.fitness !== null);
  let basis = ok;
  let label = 'all ok trials (no rung has enough)';
  for (let rung = rungCount - 1; rung >= 0; rung--) {
    const at = ok.filter((r) => r.rung === rung);
    if (at.length >= MIN_TRIALS) {
      basis = at;
      label = `rung ${rung} (${at.length} ok trials)`;
      break;
    }
  }
  const method = `PED-ANOVA (top ${GAMMA * 100}% vs all, Pearson divergence)`;
  const names = Object.keys(space);
  const compiled = compileSpace(space).params; // in the space's key order, like names
  if (basis.length < 5) return { method, params: [], basis: `not enough ok trials (${basis.length})`, n: basis.length };
  const sorted = [...basis].sort((a, b) => (a.fitness as number) - (b.fitness as number));
  const nTop = Math.max(2, Math.ceil(sorted.length * GAMMA));
  const topSet = new Set(sorted.slice(0, nTop).map((r) => r.trialId));
  const raw: Array<{ name: string; importance: number }> = [];
  names.forEach((name, d) => {
    const spec = space[name];
    if (spec === undefined || spec.type === 'constant') return;
    const active = sorted.filter((r) => r.config[name] !== undefined);
    const top = active.filter((r) => topSet.has(r.trialId));
    if (active.length < 5 || top.length < 2) return;
    let value: number;
    if (spec.type === 'categorical' || spec.type === 'ordinal') {
      const choices = (spec.type === 'categorical' ? spec.choices : spec.values).map(String);
      value = discreteDivergence(top.map((r) => String(r.config[name])), active.map((r) => String(r.config[name])), choices);
    } else {
      const param = compiled[d];
      const x = (r: TrialRecord): number => (param === undefined ? 0.5 : cube(param, r.config[name]));
      value = kdeDivergence(top.map(x), active.map(x));
    }
    raw.push({ name, importance: Number.isFinite(value) ? value : 0 });
  });
  const total = raw.reduce((s, p) => s + p.importance, 0);
  const params = raw
    .map((p) => ({ name: p.name, importance: (total > 0 ? round(p.importance / total) : 0) as number }))
    .sort((a, b) => b.importance - a.importance);
  return { method, params, basis: label, n: basis.length };
}

function discreteDivergence(top: readonly string[], all: readonly string[], choices: readonly string[]): number {
  const k = choices.length;
  let div = 0;
  for (const c of choices) {
    const pt = (top.filter((v) => v === c).length + 1) / (top.length + k);
    const pa = (all.filter((v) => v === c).length + 1) / (all.length + k);
    div += (pt / pa - 1) ** 2 * pa;
  }
  return div;
}

function kdeDivergence(top: readonly number[], all: readonly number[]): number {
  const pt = density(top);
  const pa = density(all);
  let div = 0;
  for (let i = 0; i < GRID; i++) div += ((pt[i] as number) / (pa[i] as number) - 1) ** 2 * (pa[i] as number);
  return div / GRID;
}

/** Gaussian KDE on [0,1] at GRID cell centres, normalised to integrate to 1 (plus a floor). */
function density(xs: readonly number[]): number[] {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  const h = Math.max(0.02, 1.06 * (sd || 0.1) * n ** -0.2);
  const sample = xs.length > 2000 ? xs.filter((_, i) => i % Math.ceil(xs.length / 2000) === 0) : xs;
  const out = new Array<number>(GRID).fill(0);
  for (let i = 0; i < GRID; i++) {
    const g = (i + 0.5) / GRID;
    let s = 0;
    for (const x of sample) s += Math.exp(-0.5 * ((g - x) / h) ** 2);
    out[i] = s;
  }
  const sum = out.reduce((a, b) => a + b, 0) / GRID;
  return out.map((v) => v / (sum || 1) + 1e-6);
}

/** A numeric value's unit-cube coordinate (0.5 for one outside the space, e.g. of an edited space). */
function cube(p: CompiledParam, value: unknown): number {
  try {
    return encodeValue(p, value as number);
  } catch {
    return 0.5;
  }
}
