/// <reference lib="dom" />
// dehb-test: serial
/**
 * `dehb dashboard` and `dehb run --dashboard` in a real browser: a page loaded once shows
 * trials-done growing while a real run goes on (server-sent events, no reload); bound beyond
 * localhost (0.0.0.0, reached through 127.0.0.1 here) every request without the right token is
 * refused, the event stream included; bound to loopback, a foreign Host header is refused;
 * `dehb optimize --dashboard` serves the study. DEHB_SCREENSHOTS=DIR saves a docs screenshot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCli, type CliResult } from '../helpers/cli.js';
import { FIXTURE_SPACE, writeFixtureRun } from '../../bench/report-fixture.js';
import { launchBrowser, openPage, type TestBrowser } from './browser-helpers.js';

let dir: string;
let browser: TestBrowser;
const children: ChildProcess[] = [];

// Trial t finishes only once the number in $DEHB_TEST_ALLOW exceeds t, so the test decides when
// results appear (no race with a loaded machine); without the variable it just takes a moment.
const OBJECTIVE = `import { readFileSync } from 'node:fs';
export async function objective(config, fidelity, ctx) {
  const x = (Math.log10(config.lr) + 2.5) ** 2 + (config.act === 'gelu' ? 0 : 0.1);
  for (let s = 1; s <= 3; s++) ctx?.report?.(s, x + 1 / s);
  const allow = process.env.DEHB_TEST_ALLOW;
  while (allow && Number(readFileSync(allow, 'utf8')) <= ctx.trialId) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 20 + 5 * fidelity));
  return { fitness: x + 1 / fidelity, cost: fidelity };
}
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-dashboard-browser-'));
  await writeFile(join(dir, 'objective.mjs'), OBJECTIVE);
  await writeFile(join(dir, 'space.json'), JSON.stringify({ lr: FIXTURE_SPACE.lr, act: FIXTURE_SPACE.act }));
  browser = await launchBrowser();
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts the CLI and resolves with the dashboard URL it prints on stderr. */
async function startWithUrl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: URL; done: Promise<CliResult> }> {
  const { child, done } = startCli(args, { env });
  children.push(child);
  let err = '';
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dashboard URL within 60 s; stderr: ${err}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /dashboard: (http:\/\/\S+)/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(new URL(m[1] as string));
      }
    });
    void done.then((r) => reject(new Error(`exited ${r.code} before printing a URL: ${r.stderr}`)));
  });
  return { child, url, done };
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('event: payload')) req.destroy();
      });
      const finish = (): void => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body });
      res.on('end', finish);
      res.on('close', finish);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

test('a dashboard page loaded once shows trials-done growing while dehb run goes on', { timeout: 240_000 }, async () => {
  const out = join(dir, 'live-run');
  const allow = join(dir, 'allow');
  await writeFile(allow, '0');
  const run = await startWithUrl(
    ['run', '--space', join(dir, 'space.json'), '--objective', join(dir, 'objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '3', '--fevals', '40', '-n', '2', '--output', out, '--quiet', '--dashboard', '0'],
    { DEHB_TEST_ALLOW: allow },
  );
  assert.equal(run.url.hostname, '127.0.0.1');
  assert.equal(run.url.searchParams.get('token'), null, 'no token on loopback');
  const { page, errors } = await openPage(browser);
  await page.goto(run.url.href);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  await page.evaluate(() => ((window as unknown as { __loadedOnce: boolean }).__loadedOnce = true));
  const done = (): Promise<number> => page.$eval('[data-testid="trials-done"]', (el) => Number(el.textContent));
  const seen = [await done()];
  for (const n of [5, 15, 30]) {
    await writeFile(allow, String(n));
    await page.waitForFunction((want) => Number(document.querySelector('[data-testid="trials-done"]')?.textContent) >= want, { timeout: 60_000 }, n);
    seen.push(await done());
    if (n === 30 && process.env.DEHB_SCREENSHOTS !== undefined) {
      await page.waitForFunction(() => document.body.dataset.updates !== undefined && Number(document.body.dataset.updates) > 3, { timeout: 10_000 });
      await page.screenshot({ path: join(process.env.DEHB_SCREENSHOTS, 'dashboard.png'), fullPage: true });
    }
  }
  await writeFile(allow, '1000000');
  const r = await run.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen[0], 0);
  for (let i = 1; i < seen.length; i++) assert.ok((seen[i] as number) > (seen[i - 1] as number), JSON.stringify(seen));
  assert.equal(await page.evaluate(() => (window as unknown as { __loadedOnce?: boolean }).__loadedOnce), true, 'the page was never reloaded');
  // the last results and why the run ended reach the page before the dashboard closes
  const told = (await readFile(join(out, 'journal.jsonl'), 'utf8')).split('\n').filter((l) => l.includes('"type":"told"')).length;
  await page.waitForFunction((n) => document.querySelector('[data-testid="trials-done"]')?.textContent === String(n), { timeout: 10_000 }, told);
  await page.waitForFunction(() => /dashboard stopped/.test(document.querySelector('[data-testid="connection"]')?.textContent ?? ''), { timeout: 10_000 });
  assert.match(await page.evaluate(() => document.body.innerText), /ended: budget/);
  assert.deepEqual(errors.filter((e) => !/EventSource|ERR_CONNECTION_REFUSED|net::/.test(e)), []);
  await page.close();
});

test('bound beyond localhost, requests without the token or with a wrong one are refused', { timeout: 120_000 }, async () => {
  const runDir = join(dir, 'done-run');
  await writeFixtureRun(runDir, { trials: 50, lanes: 2 });
  const dash = await startWithUrl(['dashboard', runDir, '--host', '0.0.0.0', '--port', '0']);
  const port = Number(dash.url.port);
  const token = dash.url.searchParams.get('token');
  assert.ok(token !== null && token.length >= 32, dash.url.href);
  for (const path of ['/', '/events', '/?token=wrong', `/events?token=${token.slice(0, -1)}`, '/index.html']) {
    const res = await get(port, path);
    assert.equal(res.status, 401, `${path}: ${res.status}`);
    assert.doesNotMatch(res.body, /<html|event: payload/);
  }
  assert.equal((await get(port, '/events', { authorization: 'Bearer nope' })).status, 401);
  const page200 = await get(port, `/?token=${token}`);
  assert.equal(page200.status, 200);
  assert.match(page200.type, /text\/html/);
  const events = await get(port, `/events?token=${token}`);
  assert.equal(events.status, 200);
  assert.match(events.body, /event: payload\ndata: \{"info":\{"runId":"bench-run"/);
  assert.equal((await get(port, '/events', { authorization: `Bearer ${token}` })).status, 200);

  const { page } = await openPage(browser);
  const refused = await page.goto(`http://127.0.0.1:${port}/`);
  assert.equal(refused?.status(), 401);
  await page.goto(`http://127.0.0.1:${port}/?token=${token}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="trials-done"]')?.textContent === '50', { timeout: 30_000 });
  await page.close();
  dash.child.kill('SIGINT');
  assert.equal((await dash.done).code, 0);
});

test('bound to loopback (the default), a request naming another Host is refused', { timeout: 60_000 }, async () => {
  const runDir = join(dir, 'done-run');
  const dash = await startWithUrl(['dashboard', runDir, '--port', '0']);
  const port = Number(dash.url.port);
  assert.equal((await get(port, '/', { host: `attacker.example:${port}` })).status, 403);
  assert.equal((await get(port, '/')).status, 200);
  dash.child.kill('SIGINT');
  assert.equal((await dash.done).code, 0);
  const bad = await runCli(['dashboard', runDir, '--port', '70000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port must be a TCP port/);
  const none = await runCli(['report']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give a run directory/);
});

test('dehb optimize --dashboard serves the study while it runs', { timeout: 120_000 }, async () => {
  const storage = join(dir, 'studies');
  const created = await runCli(['study', 'create', 'dash', '--space', join(dir, 'space.json'), '--objective', join(dir, 'objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '5', '--storage', storage]);
  assert.equal(created.code, 0, created.stderr);
  const opt = await startWithUrl(['optimize', 'dash', '--fevals', '12', '--storage', storage, '--quiet', '--dashboard', '0']);
  const events = await get(Number(opt.url.port), '/events');
  assert.equal(events.status, 200);
  assert.match(events.body, /"runId":"dash"/);
  assert.match(events.body, /study \\"dash\\"/);
  const r = await opt.done;
  assert.equal(r.code, 0, r.stderr);
  const report = await runCli(['report', '--study', 'dash', '--storage', storage, '--output', join(dir, 'study.html')]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stderr, /wrote .*study.html \((1[2-9]|[2-9]\d) trials/);
});
