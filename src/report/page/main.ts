/**
 * The report page: reads the inline payload (gzip'd JSON in base64, inflated with the browser's
 * DecompressionStream; no network) or, on the dashboard, a server-sent event stream of payloads,
 * and renders every view. `document.body.dataset.ready` is set after the first render and
 * `data-render-ms` says how long it took (the browser tests and bench read both).
 */
import type { Payload } from '../payload.js';
import { h, section } from './dom.js';
import { CurvesView } from './curves-view.js';
import { HyperbandView } from './hyperband-view.js';
import { ImportanceView } from './importance-view.js';
import { InfoView } from './info-view.js';
import { LiveView } from './live-view.js';
import { ParallelView } from './parallel-view.js';
import { ScatterView } from './scatter-view.js';
import { TableView } from './table-view.js';
import { TimelineView } from './timeline-view.js';
import { TrajectoryView } from './trajectory-view.js';

async function inflate(base64: string): Promise<Payload> {
  const bin = atob(base64.trim());
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text()) as Payload;
}

function layout(live: boolean) {
  const root = h('main', {});
  const header = h('header', {});
  root.append(header);
  const liveRoot = live ? section(root, 'live', 'Live: budget, trials in flight, workers') : null;
  const views = {
    trajectory: new TrajectoryView(section(root, 'trajectory', 'Incumbent trajectory')),
    scatter: new ScatterView(section(root, 'trials', 'Every trial: fitness over time, by rung')),
    hyperband: new HyperbandView(section(root, 'hyperband', 'Hyperband: brackets and rungs')),
    timeline: new TimelineView(section(root, 'timeline', 'Workers and devices over time')),
    parallel: new ParallelView(section(root, 'parallel', 'Configurations vs fitness (parallel coordinates)', 'Highest-fidelity trials in colour (best dark blue), lower fidelities faded grey. Drag on an axis to filter.')),
    importance: new ImportanceView(section(root, 'importance', 'Parameter importance')),
    curves: new CurvesView(section(root, 'curves', 'Learning curves (intermediate values)')),
    table: new TableView(section(root, 'table', 'All trials')),
  };
  const info = new InfoView(header, section(root, 'options', 'Run options, seed, budget and why it ended'));
  const liveView = liveRoot === null ? null : new LiveView(liveRoot);
  document.body.append(root);
  const last = new Map<string, string>();
  const timings: Record<string, number> = {};
  /** Draws a view unless its part of the payload is the same as last time (live updates). */
  const step = (name: string, part: unknown, fn: () => void): void => {
    const key = JSON.stringify(part);
    if (last.get(name) === key) return;
    last.set(name, key);
    const t = performance.now();
    fn();
    timings[name] = Math.round(performance.now() - t);
  };
  /** Header, live panel and table first (cheap, so counters update at once), charts in the next task. */
  return (p: Payload): void => {
    const t = performance.now();
    info.render(p, live);
    liveView?.render(p);
    views.table.update(p.columns, p.rows, p.errors, p.workers, p.delta);
    timings.table = Math.round(performance.now() - t);
    setTimeout(() => {
      step('trajectory', p.trajectory, () => views.trajectory.render(p));
      step('scatter', p.scatter, () => views.scatter.render(p));
      step('hyperband', p.hyperband, () => views.hyperband.render(p));
      step('timeline', p.timeline, () => views.timeline.render(p));
      step('parallel', p.parallel, () => views.parallel.render(p));
      step('importance', p.importance, () => views.importance.render(p));
      step('curves', p.curves, () => views.curves.render(p));
      document.body.dataset.renderMs = String(Math.round(performance.now() - t));
      document.body.dataset.viewMs = JSON.stringify(timings);
      document.body.dataset.ready = 'true';
      document.body.dataset.updates = String(Number(document.body.dataset.updates ?? '0') + 1);
    }, 0);
  };
}

function liveStream(render: (p: Payload) => void): void {
  const status = h('p', { class: 'conn', 'data-testid': 'connection' }, 'connecting…');
  document.body.prepend(status);
  const es = new EventSource(`events${location.search}`);
  let pending: Payload | null = null;
  es.addEventListener('payload', (ev) => {
    const p = JSON.parse((ev as MessageEvent<string>).data) as Payload;
    // a delta's rows add to the held ones; keep them when frames coalesce
    if (pending !== null && p.delta) p.rows = [...pending.rows, ...p.rows];
    if (pending !== null && p.delta) p.errors = { ...pending.errors, ...p.errors };
    if (pending !== null && !pending.delta) p.delta = false;
    const first = pending === null;
    pending = p;
    if (first) {
      setTimeout(() => {
        const q = pending as Payload;
        pending = null;
        render(q);
      }, 0);
    }
  });
  es.addEventListener('open', () => (status.textContent = 'live'));
  es.addEventListener('bye', () => {
    es.close();
    status.textContent = 'the dashboard stopped (the run ended?); this page keeps its last data';
  });
  es.addEventListener('error', () => (status.textContent = 'disconnected; retrying…'));
}

async function start(): Promise<void> {
  const data = document.getElementById('dehb-data');
  const live = data?.dataset.mode === 'live';
  const render = layout(live);
  if (live) liveStream(render);
  else render(await inflate(data?.textContent ?? ''));
}

start().catch((err: unknown) => {
  document.body.append(h('pre', { class: 'fatal', 'data-testid': 'fatal' }, `The report could not be shown: ${String(err)}`));
});
