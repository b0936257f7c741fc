/**
 * Owns the coordinator's connections to one cluster queue: the BullMQ Queue (adds, removes), a
 * plain client for the results hash and cancel messages, and the ONE QueueEvents listener, opened
 * right after the last event that exists at start (nothing in between is missed) and closed with
 * a timeout (closing hangs while Redis is down).
 */
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Redis } from './connection.js';
import { DehbError } from '../errors.js';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { bullConnection, closeBullConnection, closeRedis, clusterKeys, createRedis, describeRedisError, dropBullSockets, withTimeout, type ClusterKeys } from './connection.js';
import { ResultsStore } from './results-store.js';

export interface ChannelHandlers {
  completed(jobId: string, returnvalue: unknown): void;
  failed(jobId: string, reason: string): void;
  progress(jobId: string, data: unknown): void;
  error(err: unknown): void;
}

export class ClusterChannel {
  readonly keys: ClusterKeys;
  readonly where: string;
  readonly queue: Queue;
  readonly redis: Redis;
  readonly store: ResultsStore;
  private events: QueueEvents | undefined;
  private readonly connection: ConnectionOptions;

  constructor(
    private readonly conn: ClusterConnection,
    clientName: string,
    eventsMaxLen: number,
    private readonly handlers: ChannelHandlers,
  ) {
    this.keys = clusterKeys(conn);
    this.where = `${conn.endpoint.host}:${conn.endpoint.port} queue ${conn.prefix}:${conn.queue}`;
    this.connection = bullConnection(conn.endpoint);
    this.queue = new Queue(conn.queue, { connection: this.connection, prefix: conn.prefix, streams: { events: { maxLen: eventsMaxLen } } });
    this.redis = createRedis(conn.endpoint, clientName);
    this.store = new ResultsStore(this.redis, this.keys);
    this.queue.on('error', (err: Error) => handlers.error(err));
    this.redis.on('error', (err: Error) => handlers.error(err));
  }

  /** Connects everything; E_BROKER when Redis is not ready within timeoutMs. */
  async open(timeoutMs: number): Promise<void> {
    const h = this.handlers;
    const ready = async (): Promise<void> => {
      const last = (await this.redis.xrevrange(this.keys.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      const lastEventId = last.length > 0 ? (last[0] as [string, string[]])[0] : '0-0';
      // a short blocking read: while Redis is gone a pending read's watchdog (block + 1 s) holds the process that long
      const events = new QueueEvents(this.conn.queue, { connection: this.connection, prefix: this.conn.prefix, lastEventId, blockingTimeout: 1_000 });
      this.events = events;
      events.on('error', (err: Error) => h.error(err));
      events.on('completed', (a: { jobId: string; returnvalue: unknown }) => h.completed(a.jobId, a.returnvalue));
      events.on('failed', (a: { jobId: string; failedReason: string }) => h.failed(a.jobId, a.failedReason));
      events.on('progress', (a: { jobId: string; data: unknown }) => h.progress(a.jobId, a.data));
      await Promise.all([events.waitUntilReady(), this.queue.waitUntilReady()]);
    };
    let failure: unknown = null;
    const ok = await withTimeout(
      ready().then(
        () => true,
        (err: unknown) => {
          failure = err;
          return false;
        },
      ),
      timeoutMs,
      () => false,
    );
    if (ok) return;
    await this.close(1_000);
    throw failure !== null
      ? new DehbError('E_BROKER', describeRedisError(failure, this.where), { cause: failure })
      : new DehbError('E_BROKER', `Redis at ${this.where} did not become ready within ${timeoutMs} ms`);
  }

  /** Flushes pending deletes and closes every connection, each step bounded by timeoutMs. */
  async close(timeoutMs: number): Promise<void> {
    await withTimeout(this.store.flushDeletes(), timeoutMs, () => undefined);
    const events = this.events;
    const closed = await withTimeout(
      Promise.allSettled([events?.close(), this.queue.close()]).then(() => true),
      timeoutMs,
      () => false,
    );
    if (!closed) {
      // BullMQ's own disconnect() first waits for a connection that is never coming back while
      // Redis is down; drop the sockets of its ioredis clients directly (else they keep retrying)
      for (const owner of [events, this.queue]) dropBullSockets(owner);
    }
    await Promise.all([closeRedis(this.redis), closeBullConnection(this.connection)]);
  }
}

