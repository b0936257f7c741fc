/// <reference lib="dom" />
/**
 * `npm run bench:report`: the report and dashboard at scale. Writes a synthetic 50,000-trial run
 * (bench/report-fixture.ts), then prints: the time to build the HTML, its size, the time headless
 * Chromium takes from navigation to every chart drawn, and the dashboard's update latency — from
 * appending a result to the journal (FileJournal.append, as a run does) until the open page's
 * `trials-done` shows it — for a small and the 50k run. Last line: one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeReport } from '../src/report/report.js';
import { startDashboard } from '../src/report/server.js';
import { FileJournal } from '../src/study/file-journal.js';
import type { Job } from '../src/dehb/types.js';
import { launchBrowser, openPage, type TestBrowser } from '../test/integration/browser-helpers.js';
import { writeFixtureRun } from './report-fixture.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '50000' }, updates: { type: 'string', default: '10' } } });
const N = Number(values.trials);
const UPDATES = Number(values.updates);

async function renderTime(b: TestBrowser, file: string): Promise<{ loadMs: number; renderMs: number }> {
  const { page, errors } = await openPage(b);
  const t = performance.now();
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  const loadMs = performance.now() - t;
  const renderMs = Number(await page.evaluate(() => document.body.dataset.renderMs));
  if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
  await page.close();
  return { loadMs, renderMs };
}

async function latency(b: TestBrowser, dir: string, startId: number): Promise<{ median: number; max: number }> {
  const dash = await startDashboard({ source: { dir }, port: 0 });
  const journal = await FileJournal.open(join(dir, 'journal.jsonl'), { create: false });
  await journal.lastSeq(); // index the file first: a run's writer already has, and only the dashboard is timed
  const { page } = await openPage(b);
  try {
    await page.goto(dash.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
    const read = (): Promise<number> => page.$eval('[data-testid="trials-done"]', (el) => Number(el.textContent));
    let done = await read();
    const times: number[] = [];
    for (let i = 0; i < UPDATES; i++) {
      const trialId = startId + i;
      const job: Job = { trialId, configId: 900000 + i, bracketId: -1, rung: 0, fidelity: 1, parentId: -1, vector: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], config: { lr: 0.001, units: 64, act: 'relu', batch: 64, opt: 'adam' }, source: 'manual' };
      const t = performance.now();
      await journal.append([
        { type: 'asked', trialId, job },
        { type: 'told', trialId, result: { status: 'ok', fitness: 1 }, worker: { host: 'bench-host', id: 'late' }, durationMs: 1 },
      ]);
      done++;
      await page.waitForFunction((want) => Number(document.querySelector('[data-testid="trials-done"]')?.textContent) >= want, { timeout: 30_000, polling: 'raf' }, done);
      times.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 200));
    }
    times.sort((a, b) => a - b);
    return { median: times[Math.floor(times.length / 2)] as number, max: times[times.length - 1] as number };
  } finally {
    await page.close();
    await journal.close();
    await dash.close();
  }
}

const root = await mkdtemp(join(tmpdir(), 'dehb-bench-report-'));
const b = await launchBrowser();
try {
  const big = join(root, 'big');
  let t = performance.now();
  await writeFixtureRun(big, { trials: N, unfinished: true });
  const genMs = performance.now() - t;
  t = performance.now();
  const rep = await writeReport({ dir: big }, join(root, 'big.html'));
  const buildMs = performance.now() - t;
  const render = await renderTime(b, rep.path);
  const small = join(root, 'small');
  await writeFixtureRun(small, { trials: 500, unfinished: true });
  const latSmall = await latency(b, small, 500);
  const latBig = await latency(b, big, N);
  const mib = (n: number): string => (n / 1048576).toFixed(2);
  console.log(`fixture: ${N} trials written in ${(genMs / 1000).toFixed(1)} s`);
  console.log(`report: built in ${(buildMs / 1000).toFixed(2)} s, ${mib(rep.bytes)} MiB`);
  console.log(`chromium: navigation to all charts drawn ${(render.loadMs / 1000).toFixed(2)} s (page render ${render.renderMs} ms)`);
  console.log(`dashboard update latency (append -> trials-done): 500 trials median ${latSmall.median.toFixed(0)} ms, max ${latSmall.max.toFixed(0)} ms; ${N} trials median ${latBig.median.toFixed(0)} ms, max ${latBig.max.toFixed(0)} ms`);
  console.log(JSON.stringify({ trials: N, reportBytes: rep.bytes, buildMs: Math.round(buildMs), loadMs: Math.round(render.loadMs), renderMs: render.renderMs, latencySmallMs: latSmall, latencyBigMs: latBig }));
} finally {
  await b.close();
  await rm(root, { recursive: true, force: true });
}
