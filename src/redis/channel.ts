/**
 * Owns the coordinator's connections to one cluster queue: the BullMQ Queue (adds, removes), a
 * plain client for finished jobs (results-store.ts) and cancel messages, and the ONE QueueEvents
 * listener (one blocking stream read at a time delivers every completion, with its result), opened
 * right after the last event that exists at start (nothing in between is missed) and closed with
 * a timeout (closing hangs while Redis is down).
 */
import { Queue, QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Redis } from './connection.js';
import { DehbError } from '../errors.js';
import type { ClusterConnection } from '../protocol/scheduler-file.js';
import { bullConnection, closeBullConnection, closeRedis, clusterKeys, createRedis, describeRedisError, dropBullSockets, withTimeout, type ClusterKeys } from './connection.js';
import { ResultsStore } from './results-store.js';
import { sleep } from '../util/sleep.js';

export interface ChannelHandlers {
  completed(jobId: string, returnvalue: unknown): void;
  /** An add found the job id taken: the job there is kept (BullMQ's `duplicated` event). */
  duplicated(jobId: string): void;
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
  /** Id of the last event a handler got (where a restarted listener goes on from). */
  private lastEventId = '0-0';
  private closed = false;
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
    const ready = async (): Promise<void> => {
      const last = (await this.redis.xrevrange(this.keys.events, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      const lastEventId = last.length > 0 ? (last[0] as [string, string[]])[0] : '0-0';
      this.lastEventId = lastEventId;
      const events = this.startEvents(lastEventId);
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

  /**
   * The one event listener, reading from `from`. The stream is untrusted (anyone with access to
   * Redis can add to it): an entry whose data is not JSON ends BullMQ's read loop, so then the
   * listener is restarted past that entry (said as a warning); a handler's throw is caught here.
   */
  private startEvents(from: string): QueueEvents {
    const h = this.handlers;
    // a short blocking read: while Redis is gone a pending read's watchdog (block + 1 s) holds the process that long
    const events = new QueueEvents(this.conn.queue, { connection: this.connection, prefix: this.conn.prefix, lastEventId: from, blockingTimeout: 1_000 });
    this.events = events;
    const emitter = events as unknown as { on(name: string, fn: (a: never, id: string) => void): void; running: boolean };
    const on = <T>(name: string, fn: (a: T) => void): void => {
      emitter.on(name, (a: T, id: string) => {
        this.lastEventId = id;
        try {
          fn(a);
        } catch (err) {
          h.error(err);
        }
      });
    };
    events.on('error', (err: Error) => {
      h.error(err);
      if (!emitter.running && !this.closed && this.events === events) void this.restartEvents(events);
    });
    on<{ jobId: string; returnvalue: unknown }>('completed', (a) => h.completed(a.jobId, a.returnvalue));
    on<{ jobId: string }>('duplicated', (a) => h.duplicated(a.jobId));
    on<{ jobId: string; failedReason: string }>('failed', (a) => h.failed(a.jobId, a.failedReason));
    on<{ jobId: string; data: unknown }>('progress', (a) => h.progress(a.jobId, a.data));
    return events;
  }

  private async restartEvents(dead: QueueEvents): Promise<void> {
    let from = this.lastEventId;
    try {
      const bad = await this.firstUnreadableEvent(from);
      if (bad !== null) {
        from = bad;
        this.handlers.error(new Error(`skipped event ${bad} of ${this.keys.events}: its data is not JSON (written by something other than BullMQ?)`));
      } else await sleep(1_000);
    } catch (err) {
      this.handlers.error(err);
      await sleep(1_000);
    }
    void withTimeout(dead.close().catch(() => undefined), 1_000, () => dropBullSockets(dead));
    if (!this.closed) this.startEvents(from);
  }

  /** The id of the first entry after `after` whose data BullMQ's JSON.parse would throw on, or null. */
  private async firstUnreadableEvent(after: string): Promise<string | null> {
    const entries = (await this.redis.xrange(this.keys.events, `(${after}`, '+', 'COUNT', 1_000)) as Array<[string, string[]]>;
    for (const [id, flat] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] as string, flat[i + 1] as string);
      const field = f.get('event') === 'completed' ? 'returnvalue' : f.get('event') === 'progress' ? 'data' : null;
      if (field === null) continue;
      try {
        JSON.parse(f.get(field) ?? '');
      } catch {
        return id;
      }
    }
    return null;
  }

  /** Flushes pending deletes and closes every connection, each step bounded by timeoutMs. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
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

