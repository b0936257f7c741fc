/**
 * Building the page's DOM. Every string from the run (parameter names and values, errors, worker
 * names) goes in as a text node or an attribute value, never as markup: there is no innerHTML here.
 */

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function fmt(n: number | null | undefined, digits = 5): string {
  if (n === null || n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(digits)));
}

export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined) return '';
  if (s < 60) return `${fmt(s, 3)} s`;
  if (s < 3600) return `${fmt(s / 60, 3)} min`;
  return `${fmt(s / 3600, 3)} h`;
}

/** A titled section with a chart container; returns the container. */
export function section(root: Element, id: string, title: string, note?: string): HTMLElement {
  const body = h('div', { class: 'body' });
  root.append(h('section', { id }, h('h2', {}, title), note === undefined ? null : h('p', { class: 'note' }, note), body));
  return body;
}
