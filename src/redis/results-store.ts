/**
 * Owns the durable results hash (`<prefix>:<queue>:dehb:results`, field = job id, value = the
 * EvalOutcome as JSON). Workers write with a Lua script that checks they still hold BullMQ's lock
 * for the job and then HSETNX (first result wins; a late or duplicate writer gets the stored one
 * back). The coordinator reads fields for re-attachment, reconciles in-flight jobs in one script
 * (result / job missing / failed / still pending) and deletes fields in batches once recorded.
 */
import type { Redis } from './connection.js';
import type { EvalOutcome } from '../protocol/executor.js';
import type { ClusterKeys } from './connection.js';
import { isJobOfRun } from './run-claim.js';
import { parseOutcomeText, type Parsed } from '../protocol/wire.js';

const WRITE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 1 then return ARGV[3] end
return redis.call('HGET', KEYS[2], ARGV[2])
`;

// For each job id: 'r' + stored result | 'm' (no job, no result) | 'f' + failedReason
// | 'c' + returnvalue (completed and kept) | 'p' (queued, active or delayed).
const RECONCILE_LUA = `
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local r = redis.call('HGET', KEYS[1], id)
  if r then
    out[#out + 1] = 'r'; out[#out + 1] = r
  else
    local jk = ARGV[1] .. id
    if redis.call('EXISTS', jk) == 0 then
      out[#out + 1] = 'm'; out[#out + 1] = ''
    else
      local f = redis.call('HMGET', jk, 'finishedOn', 'failedReason', 'returnvalue')
      if f[1] and f[2] then
        out[#out + 1] = 'f'; out[#out + 1] = f[2]
      elseif f[1] then
        out[#out + 1] = 'c'; out[#out + 1] = f[3] or ''
      else
        out[#out + 1] = 'p'; out[#out + 1] = ''
      end
    end
  end
end
return out
`;

export type ReconcileState =
  | { state: 'result'; outcome: Parsed<EvalOutcome> }
  | { state: 'missing' }
  | { state: 'failed'; reason: string }
  | { state: 'pending' };

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

function defineScript(redis: Redis, name: string, keys: number, lua: string): ScriptFn {
  const holder = redis as unknown as Record<string, ScriptFn | undefined>;
  if (holder[name] === undefined) redis.defineCommand(name, { numberOfKeys: keys, lua });
  const fn = holder[name] as ScriptFn;
  return fn.bind(redis);
}

/** How long a result the coordinator has stays in Redis unless the run acknowledges it first (see deleteLater). */
export const RESULT_RETAIN_MS = 30_000;

export class ResultsStore {
  private readonly writeScript: ScriptFn;
  private readonly reconcileScript: ScriptFn;
  /** job id -> when the coordinator had its result */
  private readonly toDelete = new Map<string, number>();
  private deleteTimer: NodeJS.Timeout | null = null;
  private soonScheduled = false;

  constructor(
    readonly redis: Redis,
    readonly keys: ClusterKeys,
  ) {
    this.writeScript = defineScript(redis, 'dehbWriteResult', 2, WRITE_LUA);
    this.reconcileScript = defineScript(redis, 'dehbReconcile', 1, RECONCILE_LUA);
  }

  /**
   * Worker side: stores the outcome if this worker still holds the job's lock (token) and no result
   * is stored yet. Returns the stored outcome text (ours, or an earlier one), or null when the lock
   * is gone (the job was handed to another worker; this result must be dropped).
   */
  async write(jobId: string, token: string, outcome: EvalOutcome): Promise<string | null> {
    const text = JSON.stringify(outcome);
    const r = await this.writeScript(this.keys.lock(jobId), this.keys.results, token, jobId, text);
    return typeof r === 'string' ? r : r instanceof Buffer ? r.toString('utf8') : null;
  }

  /** Stored results for these job ids (absent ones are left out). */
  async getMany(jobIds: string[]): Promise<Map<string, Parsed<EvalOutcome>>> {
    const out = new Map<string, Parsed<EvalOutcome>>();
    if (jobIds.length === 0) return out;
    const values = await this.redis.hmget(this.keys.results, ...jobIds);
    values.forEach((v, i) => {
      if (v !== null) out.set(jobIds[i] as string, parseOutcomeText(v));
    });
    return out;
  }

  /** One script call: what Redis knows about each job id. */
  async reconcile(jobIds: string[]): Promise<Map<string, ReconcileState>> {
    const out = new Map<string, ReconcileState>();
    if (jobIds.length === 0) return out;
    const flat = (await this.reconcileScript(this.keys.results, `${this.keys.base}:`, ...jobIds)) as string[];
    for (let i = 0; i < jobIds.length; i++) {
      const id = jobIds[i] as string;
      const code = flat[2 * i];
      const payload = flat[2 * i + 1] ?? '';
      if (code === 'r') out.set(id, { state: 'result', outcome: parseOutcomeText(payload) });
      else if (code === 'm') out.set(id, { state: 'missing' });
      else if (code === 'f') out.set(id, { state: 'failed', reason: payload });
      else if (code === 'c' && payload !== '') out.set(id, { state: 'result', outcome: parseOutcomeText(payload) });
      else out.set(id, { state: 'pending' });
    }
    return out;
  }

  /**
   * Deletes the field later, batched with others. Not at once: the coordinator records the result
   * in its journal after the executor resolves, and a coordinator killed in between must find the
   * result again on resume. The run acknowledges recorded results (deleteSoon); fields it never
   * acknowledges go after RESULT_RETAIN_MS, and close() flushes the rest.
   */
  deleteLater(jobId: string): void {
    this.toDelete.set(jobId, Date.now());
    this.armDeleteTimer();
  }

  /** Deletes the field in the next batch (one HDEL per tick): the run has recorded the result. */
  deleteSoon(jobId: string): void {
    this.toDelete.set(jobId, 0);
    if (this.soonScheduled) return;
    this.soonScheduled = true;
    setImmediate(() => {
      this.soonScheduled = false;
      void this.flushDeletes(0);
    });
  }

  private armDeleteTimer(): void {
    if (this.deleteTimer !== null) return;
    this.deleteTimer = setInterval(() => void this.flushDeletes(Date.now() - RESULT_RETAIN_MS), 1_000);
    this.deleteTimer.unref();
  }

  /** Sends pending deletes of fields queued before `olderThan` (default: all). Errors are swallowed. */
  async flushDeletes(olderThan = Number.POSITIVE_INFINITY): Promise<void> {
    const ids: string[] = [];
    for (const [id, at] of this.toDelete) {
      if (at <= olderThan) ids.push(id);
    }
    for (const id of ids) this.toDelete.delete(id);
    if (this.toDelete.size === 0 && this.deleteTimer !== null) {
      clearInterval(this.deleteTimer);
      this.deleteTimer = null;
    }
    if (ids.length === 0) return;
    await this.redis.hdel(this.keys.results, ...ids).catch(() => undefined); // a leftover field is harmless
  }

  /**
   * Deletes every stored result of a run (fields `<runId>-<trialId>` exactly: run `exp` never
   * touches `exp-2-1` of run `exp-2`). For a graceful close, when every
   * trial this coordinator submitted is recorded: it also removes results an earlier, killed
   * coordinator of the same run had recorded but not yet deleted.
   */
  async purgeRun(runId: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = (await this.redis.hscan(this.keys.results, cursor, 'MATCH', `${runId}-*`, 'COUNT', 500)) as [string, string[]];
      cursor = next;
      const fields = flat.filter((f, i) => i % 2 === 0 && isJobOfRun(runId, f));
      if (fields.length > 0) await this.redis.hdel(this.keys.results, ...fields);
    } while (cursor !== '0');
    for (const id of [...this.toDelete.keys()]) if (isJobOfRun(runId, id)) this.toDelete.delete(id);
  }
}
