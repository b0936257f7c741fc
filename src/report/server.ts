/**
 * `dehb dashboard`: a node:http server with two routes — `/` (the report page in live mode) and
 * `/events` (server-sent events). It tails the run's journal (source.ts: fs.watch or a short
 * poll, then only the new entries), feeds one RunModel, and after a change sends every open
 * stream a delta payload (chart data plus the changed trials' rows) at most every MIN_GAP_MS; a
 * new stream first gets a full payload. Binding beyond loopback requires the access token
 * (auth.ts) on every request, the event stream included.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { DehbError } from '../errors.js';
import { isLoopback, newToken, refusal } from './auth.js';
import { PayloadBuilder } from './build-payload.js';
import { renderPage } from './html.js';
import { RunModel } from './model.js';
import { openRunSource, type SourceSpec } from './source.js';

const MIN_GAP_MS = 150;
const HEARTBEAT_MS = 15_000;

export interface DashboardOptions {
  source: SourceSpec;
  /** Default 127.0.0.1. Anything else requires the token. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface Dashboard {
  /** The URL to open (with the token when one is required). */
  url: string;
  token: string | null;
  port: number;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  const token = isLoopback(host) ? null : newToken();
  const source = await openRunSource(opts.source);
  const model = new RunModel();
  model.feed(await source.read());
  model.takeChanged();
  const builder = new PayloadBuilder(model, source.label);
  const streams = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | null = null;
  let lastSent = 0;
  let again = false;

  const send = (res: ServerResponse, data: string): void => {
    res.write(`event: payload\ndata: ${data}\n\n`);
  };
  let due = 0;
  /** Sends a payload at `at` (ms) unless one is already due sooner. */
  const sendAt = (at: number): void => {
    if (timer !== null && due <= at) return;
    if (timer !== null) clearTimeout(timer);
    due = at;
    timer = setTimeout(broadcast, Math.max(0, at - Date.now()));
  };
  const broadcast = (): void => {
    timer = null;
    lastSent = Date.now();
    const changed = model.takeChanged();
    if (streams.size === 0) return;
    const data = JSON.stringify(builder.build({ changed, live: true }));
    for (const res of streams) send(res, data);
    // reused aggregates lag behind: send them again once they are rebuilt, even if nothing else comes
    if (builder.stale) sendAt(Date.now() + Math.max(MIN_GAP_MS, builder.refreshIn()));
  };
  const schedule = (): void => sendAt(lastSent + MIN_GAP_MS);
  let current: Promise<void> | null = null;
  /** Reads what the journal gained; resolves once everything appended before the call is in. */
  const pump = (): Promise<void> => {
    if (current !== null) {
      again = true;
      return current;
    }
    current = (async () => {
      try {
        do {
          again = false;
          const entries = await source.read();
          if (entries.length > 0) {
            model.feed(entries);
            schedule();
          }
        } while (again);
      } catch {
        // a transient read error (a journal mid-rewrite, Redis blip): the next change retries
      } finally {
        current = null;
      }
    })();
    return current;
  };
  const unwatch = source.watch(() => void pump());
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const refused = refusal(req, url, token);
    if (refused !== null) {
      res.writeHead(refused.status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${refused.reason}\n`);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(renderPage({ title: `dehb dashboard: ${model.meta?.runId ?? ''}`, payload: null }));
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      send(res, JSON.stringify(builder.build({ live: true })));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  });
  const port = opts.port ?? 8080;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new DehbError('E_USAGE', `--port ${port}: the port is in use on ${host}; pick another (--port 0 picks a free one)`)
          : new DehbError('E_USAGE', `--host ${host} --port ${port}: cannot listen (${err.message})`, { cause: err }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${actual}/${token === null ? '' : `?token=${token}`}`,
    token,
    port: actual,
    close: async () => {
      unwatch();
      clearInterval(heartbeat);
      // what the run wrote last (its results, why it ended) still reaches the open pages
      await pump();
      if (timer !== null) clearTimeout(timer);
      broadcast();
      if (timer !== null) clearTimeout(timer);
      for (const res of streams) res.end('event: bye\ndata: {}\n\n');
      streams.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await source.close();
    },
  };
}
