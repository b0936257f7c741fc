/** The header (run id, status, trials done) and the run's options, seed, budget and why it ended. */
import type { Payload } from '../payload.js';
import { fill, h } from './dom.js';

export function trialsDone(p: Payload): number {
  const c = p.info.counts;
  return (c.trials ?? 0) - (c.queued ?? 0) - (c.running ?? 0);
}

export class InfoView {
  private readonly title: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly done: HTMLElement;
  private readonly options: HTMLElement;

  constructor(header: HTMLElement, optionsRoot: HTMLElement) {
    this.title = h('h1', {});
    this.done = h('span', { 'data-testid': 'trials-done' }, '0');
    this.summary = h('p', { class: 'summary' });
    header.append(this.title, h('p', { class: 'big' }, this.done, ' trials finished'), this.summary);
    this.options = h('div', { class: 'scroll' });
    optionsRoot.append(this.options);
  }

  render(p: Payload, live: boolean): void {
    const i = p.info;
    fill(this.title, `dehb ${live ? 'dashboard' : 'report'}: ${i.runId}`);
    this.done.textContent = String(trialsDone(p));
    const counts = Object.entries(i.counts).filter(([k]) => k !== 'trials').map(([k, v]) => `${v} ${k}`).join(', ');
    const ended = i.finished === null ? (live ? 'running (or stopped without saying why)' : 'no "finished" entry (running, killed or interrupted)') : `ended: ${i.finished}`;
    fill(
      this.summary,
      `${i.source} · ${i.counts.trials ?? 0} trials (${counts || 'none'}) · seed ${i.seed ?? '?'} · ${ended}` +
        (i.startedAt === null ? '' : ` · started ${new Date(i.startedAt).toISOString()}`) +
        ` · ${live ? 'updated' : 'generated'} ${new Date(i.generatedAt).toISOString()}`,
    );
    const kv: Array<[string, unknown]> = [
      ['why it ended', i.finished ?? '(not recorded)'],
      ['seed', i.seed],
      ['budget', i.budget],
      ['fidelity ladder', i.fidelities],
      ['options', i.options],
      ['run meta', i.meta],
    ];
    fill(this.options, h('table', { class: 'kv', 'data-testid': 'run-options' }, h('tbody', {}, ...kv.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, h('pre', {}, JSON.stringify(v, null, 1))))))));
  }
}
