/** Parameter importance (PED-ANOVA, computed in TypeScript when the payload is built) and its caveats. */
import type { Payload } from '../payload.js';
import { draw } from './charts.js';
import { fill, h } from './dom.js';

export const IMPORTANCE_CAVEATS =
  'PED-ANOVA (Watanabe et al. 2023, Optuna’s default): how differently each parameter is distributed among the best 10% of trials than among all, normalised to sum to 1. ' +
  'It is marginal (one parameter at a time; interactions are not separated), depends on the 10% cut, is noisy with few trials, and DEHB does not sample uniformly: ' +
  'read it as “which values the good trials share”, not as a causal effect.';

export class ImportanceView {
  private readonly chart: HTMLElement;
  private readonly note: HTMLElement;

  constructor(root: HTMLElement) {
    this.note = h('p', { class: 'note' });
    this.chart = h('div', { class: 'chart short', 'data-testid': 'chart-importance' });
    root.append(this.note, this.chart, h('p', { class: 'note caveat' }, IMPORTANCE_CAVEATS));
  }

  render(p: Payload): void {
    const imp = p.importance;
    const params = [...imp.params].reverse();
    this.chart.style.height = `${Math.max(140, 40 + params.length * 26)}px`;
    draw(
      this.chart,
      {
        grid: { left: 140, right: 30, top: 10, bottom: 30 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', max: 1 },
        yAxis: { type: 'category', data: params.map((x) => x.name) },
        series: [{ type: 'bar', data: params.map((x) => x.importance), itemStyle: { color: '#6baed6' }, label: { show: true, position: 'right' } }],
      },
      params.length,
    );
    this.chart.dataset.trials = String(imp.n);
    fill(this.note, `${imp.method}, on ${imp.basis}.`);
  }
}
