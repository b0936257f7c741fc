/**
 * Owns the coordinator's view of broker health: since when its Redis connection has been down
 * (to reject in-flight work after a deadline instead of waiting forever), throttled warnings
 * (one per 10 s, not one per reconnect attempt), and the one-shot "no worker is connected" hint.
 */
import type { Redis } from 'ioredis';
import { DehbError } from '../errors.js';
import { describeRedisError } from './connection.js';

export class BrokerHealth {
  private downSince: number | null = null;
  private lastErrorLogAt = 0;
  private lastCompletionAt = Date.now();
  private warnedNoWorker = false;

  constructor(
    private readonly where: string,
    private readonly brokerTimeoutMs: number,
    private readonly log: (message: string) => void,
  ) {}

  /** Tracks up/down from a client's connection events. */
  watch(client: Redis): void {
    client.on('ready', () => {
      this.downSince = null;
    });
    for (const ev of ['close', 'reconnecting', 'end']) {
      client.on(ev, () => {
        this.downSince ??= Date.now();
      });
    }
  }

  get isDown(): boolean {
    return this.downSince !== null;
  }

  downTooLong(now = Date.now()): boolean {
    return this.downSince !== null && now - this.downSince > this.brokerTimeoutMs;
  }

  error(): DehbError {
    const s = Math.round(this.brokerTimeoutMs / 1000);
    return new DehbError('E_BROKER', `Redis at ${this.where} has been unreachable for more than ${s} s`);
  }

  /** Logs at most one warning per 10 s. */
  noteError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log(`warning: ${describeRedisError(err, this.where)}`);
  }

  completed(): void {
    this.lastCompletionAt = Date.now();
    this.warnedNoWorker = false;
  }

  /** True when nothing completed for `ms` (and the hint was not given yet). */
  quietFor(ms: number, now = Date.now()): boolean {
    return !this.warnedNoWorker && now - this.lastCompletionAt >= ms;
  }

  warnNoWorker(): void {
    this.warnedNoWorker = true;
    this.log(`no dehb worker is connected to ${this.where}; start one with \`dehb worker --scheduler-file FILE\``);
  }
}
