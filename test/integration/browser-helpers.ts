/// <reference lib="dom" />
/**
 * Headless Debian chromium for the report and dashboard tests, driven by puppeteer-core (no
 * browser download). A missing chromium is a test failure that says how to install it, never a
 * skip. Each browser gets a fresh profile directory, removed on close.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.DEHB_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is not installed at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set DEHB_CHROMIUM to a Chromium binary)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'dehb-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    protocolTimeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Opens a page at 1280 px wide that records console errors and every network request it makes. */
export async function openPage(b: TestBrowser): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await b.browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('request', (r) => requests.push(r.url()));
  return { page, errors, requests };
}

/** The data attributes every chart container carries once drawn. */
export async function chartStats(page: Page): Promise<Record<string, { points: number; trials: number | null; rendered: boolean; canvas: boolean }>> {
  return page.$$eval('[data-testid^="chart-"]', (els) =>
    Object.fromEntries(
      els.map((el) => {
        const d = (el as HTMLElement).dataset;
        return [el.getAttribute('data-testid') as string, { points: Number(d.points ?? 0), trials: d.trials === undefined ? null : Number(d.trials), rendered: d.rendered === 'true', canvas: el.querySelector('canvas') !== null }];
      }),
    ),
  );
}
