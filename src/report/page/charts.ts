/**
 * ECharts, tree-shaken to the chart kinds the page uses (line, scatter, bar, parallel, custom)
 * and the canvas renderer. One chart instance per container, reused across live updates.
 */
import * as echarts from 'echarts/core';
import { BarChart, CustomChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, ParallelComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, ScatterChart, BarChart, ParallelChart, CustomChart, GridComponent, TooltipComponent, LegendComponent, ParallelComponent, DataZoomComponent, VisualMapComponent, CanvasRenderer]);

export { echarts };
export type Option = echarts.EChartsCoreOption;

const charts = new WeakMap<HTMLElement, echarts.ECharts>();

/** Draws `option` into `el` (replacing what was there) and records how many points it drew. */
export function draw(el: HTMLElement, option: Option, points: number): void {
  let chart = charts.get(el);
  if (chart === undefined) {
    chart = echarts.init(el, null, { renderer: 'canvas' });
    charts.set(el, chart);
    window.addEventListener('resize', () => chart?.resize());
  }
  chart.setOption({ animation: false, ...option }, { notMerge: true });
  el.dataset.points = String(points);
  el.dataset.rendered = 'true';
}

export const RUNG_COLOURS = ['#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b', '#041f4a'];
export const FAIL = '#d62728';

export function rungColour(rung: number, count: number): string {
  const i = count <= 1 ? RUNG_COLOURS.length - 1 : Math.round((rung / (count - 1)) * (RUNG_COLOURS.length - 1));
  return RUNG_COLOURS[Math.max(0, Math.min(RUNG_COLOURS.length - 1, i))] as string;
}
