/**
 * The worker/GPU timeline: one lane per worker or device, a block per evaluation (blocks closer
 * than a pixel merged by the builder; a red tint for failed ones), so idle gaps show as gaps; and
 * the number of trials waiting in the queue over time.
 */
import type { Payload } from '../payload.js';
import { draw, echarts, FAIL } from './charts.js';
import { duration, fill, fmt, h } from './dom.js';

export class TimelineView {
  private readonly chart: HTMLElement;
  private readonly queue: HTMLElement;
  private readonly stats: HTMLElement;

  constructor(root: HTMLElement) {
    this.stats = h('p', { class: 'note' });
    this.chart = h('div', { class: 'chart', 'data-testid': 'chart-timeline' });
    this.queue = h('div', { class: 'chart short', 'data-testid': 'chart-queue' });
    root.append(this.stats, this.chart, this.queue);
  }

  render(p: Payload): void {
    const t = p.timeline;
    let end = t.queue.length > 0 ? (t.queue[t.queue.length - 1] as [number, number])[0] : 0;
    for (const b of t.blocks) end = Math.max(end, b[2]);
    this.chart.style.height = `${Math.max(160, Math.min(900, 60 + t.lanes.length * 22))}px`;
    draw(
      this.chart,
      {
        grid: { left: 150, right: 20, top: 10, bottom: 40 },
        tooltip: { formatter: (x: { value: number[] }) => `${t.lanes[x.value[0] as number] ?? ''}: ${x.value[3]} trial(s), ${duration((x.value[2] as number) - (x.value[1] as number))}${x.value[4] ? `, ${x.value[4]} failed` : ''}` },
        xAxis: { type: 'value', name: 'time (s)', nameLocation: 'middle', nameGap: 26, min: 0, max: end },
        yAxis: { type: 'category', data: t.lanes, inverse: true },
        dataZoom: [{ type: 'inside', filterMode: 'weakFilter' }],
        series: [
          {
            type: 'custom',
            encode: { x: [1, 2], y: 0 },
            data: t.blocks,
            renderItem: (params: { coordSys: { x: number; y: number; width: number; height: number } }, api: { value: (i: number) => number; coord: (v: number[]) => number[]; size: (v: number[]) => number[] }) => {
              const lane = api.value(0);
              const a = api.coord([api.value(1), lane]);
              const b = api.coord([api.value(2), lane]);
              const hgt = (api.size([0, 1])[1] as number) * 0.7;
              const failed = api.value(4) / Math.max(1, api.value(3));
              return {
                type: 'rect',
                shape: echarts.graphic.clipRectByRect(
                  { x: a[0] as number, y: (a[1] as number) - hgt / 2, width: Math.max(1, (b[0] as number) - (a[0] as number)), height: hgt },
                  params.coordSys,
                ) ?? { x: 0, y: 0, width: 0, height: 0 },
                style: { fill: failed > 0.5 ? FAIL : failed > 0.2 ? '#f4a582' : '#4292c6' },
              };
            },
          },
        ],
      },
      t.blocks.length,
    );
    this.chart.dataset.trials = String(t.trials);
    this.chart.dataset.lanes = String(t.lanes.length);
    draw(
      this.queue,
      {
        grid: { left: 150, right: 20, top: 25, bottom: 30 },
        title: undefined,
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', min: 0, max: end },
        yAxis: { type: 'value', name: 'queued trials', minInterval: 1 },
        series: [{ type: 'line', step: 'end', showSymbol: false, areaStyle: { opacity: 0.3 }, data: t.queue }],
      },
      t.queue.length,
    );
    fill(
      this.stats,
      `${t.lanes.length} lane(s), ${t.trials} evaluations; busy ${t.busyFraction === null ? 'n/a' : `${fmt(t.busyFraction * 100, 3)}%`} of lane time; ` +
        `queue wait (ask to start) mean ${duration(t.wait.mean) || 'n/a'}, longest ${duration(t.wait.max) || 'n/a'}.`,
    );
  }
}
