/**
 * The Hyperband view: per rung how many configurations were held and promoted (all brackets),
 * the rank correlation of each rung with the highest one, and the first and last brackets.
 */
import type { Payload } from '../payload.js';
import { draw } from './charts.js';
import { fill, fmt, h } from './dom.js';

export class HyperbandView {
  private readonly chart: HTMLElement;
  private readonly corr: HTMLElement;
  private readonly brackets: HTMLElement;

  constructor(root: HTMLElement) {
    this.chart = h('div', { class: 'chart short', 'data-testid': 'chart-hyperband' });
    this.corr = h('div', { 'data-testid': 'rank-correlation' });
    this.brackets = h('div', { class: 'scroll', 'data-testid': 'brackets' });
    root.append(this.chart, h('div', { class: 'split' }, this.corr, this.brackets));
  }

  render(p: Payload): void {
    const hb = p.hyperband;
    const labels = hb.totals.map((r) => `rung ${r.rung} (${fmt(r.fidelity, 4)})`);
    draw(
      this.chart,
      {
        grid: { left: 60, right: 20, top: 35, bottom: 30 },
        legend: { top: 0 },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'category', data: labels },
        yAxis: { type: 'value', name: 'configurations' },
        series: [
          { name: 'held', type: 'bar', data: hb.totals.map((r) => r.held), itemStyle: { color: '#4292c6' } },
          { name: 'promoted to next rung', type: 'bar', data: hb.totals.map((r) => r.promoted), itemStyle: { color: '#31a354' } },
          { name: 'done', type: 'bar', data: hb.totals.map((r) => r.done), itemStyle: { color: '#bdbdbd' } },
        ],
      },
      hb.totals.length * 3,
    );
    this.chart.dataset.trials = String(hb.totals.reduce((a, r) => a + r.held, 0));
    const corrRows = hb.spearman.map((s) =>
      h('tr', {}, h('td', {}, `rung ${s.low} vs rung ${s.high}`), h('td', {}, s.rho === null ? 'n/a' : fmt(s.rho, 3)), h('td', {}, String(s.n))),
    );
    fill(
      this.corr,
      h('h3', {}, 'Did low fidelities rank like high ones?'),
      h('p', { class: 'note' }, 'Spearman rank correlation of fitness for the same configuration at two rungs (1 = same order; n/a with fewer than 3 pairs).'),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'rungs'), h('th', {}, 'ρ'), h('th', {}, 'pairs'))), h('tbody', {}, ...corrRows)),
    );
    const bRows = hb.brackets.map((b) =>
      h('tr', {}, h('td', {}, String(b.id)), h('td', {}, b.rungs.map((r) => `r${r.rung}: ${r.held} held, ${r.promoted} promoted`).join(' · '))),
    );
    fill(
      this.brackets,
      h('h3', {}, `Brackets (${hb.bracketCount}${hb.brackets.length < hb.bracketCount ? `, first and last ${hb.brackets.length / 2} shown` : ''})`),
      h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'bracket'), h('th', {}, 'rungs'))), h('tbody', {}, ...bRows)),
    );
  }
}
