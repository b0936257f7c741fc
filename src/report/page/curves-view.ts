/** Learning curves from intermediate values (ctx.report / DEHB_REPORT), coloured by fidelity. */
import type { Payload } from '../payload.js';
import { draw, rungColour } from './charts.js';
import { fill, h } from './dom.js';

export class CurvesView {
  private readonly chart: HTMLElement;
  private readonly note: HTMLElement;

  constructor(root: HTMLElement) {
    this.note = h('p', { class: 'note' });
    this.chart = h('div', { class: 'chart', 'data-testid': 'chart-curves' });
    root.append(this.note, this.chart);
  }

  render(p: Payload): void {
    const c = p.curves;
    const fids = p.info.fidelities;
    const rungOf = (f: number): number => {
      const i = fids.findIndex((x) => Math.abs(x - f) <= 1e-9 * Math.max(1, Math.abs(f)));
      return i < 0 ? fids.length - 1 : i;
    };
    fill(
      this.note,
      c.trialsWithReports === 0
        ? 'No trial reported intermediate values (call ctx.report(step, value) in a JS objective, or print DEHB_REPORT lines from a command).'
        : `${c.trialsWithReports} trial(s) reported intermediate values; ${c.curves.length} drawn (the best half, the rest sampled evenly).`,
    );
    this.chart.hidden = c.trialsWithReports === 0;
    // one series per rung, curves separated by gaps: far cheaper to draw than a series per curve
    const byRung = new Map<number, Array<[number, number] | '-'>>();
    for (const k of c.curves) {
      const rung = rungOf(k.fidelity);
      const data = byRung.get(rung) ?? [];
      if (data.length > 0) data.push('-');
      data.push(...k.points);
      byRung.set(rung, data);
    }
    draw(
      this.chart,
      {
        grid: { left: 70, right: 20, top: 30, bottom: 40 },
        legend: { top: 0 },
        tooltip: { trigger: 'item', formatter: (x: { seriesName: string; value: number[] }) => `${x.seriesName}: step ${x.value[0]} → ${x.value[1]}` },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26 },
        yAxis: { type: 'value', name: 'reported value', scale: true },
        series: [...byRung.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([rung, data]) => ({
            name: `rung ${rung} (fidelity ${fids[rung] ?? '?'})`,
            type: 'line',
            showSymbol: false,
            connectNulls: false,
            data,
            itemStyle: { color: rungColour(rung, fids.length) },
            lineStyle: { width: 1, opacity: 0.7, color: rungColour(rung, fids.length) },
          })),
      },
      c.curves.reduce((a, k) => a + k.points.length, 0),
    );
    this.chart.dataset.trials = String(c.trialsWithReports);
  }
}
