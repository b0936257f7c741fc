/**
 * A TCP proxy for benchmarks (node:net) that delays every chunk by `oneWayMs` in each direction,
 * so a request/reply round trip through it costs 2 x oneWayMs more; the delay can be changed while
 * connections are open. Chunks keep their order. Used by bench:e2e's round-trip rows.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  port: number;
  /** The delay each way from now on, ms (0: pass through). */
  oneWayMs: number;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, delay: () => number): void {
  // a chunk never overtakes an earlier one, also when the delay was just lowered
  let last = 0;
  from.on('data', (chunk: Buffer) => {
    const at = Math.max(last, performance.now() + delay());
    last = at;
    const wait = at - performance.now();
    if (wait <= 0) to.write(chunk);
    else setTimeout(() => to.write(chunk), wait);
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now())));
  from.on('error', () => to.destroy());
}

export async function startDelayProxy(target: { host: string; port: number }, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const state = { oneWayMs };
  const delay = (): number => state.oneWayMs;
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeDelayed(client, upstream, delay);
    pipeDelayed(upstream, client, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    get oneWayMs() {
      return state.oneWayMs;
    },
    set oneWayMs(ms: number) {
      state.oneWayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
