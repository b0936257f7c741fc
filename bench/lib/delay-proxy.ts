/**
 * A TCP proxy for benchmarks (node:net) that delays every chunk by `oneWayMs` in each direction,
 * so a request/reply round trip through it costs 2 x oneWayMs more. Chunks keep their order
 * (timers of equal delay fire in creation order). Used by bench:e2e's round-trip rows.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, ms: number): void {
  from.on('data', (chunk: Buffer) => {
    if (ms <= 0) to.write(chunk);
    else setTimeout(() => to.write(chunk), ms);
  });
  from.on('end', () => setTimeout(() => to.end(), ms));
  from.on('error', () => to.destroy());
}

export async function startDelayProxy(target: { host: string; port: number }, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
