/// <reference lib="dom" />
// dehb-test: serial
/**
 * `dehb report` in a real browser (Debian chromium via puppeteer-core): the file opens offline
 * from disk, fetches nothing, draws every chart with data covering every trial, has a sortable,
 * paginated table, and renders hostile strings from the journal (parameter names, values, error
 * messages) as text. DEHB_SCREENSHOTS=DIR saves docs screenshots.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { FIXTURE_SPACE, writeFixtureRun } from '../../bench/report-fixture.js';
import { chartStats, launchBrowser, openPage, type TestBrowser } from './browser-helpers.js';

const N = 400;
const EVIL_ERROR = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';
const EVIL_NAME = '<b onmouseover="window.__pwned=4">bold</b>';
const EVIL_VALUE = '<img src=x onerror="window.__pwned=3">';
let dir: string;
let browser: TestBrowser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-report-browser-'));
  await writeFixtureRun(join(dir, 'run'), { trials: N, lanes: 4, errorMessage: EVIL_ERROR, space: { ...FIXTURE_SPACE, [EVIL_NAME]: { type: 'categorical', choices: [EVIL_VALUE, 'plain'] } } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

test('dehb report writes one self-contained file that draws every view for every trial, offline', { timeout: 120_000 }, async () => {
  const out = join(dir, 'report.html');
  const r = await runCli(['report', join(dir, 'run'), '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`${N} trials`));
  const html = await readFile(out, 'utf8');
  assert.doesNotMatch(html, /<(link|img|iframe)\b|\bsrc=["']?https?:/i, 'no external resources');
  assert.ok(!html.includes(EVIL_ERROR) && !html.includes(EVIL_VALUE), 'journal strings are not in the markup');

  const { page, errors, requests } = await openPage(browser);
  await page.setOfflineMode(true);
  await page.goto(`file://${out}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  assert.deepEqual(errors, []);
  assert.deepEqual(requests.filter((u) => u !== `file://${out}`), [], 'the page fetched nothing');

  const charts = await chartStats(page);
  for (const name of ['trajectory', 'scatter', 'hyperband', 'timeline', 'queue', 'parallel', 'importance', 'curves']) {
    const c = charts[`chart-${name}`];
    assert.ok(c !== undefined && c.rendered && c.canvas && c.points > 0, `${name}: ${JSON.stringify(c)}`);
  }
  for (const name of ['trajectory', 'scatter', 'hyperband', 'timeline', 'curves']) assert.equal(charts[`chart-${name}`]?.trials, N, name);
  const failed = await page.$eval('[data-testid="chart-scatter"]', (el) => Number((el as HTMLElement).dataset.failed));
  assert.ok(failed > 0);
  assert.equal(charts['chart-parallel']?.trials, N - failed);
  assert.equal(await page.$eval('[data-testid="trials-done"]', (el) => el.textContent), String(N));
  assert.equal(await page.$eval('[data-testid="trials-table"]', (el) => (el as HTMLElement).dataset.totalRows), String(N));

  // hostile strings show as text and ran nothing
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  const text = await page.evaluate(() => document.body.innerText);
  assert.ok(text.includes(EVIL_NAME), 'the parameter name appears literally');
  assert.equal(await page.$$eval('img, b', (els) => els.length), 0, 'no element was created from journal strings');
  await page.select('[data-testid="status-filter"]', 'failed');
  const errText = await page.$eval('table.trials tbody td.err', (el) => el.textContent);
  assert.equal(errText, `Error: ${EVIL_ERROR}`);
  assert.equal(await page.$eval('[data-testid="trials-table"]', (el) => (el as HTMLElement).dataset.filteredRows), String(failed - Math.floor((N + 97 - 41 - 1) / 97)));
  await page.select('[data-testid="status-filter"]', '');

  // sortable by fitness (ascending first), paginated
  await page.click('table.trials th[data-col="2"]');
  const firstFitness = await page.$eval('table.trials tbody tr td:nth-child(3)', (el) => Number(el.textContent));
  const best = await page.$eval('[data-testid="incumbent"] p', (el) => Number(/fitness ([\d.e-]+)/.exec(el.textContent ?? '')?.[1]));
  assert.ok(Math.abs(firstFitness - best) <= 1e-5 * Math.abs(best), `${firstFitness} vs ${best}`);
  assert.match(await page.$eval('.pager', (el) => el.textContent ?? ''), /page 1 of 8/);
  await page.click('[data-testid="next-page"]');
  assert.match(await page.$eval('.pager', (el) => el.textContent ?? ''), /page 2 of 8/);
  assert.match(text, /ended: budget/);

  await page.close();
});

test('a 5000-trial report draws every view from aggregated data (the docs screenshot)', { timeout: 120_000 }, async () => {
  const n = 5000;
  await writeFixtureRun(join(dir, 'big'), { trials: n, lanes: 8 });
  const out = join(dir, 'big.html');
  const r = await runCli(['report', join(dir, 'big'), '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const { page, errors } = await openPage(browser);
  await page.goto(`file://${out}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  assert.deepEqual(errors, []);
  const charts = await chartStats(page);
  for (const name of ['trajectory', 'scatter', 'hyperband', 'timeline', 'curves']) assert.equal(charts[`chart-${name}`]?.trials, n, name);
  assert.ok((charts['chart-scatter']?.points ?? 0) < n, 'the scatter is decimated');
  assert.equal(await page.$eval('[data-testid="trials-table"]', (el) => (el as HTMLElement).dataset.totalRows), String(n));
  if (process.env.DEHB_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.DEHB_SCREENSHOTS, 'report.png'), fullPage: true });
  await page.close();
});
