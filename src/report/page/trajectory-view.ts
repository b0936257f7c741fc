/**
 * The incumbent trajectory against evaluations, wall-clock time or cumulative cost (a switch),
 * with log axes on request, and the incumbent's configuration as a table.
 */
import type { Payload } from '../payload.js';
import { draw } from './charts.js';
import { duration, fill, fmt, h } from './dom.js';

type Axis = 'evals' | 'time' | 'cost';
const LABEL: Record<Axis, string> = { evals: 'evaluations', time: 'wall-clock (s)', cost: 'cumulative cost' };

export class TrajectoryView {
  private axis: Axis = 'evals';
  private logX = true;
  private logY = false;
  private readonly chart: HTMLElement;
  private readonly config: HTMLElement;
  private last: Payload | null = null;

  constructor(root: HTMLElement) {
    const controls = h('div', { class: 'controls' });
    for (const a of ['evals', 'time', 'cost'] as Axis[]) {
      const b = h('button', { type: 'button', 'data-axis': a }, `vs ${LABEL[a]}`);
      b.addEventListener('click', () => {
        this.axis = a;
        this.redraw();
      });
      controls.append(b);
    }
    controls.append(this.toggle('log x', this.logX, (v) => (this.logX = v)), this.toggle('log y', this.logY, (v) => (this.logY = v)));
    this.chart = h('div', { class: 'chart', 'data-testid': 'chart-trajectory' });
    this.config = h('div', { class: 'incumbent', 'data-testid': 'incumbent' });
    root.append(controls, this.chart, this.config);
  }

  private toggle(label: string, on: boolean, set: (v: boolean) => void): HTMLElement {
    const box = h('input', { type: 'checkbox', checked: on });
    box.addEventListener('change', () => {
      set(box.checked);
      this.redraw();
    });
    return h('label', {}, box, ` ${label}`);
  }

  render(p: Payload): void {
    this.last = p;
    this.redraw();
    const inc = p.trajectory.incumbent;
    if (inc === null) {
      fill(this.config, 'No successful trial yet.');
      return;
    }
    const rows = Object.entries(inc.config).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v))));
    fill(
      this.config,
      h('p', {}, `Incumbent: trial ${inc.trialId}, fitness ${fmt(inc.fitness, 6)} at fidelity ${fmt(inc.fidelity)}`),
      h('table', { class: 'kv' }, h('tbody', {}, ...rows)),
    );
  }

  private redraw(): void {
    const p = this.last;
    if (p === null) return;
    const t = p.trajectory;
    let axis = this.axis;
    if (axis === 'cost' && t.end.cost === null) axis = 'evals';
    const xs = axis === 'evals' ? t.evals : axis === 'time' ? t.time : t.cost;
    const data: Array<[number, number]> = [];
    xs.forEach((x, i) => data.push([Math.max(x ?? 0, 1e-3), t.fitness[i] as number]));
    const endX = axis === 'evals' ? t.end.evals : axis === 'time' ? t.end.time : (t.end.cost ?? 0);
    const lastF = t.fitness[t.fitness.length - 1];
    if (lastF !== undefined) data.push([Math.max(endX, 1e-3), lastF]);
    const logY = this.logY && t.fitness.every((f) => f > 0);
    draw(
      this.chart,
      {
        grid: { left: 70, right: 20, top: 20, bottom: 45 },
        tooltip: { trigger: 'axis', valueFormatter: (v: number) => fmt(v, 6) },
        xAxis: { type: this.logX ? 'log' : 'value', name: LABEL[axis], nameLocation: 'middle', nameGap: 28, axisLabel: { formatter: (v: number) => (axis === 'time' ? duration(v) : fmt(v, 3)) } },
        yAxis: { type: logY ? 'log' : 'value', name: 'incumbent fitness', scale: true },
        series: [{ type: 'line', step: 'end', data, symbolSize: 5, lineStyle: { width: 2 } }],
      },
      data.length,
    );
    this.chart.dataset.axis = axis;
    this.chart.dataset.trials = String(t.end.evals);
  }
}
