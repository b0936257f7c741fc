/**
 * The trials table: every trial, sortable by any column (click a header), filterable by status,
 * PAGE rows per page, with the error text of failed trials. Cells are text nodes only.
 */
import type { TrialRow } from '../payload.js';
import { fill, fmt, h } from './dom.js';
import { TRIAL_STATUSES } from '../../protocol/journal-versions.js';

const PAGE = 50;
/** Column of the worker (an index into the payload's worker names until stored). */
const WORKER = 9;

export class TableView {
  private rows = new Map<number, TrialRow>();
  private errors = new Map<number, string>();
  private columns: string[] = [];
  private sortCol = 0;
  private sortDir = 1;
  private page = 0;
  private status = '';
  private readonly table: HTMLTableElement;
  private readonly pager: HTMLElement;
  private readonly filter: HTMLSelectElement;

  constructor(root: HTMLElement) {
    this.filter = h('select', { 'data-testid': 'status-filter' });
    for (const s of ['', ...TRIAL_STATUSES]) this.filter.append(h('option', { value: s }, s === '' ? 'all statuses' : s));
    this.filter.addEventListener('change', () => {
      this.status = this.filter.value;
      this.page = 0;
      this.redraw();
    });
    this.table = h('table', { class: 'trials', 'data-testid': 'trials-table' });
    this.pager = h('div', { class: 'pager' });
    root.append(h('div', { class: 'controls' }, this.filter), h('div', { class: 'scroll' }, this.table), this.pager);
  }

  /** `delta`: merge rows into the ones held (live); otherwise replace them. */
  update(columns: string[], rows: TrialRow[], errors: Record<string, string>, workers: string[], delta: boolean): void {
    if (!delta) {
      this.rows.clear();
      this.errors.clear();
    }
    this.columns = columns;
    for (const r of rows) {
      const w = r[WORKER];
      if (typeof w === 'number') r[WORKER] = workers[w] ?? `worker ${w}`;
      this.rows.set(r[0] as number, r);
    }
    for (const [k, v] of Object.entries(errors)) this.errors.set(Number(k), v);
    this.redraw();
  }

  private redraw(): void {
    const all = [...this.rows.values()].filter((r) => this.status === '' || r[1] === this.status);
    const c = this.sortCol;
    const d = this.sortDir;
    all.sort((a, b) => compare(a[c], b[c]) * d || ((a[0] as number) - (b[0] as number)) * d);
    const pages = Math.max(1, Math.ceil(all.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    const shown = all.slice(this.page * PAGE, (this.page + 1) * PAGE);
    const head = h('tr', {});
    [...this.columns, 'error'].forEach((name, i) => {
      const th = h('th', { 'data-col': i, class: i === c ? (d > 0 ? 'asc' : 'desc') : undefined }, name);
      if (i < this.columns.length) th.addEventListener('click', () => this.sortBy(i));
      head.append(th);
    });
    const body = shown.map((r) => {
      const tr = h('tr', { class: `st-${String(r[1])}` });
      for (const v of r) tr.append(h('td', {}, typeof v === 'number' ? fmt(v, 6) : v === null ? '' : String(v)));
      tr.append(h('td', { class: 'err' }, this.errors.get(r[0] as number) ?? ''));
      return tr;
    });
    fill(this.table, h('thead', {}, head), h('tbody', {}, ...body));
    this.table.dataset.totalRows = String(this.rows.size);
    this.table.dataset.filteredRows = String(all.length);
    const prev = h('button', { type: 'button', disabled: this.page === 0 }, '‹ prev');
    const next = h('button', { type: 'button', disabled: this.page >= pages - 1, 'data-testid': 'next-page' }, 'next ›');
    prev.addEventListener('click', () => this.go(this.page - 1));
    next.addEventListener('click', () => this.go(this.page + 1));
    fill(this.pager, prev, ` page ${this.page + 1} of ${pages} (${all.length} trials) `, next);
  }

  private sortBy(col: number): void {
    this.sortDir = this.sortCol === col ? -this.sortDir : 1;
    this.sortCol = col;
    this.redraw();
  }

  private go(page: number): void {
    this.page = Math.max(0, page);
    this.redraw();
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}
