/**
 * Parallel coordinates of configurations against fitness: the highest-fidelity trials coloured
 * by fitness (best dark), trials at lower fidelities faded grey behind them.
 */
import type { Payload } from '../payload.js';
import { draw } from './charts.js';
import { fmt, h } from './dom.js';

const INACTIVE = '(inactive)';

export class ParallelView {
  private readonly chart: HTMLElement;

  constructor(root: HTMLElement) {
    this.chart = h('div', { class: 'chart tall', 'data-testid': 'chart-parallel' });
    root.append(this.chart);
  }

  render(p: Payload): void {
    const par = p.parallel;
    const fitnessDim = par.dims.length - 1;
    const fix = (row: Array<number | string | null>): Array<number | string> =>
      row.map((v, i) => (v === null ? (par.dims[i]?.type === 'category' ? INACTIVE : '-') : v));
    const top = par.top.map(fix);
    const fit = par.top.map((r) => r[fitnessDim]).filter((v): v is number => typeof v === 'number');
    const logOk = (i: number): boolean => [...par.top, ...par.others].every((r) => r[i] === null || (typeof r[i] === 'number' && (r[i] as number) > 0));
    draw(
      this.chart,
      {
        parallel: { left: 60, right: 90, top: 40, bottom: 30 },
        parallelAxis: par.dims.map((d, i) => ({
          dim: i,
          name: d.name,
          type: d.type === 'category' ? 'category' : d.type === 'log' && logOk(i) ? 'log' : 'value',
          ...(d.type === 'category' ? { data: [...(d.categories ?? []), INACTIVE] } : { scale: true }),
          nameTextStyle: { fontWeight: i === fitnessDim ? 'bold' : 'normal' },
        })),
        visualMap:
          fit.length === 0
            ? undefined
            : { type: 'continuous', dimension: fitnessDim, seriesIndex: 1, min: Math.min(...fit), max: Math.max(...fit), inRange: { color: ['#08306b', '#4292c6', '#fdae6b'] }, right: 0, top: 'middle', text: ['worse', 'better'], calculable: true },
        series: [
          { name: 'lower fidelities', type: 'parallel', data: par.others.map(fix), lineStyle: { color: '#999', opacity: 0.12, width: 1 }, silent: true },
          { name: `fidelity ${fmt(par.fidelity)}`, type: 'parallel', data: top, lineStyle: { opacity: 0.5, width: 1 } },
        ],
      },
      par.top.length + par.others.length,
    );
    this.chart.dataset.trials = String(par.trials);
    this.chart.dataset.top = String(par.top.length);
  }
}
