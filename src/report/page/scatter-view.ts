/** Every trial's fitness against time, coloured by rung; failed/timed-out trials marked in red. */
import type { Payload } from '../payload.js';
import { draw, FAIL, rungColour } from './charts.js';
import { duration, fmt, h } from './dom.js';

export class ScatterView {
  private readonly chart: HTMLElement;

  constructor(root: HTMLElement) {
    this.chart = h('div', { class: 'chart', 'data-testid': 'chart-scatter' });
    root.append(this.chart);
  }

  render(p: Payload): void {
    const s = p.scatter;
    const n = Math.max(p.info.fidelities.length, s.rungs.length);
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of s.rungs) for (const q of r.points) {
      lo = Math.min(lo, q[1]);
      hi = Math.max(hi, q[1]);
    }
    const logY = lo > 0 && hi / lo > 100;
    const series: unknown[] = s.rungs.map((r) => ({
      name: `rung ${r.rung} (fidelity ${fmt(r.fidelity, 4)}, ${r.trials} trials)`,
      type: 'scatter',
      large: true,
      largeThreshold: 500,
      symbol: 'rect',
      symbolSize: 3,
      itemStyle: { color: rungColour(r.rung, n) },
      data: r.points,
    }));
    const failY = Number.isFinite(hi) ? hi : 1;
    series.push({
      name: `failed / timed out (${s.failedTotal})`,
      type: 'scatter',
      symbol: 'triangle',
      symbolSize: 7,
      large: true,
      largeThreshold: 500,
      itemStyle: { color: FAIL },
      data: s.failed.map((f) => [f[0], failY, f[1], f[2]]),
    });
    const points = s.rungs.reduce((a, r) => a + r.points.length, 0) + s.failed.length;
    draw(
      this.chart,
      {
        grid: { left: 70, right: 20, top: 40, bottom: 45 },
        legend: { type: 'scroll', top: 0 },
        tooltip: {
          trigger: 'item',
          formatter: (x: { data: Array<number | string> }) =>
            x.data.length > 3 ? `trial ${x.data[2]}: ${x.data[3]} at ${duration(x.data[0] as number)}` : `trial ${x.data[2]}: ${fmt(x.data[1] as number, 6)} at ${duration(x.data[0] as number)}`,
        },
        xAxis: { type: 'value', name: 'finished at (s)', nameLocation: 'middle', nameGap: 28 },
        yAxis: { type: logY ? 'log' : 'value', name: 'fitness', scale: true },
        series,
      },
      points,
    );
    this.chart.dataset.trials = String(s.trials);
    this.chart.dataset.failed = String(s.failedTotal);
  }
}
