/** Dashboard only: budget progress, trials in flight, and the workers with their hosts. */
import type { Payload } from '../payload.js';
import { duration, fill, fmt, h } from './dom.js';

export class LiveView {
  private readonly budget: HTMLElement;
  private readonly flight: HTMLElement;
  private readonly workers: HTMLElement;

  constructor(root: HTMLElement) {
    this.budget = h('div', { 'data-testid': 'budget' });
    this.flight = h('div', { class: 'scroll', 'data-testid': 'in-flight' });
    this.workers = h('div', { class: 'scroll', 'data-testid': 'workers' });
    root.append(this.budget, h('div', { class: 'split' }, this.flight, this.workers));
  }

  render(p: Payload): void {
    const l = p.live;
    const b = l.budget;
    fill(
      this.budget,
      b === null
        ? 'No budget recorded.'
        : h('div', {}, h('progress', { max: 1, value: b.fraction }), ` ${fmt(b.done, 4)} of ${fmt(b.total, 4)} ${b.kind} (${fmt(b.fraction * 100, 3)}%)`),
    );
    fill(
      this.flight,
      h('h3', {}, `In flight: ${l.running} running, ${l.queued} queued`),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['trial', 'status', 'fidelity', 'worker', 'since'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...l.inFlight.map((t) => h('tr', {}, h('td', {}, String(t.trialId)), h('td', {}, t.status), h('td', {}, fmt(t.fidelity)), h('td', {}, t.worker), h('td', {}, duration(t.since))))),
      ),
    );
    fill(
      this.workers,
      h('h3', {}, `Workers: ${l.workers.length} on ${new Set(l.workers.map((w) => w.host)).size} host(s)`),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...['worker', 'host', 'done', 'busy', 'last seen'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...l.workers.map((w) => h('tr', {}, h('td', {}, w.label), h('td', {}, w.host), h('td', {}, String(w.done)), h('td', {}, w.busy ? 'yes' : 'no'), h('td', {}, duration(w.lastSeen))))),
      ),
    );
  }
}
