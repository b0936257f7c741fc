/**
 * The Redis journal backend: one list per study (`<prefix>study:{<name>}:journal`), one element per
 * entry, `{"seq":N,"at":ms,...entry}`. The seq of an entry is its list position (1-based); a Lua
 * script appends a whole batch atomically and writes seq and `at` (the Redis server clock) into the
 * JSON by string splicing, so numbers in entries are never re-encoded by Lua's cjson. An optional
 * lease check in the same script fences appends by the leader lease. Reads are LRANGE from seq,
 * validated with zod like the file journal; a bad element is E_JOURNAL naming key and seq.
 *
 * DESIGN.md §2 says only cluster/bullmq imports ioredis; the study storage (src/study/redis-*.ts,
 * storage-redis*.ts) is a deliberate second user, so studies can live in the cluster's Redis.
 */
import type { Redis } from '../redis/connection.js';
import { DehbError } from '../errors.js';
import { withVersion } from '../protocol/journal-versions.js';
import type { JournalBackend, JournalEntry, StoredEntry } from './journal-types.js';
import { parseStoredLine } from '../protocol/journal-schemas.js';

const PAGE = 5000;

/**
 * KEYS[1] journal list, KEYS[2] lease key. ARGV[1] lease holder ('' = unfenced), ARGV[2] '1' when
 * the list must already exist, ARGV[3..] entry JSON objects. Returns the last seq.
 */
export const APPEND_SCRIPT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return redis.error_reply('DEHB_LEASE_LOST')
end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('DEHB_NO_STUDY')
end
local t = redis.call('TIME')
local at = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local n = redis.call('LLEN', KEYS[1])
for i = 3, #ARGV do
  n = n + 1
  redis.call('RPUSH', KEYS[1], '{"seq":' .. string.format('%d', n) .. ',"at":' .. at .. ',' .. string.sub(ARGV[i], 2))
end
return n
`;

export interface RedisJournalOptions {
  /** Used in error messages, e.g. `redis://host:6379 study "x"`. */
  label?: string;
  /** Fence appends: they succeed only while `holder` owns `leaseKey`. */
  fence?: { leaseKey: string; holder: string };
}

export class RedisJournal implements JournalBackend {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly opts: RedisJournalOptions = {},
  ) {}

  /** Appends a batch atomically; resolves with the last seq once Redis acknowledged it. */
  async append(entries: JournalEntry[]): Promise<number> {
    if (entries.length === 0) return this.redis.llen(this.key);
    const fence = this.opts.fence;
    return appendEntries(this.redis, this.key, entries, {
      leaseKey: fence?.leaseKey ?? this.key,
      holder: fence?.holder ?? '',
      mustExist: true,
    });
  }

  async read(fromSeq = 1): Promise<StoredEntry[]> {
    const out: StoredEntry[] = [];
    let start = Math.max(1, Math.floor(fromSeq)) - 1;
    for (;;) {
      const items = await this.redis.lrange(this.key, start, start + PAGE - 1);
      for (let i = 0; i < items.length; i++) {
        const seq = start + i + 1;
        const parsed = parseStoredLine(items[i] as string);
        if (!parsed.ok) {
          throw new DehbError(
            'E_JOURNAL',
            `${this.opts.label ?? this.key}: entry ${seq}: corrupted journal entry (${parsed.reason})`,
            { details: { key: this.key, seq } },
          );
        }
        parsed.entry.seq = seq;
        out.push(parsed.entry);
      }
      if (items.length < PAGE) return out;
      start += PAGE;
    }
  }

  /** The shared connection belongs to the storage; nothing to close here. */
  async close(): Promise<void> {}
}

/** Runs APPEND_SCRIPT; maps the script's error replies to DehbErrors. */
export async function appendEntries(
  redis: Redis,
  key: string,
  entries: JournalEntry[],
  opts: { leaseKey: string; holder: string; mustExist: boolean },
): Promise<number> {
  const bodies = entries.map((e) => {
    const { seq: _s, at: _a, ...rest } = e as JournalEntry & { seq?: unknown; at?: unknown };
    return JSON.stringify(withVersion(rest as JournalEntry));
  });
  try {
    const n = await redis.eval(APPEND_SCRIPT, 2, key, opts.leaseKey, opts.holder, opts.mustExist ? '1' : '0', ...bodies);
    return Number(n);
  } catch (err) {
    const msg = (err as Error).message ?? '';
    if (msg.includes('DEHB_LEASE_LOST')) {
      throw new DehbError('E_STUDY', `the leader lease of ${opts.holder} was lost; another process leads now`, {
        details: { reason: 'lease-lost' },
      });
    }
    if (msg.includes('DEHB_NO_STUDY')) {
      throw new DehbError('E_STUDY', `journal ${key} does not exist (was the study deleted?)`, { details: { key } });
    }
    throw new DehbError('E_BROKER', `Redis append to ${key} failed: ${msg}`, { cause: err });
  }
}
