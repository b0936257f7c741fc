/**
 * Parallel coordinates of configurations against fitness: one axis per searched parameter (log
 * axes for log-scaled ones, category axes for choices) and fitness last. Ok trials at the highest
 * fidelity are drawn in full colour (the best TOP_BEST always, the rest sampled evenly), trials at
 * lower fidelities faded and sampled.
 */
import type { SpaceSpec } from '../../dehb/types.js';
import type { TrialRecord } from '../../study/journal-types.js';
import type { Parallel } from '../payload.js';
import { round, sampleEvenly } from './common.js';

const TOP_BEST = 200;
const TOP_MAX = 800;
const OTHERS_MAX = 400;

export function buildParallel(records: readonly TrialRecord[], space: SpaceSpec, topRung: number, fidelity: number | null): Parallel {
  const names = Object.keys(space).filter((k) => space[k]?.type !== 'constant');
  const dims: Parallel['dims'] = names.map((name) => {
    const p = space[name];
    if (p?.type === 'categorical') return { name, type: 'category', categories: p.choices.map(String) };
    if (p?.type === 'ordinal') return { name, type: 'category', categories: p.values.map(String) };
    return { name, type: p !== undefined && 'log' in p && p.log === true ? 'log' : 'value' };
  });
  dims.push({ name: 'fitness', type: 'value' });
  const ok = records.filter((r) => r.status === 'ok' && r.fitness !== null);
  const top = ok.filter((r) => r.rung === topRung).sort((a, b) => (a.fitness as number) - (b.fitness as number));
  const chosen = top.length <= TOP_MAX ? top : [...top.slice(0, TOP_BEST), ...sampleEvenly(top.slice(TOP_BEST), TOP_MAX - TOP_BEST)];
  const others = sampleEvenly(ok.filter((r) => r.rung !== topRung), OTHERS_MAX);
  const row = (r: TrialRecord): Array<number | string | null> => [
    ...dims.slice(0, -1).map((d) => {
      const v = r.config[d.name];
      if (v === undefined) return null;
      return d.type === 'category' ? String(v) : typeof v === 'number' ? round(v) : null;
    }),
    round(r.fitness),
  ];
  return { dims, top: chosen.map(row), others: others.map(row), fidelity, trials: ok.length };
}
