/**
 * Redis storage for studies (`redis://[user:password@]host:port[/db][?prefix=dehb:]`, or
 * `rediss://` for TLS). Keys, with P = prefix (default `dehb:`) and T = `{<name>}` (a hash tag,
 * so one study's keys share a cluster slot):
 *
 *   P studies                    hash name -> {name, kind, createdAt}
 *   P study:T:journal            list, one JSON entry per element (redis-journal.ts)
 *   P study:T:lease              leader lease: holder id, with PX expiry
 *   P study:T:files              hash sha256 -> bytes
 *
 * Trials are not queued here: they go out as BullMQ jobs on the same Redis (`cluster`: prefix P
 * without its trailing ':', queue `evals`, run id `study.<name>`), where any `dehb worker` of that
 * Redis takes them; deleting a study removes what they left there too (redis/run-forget.ts).
 * Every multi-key change is one Lua script.
 */
import type { Redis } from '../redis/connection.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, defaultResultsKey, type ClusterConnection } from '../protocol/scheduler-file.js';
import { parseRedisUrl, type RedisEndpoint } from '../protocol/redis-url.js';
import { hashTaggedPrefix } from '../redis/cluster-mode.js';
import { connectRedisEndpoint } from '../redis/url-client.js';
import { DehbError } from '../errors.js';
import type { JournalEntry } from './journal-types.js';
import { appendEntries, RedisJournal } from './redis-journal.js';
import * as S from './storage-redis-scripts.js';
import {
  checkStudyName,
  checkStoredFile,
  fileToStore,
  studyTaken,
  maskUrl,
  studyRunId,
  unknownStudy,
  type CreatedEntry,
  type LeaseInfo,
  type StoredFile,
  type StudyStorage,
} from './storage.js';

/** Keys of earlier versions' study work queue: deleting a study removes them too. */
const OLD_QUEUE_PARTS = ['queue', 'tasks', 'scores', 'claims', 'claimer', 'attempts'] as const;

export class RedisStudyStorage implements StudyStorage {
  readonly kind = 'redis' as const;
  private lastError: Error | null = null;

  /** The BullMQ queue on this Redis that carries the trials of its studies. */
  readonly cluster: ClusterConnection;

  private constructor(
    private readonly redis: Redis,
    readonly url: string,
    readonly prefix: string,
    endpoint: RedisEndpoint,
    queue: string = DEFAULT_QUEUE,
  ) {
    const bullPrefix = prefix.replace(/:+$/, '') || DEFAULT_PREFIX;
    this.cluster = { endpoint, prefix: bullPrefix, queue, resultsKey: defaultResultsKey(bullPrefix, queue), source: this.url };
    redis.on('error', (err: Error) => {
      this.lastError = err;
    });
  }

  /**
   * Connects and checks the server answers (E_BROKER naming the URL otherwise). With `endpoint`
   * (a scheduler file's Redis: password, TLS) `url` only names the place in messages. On a Redis
   * Cluster (said by `redis+cluster://` or the file, or found) the prefix becomes a hash tag
   * (`dehb:` -> `{dehb}:`) so every key of the storage is in one slot and its scripts work.
   */
  static async open(
    url: string,
    opts: { connectTimeoutMs?: number; endpoint?: RedisEndpoint; prefix?: string; queue?: string } = {},
  ): Promise<RedisStudyStorage> {
    let prefix = opts.prefix ?? 'dehb:';
    let ep = opts.endpoint;
    if (ep === undefined) {
      const q = url.indexOf('?');
      const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      prefix = params.get('prefix') ?? prefix;
      params.delete('prefix');
      const rest = params.toString();
      try {
        ep = parseRedisUrl(`${q < 0 ? url : url.slice(0, q)}${rest === '' ? '' : `?${rest}`}`, '--storage');
      } catch (err) {
        throw new DehbError('E_USAGE', `not a valid Redis URL: "${maskUrl(url)}" (${(err as Error).message})`, { cause: err });
      }
    }
    let conn;
    try {
      conn = await connectRedisEndpoint(ep, { maxRetriesPerRequest: 5, connectTimeoutMs: opts.connectTimeoutMs ?? 5000 });
    } catch (err) {
      const where = opts.endpoint === undefined ? maskUrl(url) : `${opts.endpoint.host}:${opts.endpoint.port} (from scheduler file ${url})`;
      throw new DehbError('E_BROKER', `cannot reach Redis at ${where}: ${(err as Error).message}`, { cause: err });
    }
    return new RedisStudyStorage(conn.redis, maskUrl(url), conn.cluster ? hashTaggedPrefix(prefix) : prefix, ep, opts.queue);
  }

  private key(name: string, part: string): string {
    return `${this.prefix}study:{${checkStudyName(name)}}:${part}`;
  }

  private get studiesKey(): string {
    return `${this.prefix}studies`;
  }

  private async run(script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await this.redis.eval(script, keys.length, ...keys, ...args.map(String));
    } catch (err) {
      const msg = (err as Error).message ?? '';
      if (msg.includes('DEHB_NO_STUDY')) throw new DehbError('E_STUDY', 'the study does not exist (was it deleted?)', { cause: err });
      throw new DehbError('E_BROKER', `Redis at ${this.url}: ${msg}`, { cause: err });
    }
  }

  async createStudy(name: string, created: CreatedEntry, opts: { skipIfExists?: boolean } = {}): Promise<boolean> {
    const info = JSON.stringify({ name, kind: created.options.kind, createdAt: Date.now() });
    const r = await this.run(S.CREATE_STUDY, [this.studiesKey, this.key(name, 'journal')], [name, info, JSON.stringify(created)]);
    return Number(r) === 1 || studyTaken(name, this.url, opts);
  }

  async listStudies(): Promise<string[]> {
    return (await this.redis.hkeys(this.studiesKey)).sort();
  }

  async studyExists(name: string): Promise<boolean> {
    return (await this.redis.hexists(this.studiesKey, checkStudyName(name))) === 1;
  }

  /**
   * Deletes the study's keys and what its trials left on its BullMQ queue (jobs queued or
   * finished, stored results, the run-id claim: a study created later under the same name would
   * otherwise take them as its own trials'). Refused (E_STUDY, nothing deleted) while a process
   * holds the study's lease or a worker runs one of its trials.
   */
  async deleteStudy(name: string): Promise<boolean> {
    const lease = await this.getLease(checkStudyName(name));
    if (lease !== null) {
      throw new DehbError('E_STUDY', `study "${name}" is being optimized (its lease is held by ${lease.holder}); stop that process first, then delete the study`, {
        details: { study: name, reason: 'lease-held' },
      });
    }
    const { openRunForgetter } = await import('../redis/run-forget.js');
    const queue = openRunForgetter(this.cluster, studyRunId(name));
    try {
      const { running } = await queue.leftovers();
      if (running.length > 0) {
        throw new DehbError(
          'E_STUDY',
          `${running.length} trial(s) of study "${name}" still run on workers (jobs ${running.slice(0, 5).join(', ')}${running.length > 5 ? ', …' : ''}); delete the study once they end (or stop those workers)`,
          { details: { study: name, reason: 'trials-running' } },
        );
      }
      await queue.forget();
    } finally {
      await queue.close();
    }
    const parts = ['journal', 'lease', 'files', ...OLD_QUEUE_PARTS];
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(this.studiesKey, checkStudyName(name))
      .del(...parts.map((p) => this.key(name, p)))
      .exec()) as [[Error | null, number]];
    return Number(removed) === 1;
  }

  async journal(name: string): Promise<RedisJournal> {
    await this.requireStudy(name);
    return new RedisJournal(this.redis, this.key(name, 'journal'), { label: `${this.url} study "${name}"` });
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const r = Number(await this.run(S.LEASE_ACQUIRE, [this.key(name, 'lease'), this.key(name, 'journal')], [holder, ttlMs]));
    if (r === -1) throw unknownStudy(name, this.url);
    return r === 1;
  }

  async renewLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return Number(await this.run(S.LEASE_RENEW, [this.key(name, 'lease')], [holder, ttlMs])) === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.run(S.LEASE_RELEASE, [this.key(name, 'lease')], [holder]);
  }

  async getLease(name: string): Promise<LeaseInfo | null> {
    const r = (await this.run(S.LEASE_GET, [this.key(name, 'lease')], [])) as [string, number, string] | null;
    if (r === null) return null;
    return { holder: r[0], expiresAt: Number(r[2]) + Math.max(0, Number(r[1])) };
  }

  async appendAsLeader(name: string, holder: string, entries: JournalEntry[]): Promise<number> {
    return appendEntries(this.redis, this.key(name, 'journal'), entries, {
      leaseKey: this.key(name, 'lease'),
      holder,
      mustExist: true,
    });
  }

  async putFile(name: string, data: Buffer, opts: { maxBytes?: number } = {}): Promise<StoredFile> {
    await this.requireStudy(name);
    const file = fileToStore(data, opts.maxBytes);
    await this.redis.hset(this.key(name, 'files'), file.sha256, data);
    return file;
  }

  async getFile(name: string, sha256: string): Promise<Buffer> {
    await this.requireStudy(name);
    return checkStoredFile(name, sha256, await this.redis.hgetBuffer(this.key(name, 'files'), sha256));
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async requireStudy(name: string): Promise<void> {
    if (!(await this.studyExists(name))) throw unknownStudy(name, this.url);
  }
}
