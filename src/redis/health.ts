/**
 * Owns the coordinator's view of broker health: since when its Redis connection has been down,
 * and since when Redis has been answering commands with errors (OOM, READONLY, MOVED, NOAUTH, a
 * script error...), reads and writes tracked apart (under OOM reads still work). Either state
 * lasting longer than the broker timeout stops the run with E_BROKER quoting the server's words,
 * instead of warning forever. Also: throttled warnings (one per 10 s) and the one-shot "no worker
 * is connected" hint.
 */
import type { Redis } from './connection.js';
import { DehbError } from '../errors.js';
import { describeRedisError } from './connection.js';

/** Redis error replies that mean the broker, not the trial, is at fault. */
const SERVER_ERROR = /^(OOM|READONLY|MOVED|ASK|NOAUTH|WRONGPASS|NOPERM|CLUSTERDOWN|LOADING|MASTERDOWN|MISCONF|BUSY|NOSCRIPT|TRYAGAIN|CROSSSLOT|WRONGTYPE|ERR)\b|Error running script|Ready check failed/;

/** True for an error the Redis server answered (as opposed to a trial's own failure). */
export function isServerError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown };
  return e?.name === 'ReplyError' || (typeof e?.message === 'string' && SERVER_ERROR.test(e.message));
}

export type CommandKind = 'read' | 'write';

export class BrokerHealth {
  private downSince: number | null = null;
  private readonly failingSince: Record<CommandKind, number | null> = { read: null, write: null };
  private lastServerError = '';
  private lastServerErrorAt = 0;
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

  /** The connection is up (commands may still fail). */
  get connected(): boolean {
    return this.downSince === null;
  }

  /** Writes were answered with errors and no write succeeded since. */
  get writesFailing(): boolean {
    return this.failingSince.write !== null;
  }

  /** Connection down, or commands answered with errors. */
  get isDown(): boolean {
    return this.since() !== null;
  }

  private since(): number | null {
    const all = [this.downSince, this.failingSince.read, this.failingSince.write].filter((x): x is number => x !== null);
    return all.length === 0 ? null : Math.min(...all);
  }

  downTooLong(now = Date.now()): boolean {
    const since = this.since();
    return since !== null && now - since > this.brokerTimeoutMs;
  }

  error(): DehbError {
    const s = Math.round(this.brokerTimeoutMs / 1000);
    // errors answered during this outage (a reconnect's ready check counts) say more than "unreachable"
    const answered = this.lastServerError !== '' && this.lastServerErrorAt >= (this.since() ?? 0);
    const said = answered ? `; its last answer: ${this.lastServerError}` : '';
    const what = answered ? 'has answered commands with errors' : 'has been unreachable';
    return new DehbError(
      'E_BROKER',
      `Redis at ${this.where} ${what} for more than ${s} s${said}; fix the server (or the scheduler file) and continue with --resume (the wait is set by --broker-timeout)`,
    );
  }

  /** A command failed: server error replies count toward the broker timeout. Logs at most one warning per 10 s. */
  noteError(err: unknown, kind: CommandKind = 'write'): void {
    const now = Date.now();
    if (isServerError(err)) {
      this.failingSince[kind] ??= now;
      this.lastServerError = String((err as Error).message ?? err).trim();
      this.lastServerErrorAt = now;
    }
    if (now - this.lastErrorLogAt < 10_000) return;
    this.lastErrorLogAt = now;
    this.log(`warning: ${describeRedisError(err, this.where)}`);
  }

  /** A command of this kind succeeded. */
  commandOk(kind: CommandKind): void {
    this.failingSince[kind] = null;
  }

  /** A worker's result arrived: the server accepts writes again. */
  completed(): void {
    this.lastCompletionAt = Date.now();
    this.warnedNoWorker = false;
    this.failingSince.write = null;
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
