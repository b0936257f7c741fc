/**
 * Owns where a trial's result lives in Redis between a worker finishing it and the run recording
 * it: in the finished BullMQ job itself. Jobs are kept on completion (`removeOnComplete: false`):
 * BullMQ's moveToFinished, which checks the worker still holds the job's lock, writes the outcome
 * as the job's `returnvalue` and emits the `completed` event carrying it, in one script. So the
 * result reaches the coordinator with the completion and stays durable until the coordinator
 * removes the job once the run has recorded it (batched: one script call per tick), or a
 * graceful close purges the run's finished jobs. This module reads what Redis knows about job ids
 * (reconcile: result / failed / pending / missing, in one script) and removes finished jobs.
 * Results hashes written by earlier versions (`<prefix>:<queue>:dehb:results`) are still read
 * and purged. A run's batch map (`<prefix>:<queue>:dehb:batches:<runId>`, trial job id -> the id
 * of the batch job carrying it) lets a resumed coordinator re-attach to its trials' batch jobs;
 * its fields go with the batch's job, and the whole map with the run's purge.
 */
import type { Redis } from './connection.js';
import type { ClusterKeys } from './connection.js';
import { isJobOfRun, runJobIdGlob } from '../protocol/job-ids.js';

// For each job id: 'r' + stored result (earlier versions' results hash) | 'm' (no job, no result)
// | 'f' + failedReason | 'c' + returnvalue (completed, kept) | 'a' (a worker holds its lock: active)
// | 'p' (waiting for a worker: queued, prioritized or delayed).
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
      elseif redis.call('EXISTS', jk .. ':lock') == 1 then
        out[#out + 1] = 'a'; out[#out + 1] = ''
      else
        out[#out + 1] = 'p'; out[#out + 1] = ''
      end
    end
  end
end
return out
`;

// Removes finished (completed) jobs: only ids still in the completed set, so a job queued again
// under the same id is never touched. KEYS[1] completed set; ARGV[1] job key prefix.
const REMOVE_FINISHED_LUA = `
local n = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('DEL', ARGV[1] .. id, ARGV[1] .. id .. ':logs')
    n = n + 1
  end
end
return n
`;

export type ReconcileState =
  /** text: the returnvalue as stored (JSON; the caller parses it: a batch job's has its own shape) */
  | { state: 'result'; text: string }
  | { state: 'missing' }
  | { state: 'failed'; reason: string }
  /** running: a worker holds the job's lock (it is being evaluated, or its dead worker's lock has not expired yet) */
  | { state: 'pending'; running: boolean };

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

function defineScript(redis: Redis, name: string, keys: number, lua: string): ScriptFn {
  const holder = redis as unknown as Record<string, ScriptFn | undefined>;
  if (holder[name] === undefined) redis.defineCommand(name, { numberOfKeys: keys, lua });
  const fn = holder[name] as ScriptFn;
  return fn.bind(redis);
}

/** How long a finished job the coordinator has stays in Redis unless the run acknowledges it first (see deleteLater). */
export const RESULT_RETAIN_MS = 30_000;

export class ResultsStore {
  private readonly reconcileScript: ScriptFn;
  private readonly removeScript: ScriptFn;
  /** job id -> when the coordinator had its result */
  private readonly toDelete = new Map<string, number>();
  /** run id -> batch map fields (trial job ids) to delete with the next flush */
  private readonly toForget = new Map<string, string[]>();
  private deleteTimer: NodeJS.Timeout | null = null;
  private soonScheduled = false;
  private readonly completedKey: string;
  private readonly jobPrefix: string;

  constructor(
    readonly redis: Redis,
    readonly keys: ClusterKeys,
  ) {
    this.reconcileScript = defineScript(redis, 'dehbReconcile', 1, RECONCILE_LUA);
    this.removeScript = defineScript(redis, 'dehbRemoveFinished', 1, REMOVE_FINISHED_LUA);
    this.completedKey = `${keys.base}:completed`;
    this.jobPrefix = `${keys.base}:`;
  }

  /** One script call: what Redis knows about each job id. */
  async reconcile(jobIds: string[]): Promise<Map<string, ReconcileState>> {
    const out = new Map<string, ReconcileState>();
    if (jobIds.length === 0) return out;
    const flat = (await this.reconcileScript(this.keys.results, this.jobPrefix, ...jobIds)) as string[];
    for (let i = 0; i < jobIds.length; i++) {
      const id = jobIds[i] as string;
      const code = flat[2 * i];
      const payload = flat[2 * i + 1] ?? '';
      if (code === 'r' || code === 'c') out.set(id, { state: 'result', text: payload });
      else if (code === 'm') out.set(id, { state: 'missing' });
      else if (code === 'f') out.set(id, { state: 'failed', reason: payload });
      else out.set(id, { state: 'pending', running: code === 'a' });
    }
    return out;
  }

  /** The key of a run's batch map (trial job id -> batch job id). */
  batchMapKey(runId: string): string {
    return `${this.keys.base}:dehb:batches:${runId}`;
  }

  /** The run's batch map as an earlier coordinator of it left it (empty for a fresh run). */
  async loadBatchMap(runId: string): Promise<Map<string, string>> {
    const flat = await this.redis.hgetall(this.batchMapKey(runId));
    return new Map(Object.entries(flat));
  }

  /** Drops batch map fields (the trials' batch job is being removed), with the next flush. */
  forgetBatch(runId: string, trialJobIds: string[]): void {
    const list = this.toForget.get(runId);
    if (list === undefined) this.toForget.set(runId, [...trialJobIds]);
    else list.push(...trialJobIds);
  }

  /** Removes these finished jobs now (those still in the completed set). */
  async removeFinished(jobIds: string[]): Promise<void> {
    if (jobIds.length > 0) await this.removeScript(this.completedKey, this.jobPrefix, ...jobIds);
  }

  /**
   * Removes the finished job later, batched with others. Not at once: the coordinator records the
   * result in its journal after the executor resolves, and a coordinator killed in between must
   * find the result again on resume. The run acknowledges recorded results (deleteSoon); jobs it
   * never acknowledges go after RESULT_RETAIN_MS, and close() flushes the rest.
   */
  deleteLater(jobId: string): void {
    this.toDelete.set(jobId, Date.now());
    this.armDeleteTimer();
  }

  /** Removes the finished job in the next batch (one script call per tick): the run has recorded the result. */
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

  /** Sends pending removals of jobs queued before `olderThan` (default: all). Errors are swallowed. */
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
    for (let i = 0; i < ids.length; i += 1_000) {
      await this.removeFinished(ids.slice(i, i + 1_000)).catch(() => undefined); // a leftover job is harmless
    }
    const forget = [...this.toForget];
    this.toForget.clear();
    for (const [runId, fields] of forget) {
      await this.redis.hdel(this.batchMapKey(runId), ...fields).catch(() => 0); // a leftover field points at a missing job: harmless
    }
  }

  /**
   * Removes every finished job of a run (ids `<runId>-<trialId>` exactly: run `exp` never touches
   * `exp-2-1` of run `exp-2`), and its fields in an earlier version's results hash. For a graceful
   * close, when every trial this coordinator submitted is recorded: it also removes results an
   * earlier, killed coordinator of the same run had recorded but not yet removed.
   */
  async purgeRun(runId: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, flat] = (await this.redis.zscan(this.completedKey, cursor, 'MATCH', runJobIdGlob(runId), 'COUNT', 1_000)) as [string, string[]];
      cursor = next;
      await this.removeFinished(flat.filter((f, i) => i % 2 === 0 && isJobOfRun(runId, f)));
    } while (cursor !== '0');
    do {
      const [next, flat] = (await this.redis.hscan(this.keys.results, cursor, 'MATCH', runJobIdGlob(runId), 'COUNT', 500)) as [string, string[]];
      cursor = next;
      const fields = flat.filter((f, i) => i % 2 === 0 && isJobOfRun(runId, f));
      if (fields.length > 0) await this.redis.hdel(this.keys.results, ...fields);
    } while (cursor !== '0');
    await this.redis.del(this.batchMapKey(runId));
    this.toForget.delete(runId);
    for (const id of [...this.toDelete.keys()]) if (isJobOfRun(runId, id)) this.toDelete.delete(id);
  }
}
