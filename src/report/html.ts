/**
 * The self-contained report page: the page bundle (dist/report/page.js and page.css, built by
 * scripts/build-report.mjs) and the payload inline in one HTML file that opens from disk, offline,
 * and fetches nothing. The payload travels gzip'd and base64-encoded (the page inflates it with
 * the browser's DecompressionStream), so nothing from the journal is ever parsed as HTML: base64
 * has no `<`, and the page puts journal strings into the DOM as text only; the Content-Security-Policy
 * lets only the bundle itself (by its sha256) run, so even injected markup could not run a script. The dashboard serves
 * the same page without a payload; it gets its data from the event stream.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DehbError } from '../errors.js';
import type { Payload } from './payload.js';

let assets: { js: string; css: string; hash: string } | null = null;

function assetPath(name: string): string {
  const candidates = [new URL(`./${name}`, import.meta.url), new URL(`../../dist/report/${name}`, import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new DehbError('E_USAGE', `the report page bundle ${name} is missing (looked in ${candidates.join(', ')}); run \`npm run build\``);
  return found;
}

export function pageAssets(): { js: string; css: string; hash: string } {
  if (assets === null) {
    const js = readFileSync(assetPath('page.js'), 'utf8');
    if (/<\/script/i.test(js)) throw new DehbError('E_USAGE', 'the report page bundle contains "</script" and cannot be inlined; rebuild it');
    assets = { js, css: readFileSync(assetPath('page.css'), 'utf8'), hash: createHash('sha256').update(js, 'utf8').digest('base64') };
  }
  return assets;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function encodePayload(payload: Payload): string {
  return gzipSync(Buffer.from(JSON.stringify(payload), 'utf8'), { level: 6 }).toString('base64');
}

/** `payload` null: a live page (the dashboard), which connects to its event stream. */
export function renderPage(opts: { title: string; payload: Payload | null }): string {
  const { js, css, hash } = pageAssets();
  const data = opts.payload === null ? '' : encodePayload(opts.payload);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-${hash}'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">`,
    `<title>${escapeHtml(opts.title)}</title>`,
    `<style>${css}</style>`,
    '</head><body>',
    `<script id="dehb-data" type="application/octet-stream" data-mode="${opts.payload === null ? 'live' : 'report'}">${data}</script>`,
    `<script>${js}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
