/**
 * The report and the dashboard on named studies, on both storages (directory and Redis): the
 * dashboard's event stream follows the study's journal as another process (`dehb optimize`) grows
 * it, and `dehb report --study` writes the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDashboard } from '../../src/report/server.js';
import type { Payload } from '../../src/report/payload.js';
import { makeStorage, until } from './study-helpers.js';

/** Follows /events and records the finished-trial count of every payload. */
function follow(port: number): { done: number[]; stop(): void } {
  const done: number[] = [];
  let buf = '';
  const req = request({ host: '127.0.0.1', port, path: '/events' }, (res) => {
    res.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(msg)?.[1];
        if (data === undefined) continue;
        const c = (JSON.parse(data) as Payload).info.counts;
        done.push((c.trials ?? 0) - (c.queued ?? 0) - (c.running ?? 0));
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { done, stop: () => req.destroy() };
}

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] the dashboard follows a study as dehb optimize grows it; dehb report --study writes the page`, { timeout: 120_000 }, async () => {
    const ts = await makeStorage(kind);
    const dash: { close(): Promise<void> }[] = [];
    const stream: { stop(): void }[] = [];
    try {
      const cli = (args: string[]) => runCli([...args, '--storage', ts.url]);
      const created = await cli(['study', 'create', 'rs', '--space', join(ts.dir, 'space.json'), '--objective', join(ts.dir, 'objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '4']);
      assert.equal(created.code, 0, created.stderr);
      const first = await cli(['optimize', 'rs', '--fevals', '6', '--quiet']);
      assert.equal(first.code, 0, first.stderr);
      const d = await startDashboard({ source: { study: 'rs', storage: ts.url }, port: 0 });
      dash.push(d);
      const f = follow(d.port);
      stream.push(f);
      await until(async () => f.done.length > 0);
      assert.ok((f.done[0] as number) >= 6, JSON.stringify(f.done));
      const more = await cli(['optimize', 'rs', '--fevals', '14', '--quiet']);
      assert.equal(more.code, 0, more.stderr);
      await until(async () => (f.done[f.done.length - 1] ?? 0) >= 14);
      const out = join(ts.dir, 'study.html');
      const rep = await cli(['report', '--study', 'rs', '--output', out]);
      assert.equal(rep.code, 0, rep.stderr);
      assert.ok(existsSync(out));
      const missing = await cli(['report', '--study', 'nope', '--output', out]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no study named "nope"/);
    } finally {
      for (const s of stream) s.stop();
      for (const d of dash) await d.close();
      await ts.cleanup();
    }
  });
}
