/**
 * Owns which run instance a run id belongs to on one cluster queue: a claim key
 * `<prefix>:<queue>:dehb:run:<runId>` holding the instance id recorded in the run's journal, so a
 * fresh run started with the id of an earlier (crashed) run cannot take that run's stored results
 * or queued jobs, while a resumed run (same instance) re-attaches to its own; whether a run id
 * has leftovers (stored results, job keys: by exact job id shape, protocol/job-ids.ts, never by
 * prefix).
 */
import type { Redis } from './connection.js';
import { DehbError } from '../errors.js';
import { scanKeys, type ClusterKeys } from './connection.js';
import { isJobOfRun, runJobIdGlob } from '../protocol/job-ids.js';

/** Who runs under a run id: the journal's instance id, and for messages the run directory. */
export interface RunOwner {
  instance: string;
  /** True for a resumed run (its own leftovers are expected and re-attached). */
  resume: boolean;
  /** Run directory, named in the hint to resume. */
  output?: string;
}

/** A claim as stored: the instance id, the run directory (for messages) and when it was made. */
export interface RunClaim {
  instance: string;
  output?: string;
  at: number;
}

// Returns false when the claim is ours now (new or same instance), else the other claim's text.
const CLAIM_LUA = `
local cur = redis.call('GET', KEYS[1])
if not cur then redis.call('SET', KEYS[1], ARGV[2]) return 'new' end
local ok, c = pcall(cjson.decode, cur)
if ok and type(c) == 'table' and c.instance == ARGV[1] then return 'ours' end
return cur
`;

const RELEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, c = pcall(cjson.decode, cur)
if ok and type(c) == 'table' and c.instance == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export function claimKey(keys: ClusterKeys, runId: string): string {
  return `${keys.base}:dehb:run:${runId}`;
}

/**
 * The refusal of a reused run id. `source`: where the connection came from (a scheduler file's
 * path, or a storage URL), named in the forget command when it is a file.
 */
function reusedError(runId: string, other: RunClaim | null, source?: string): DehbError {
  const where = other?.output === undefined ? '' : ` (run directory ${other.output})`;
  const resume = other?.output === undefined ? 'dehb run --resume --output DIR' : `dehb run --resume --output ${other.output}`;
  const file = source === undefined || source.includes('://') ? 'FILE' : source;
  return new DehbError(
    'E_USAGE',
    `run id "${runId}" is already used on this cluster by an earlier run${where} whose jobs or results are still there; continue that run with \`${resume}\`, choose another --run-id, or give that run up for good with \`dehb scheduler forget ${runId} --scheduler-file ${file}\``,
  );
}

/**
 * Claims the run id for this instance. A resumed run gets its own claim back; a fresh run is
 * refused (E_USAGE) when another instance holds it or when results/jobs of the id are left over.
 */
export async function claimRun(redis: Redis, keys: ClusterKeys, runId: string, owner: RunOwner, source?: string): Promise<void> {
  const key = claimKey(keys, runId);
  const mine: RunClaim = { instance: owner.instance, at: Date.now(), ...(owner.output === undefined ? {} : { output: owner.output }) };
  const r = (await redis.eval(CLAIM_LUA, 1, key, owner.instance, JSON.stringify(mine))) as string;
  if (r === 'ours') return;
  if (r !== 'new') throw reusedError(runId, parseClaim(r), source);
  if (owner.resume) return;
  if (await hasLeftovers(redis, keys, runId)) {
    await redis.del(key);
    throw reusedError(runId, null, source);
  }
}

/** For a fresh run before anything is created: E_USAGE when the id is claimed or has leftovers. */
export async function assertRunIdFree(redis: Redis, keys: ClusterKeys, runId: string, source?: string): Promise<void> {
  const cur = await redis.get(claimKey(keys, runId));
  if (cur !== null) throw reusedError(runId, parseClaim(cur), source);
  if (await hasLeftovers(redis, keys, runId)) throw reusedError(runId, null, source);
}

/** Who holds the run id's claim, or null. */
export async function readClaim(redis: Redis, keys: ClusterKeys, runId: string): Promise<RunClaim | null> {
  const cur = await redis.get(claimKey(keys, runId));
  return cur === null ? null : parseClaim(cur);
}

/** A finished run gives its id back (only its own claim). */
export async function releaseRun(redis: Redis, keys: ClusterKeys, runId: string, instance: string): Promise<void> {
  await redis.eval(RELEASE_LUA, 1, claimKey(keys, runId), instance);
}

/** Stored results or job keys of this run id (from a run that crashed before claims existed). */
async function hasLeftovers(redis: Redis, keys: ClusterKeys, runId: string): Promise<boolean> {
  let cursor = '0';
  do {
    const [next, flat] = (await redis.hscan(keys.results, cursor, 'MATCH', runJobIdGlob(runId), 'COUNT', 1000)) as [string, string[]];
    cursor = next;
    if (flat.some((f, i) => i % 2 === 0 && isJobOfRun(runId, f))) return true;
  } while (cursor !== '0');
  return (await runJobIds(redis, keys, runId)).length > 0;
}

/** The ids of the run's jobs on the queue (their keys, by exact id shape), sorted. */
export async function runJobIds(redis: Redis, keys: ClusterKeys, runId: string): Promise<string[]> {
  const base = `${keys.base}:`;
  const ids = (await scanKeys(redis, base, runJobIdGlob(runId))).map((k) => k.slice(base.length));
  return [...new Set(ids.filter((id) => isJobOfRun(runId, id)))].sort();
}

/** A claim read from Redis (untrusted): its instance id, and the run directory and time where they are well-formed. */
function parseClaim(text: string): RunClaim | null {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof c !== 'object' || c === null) return null;
  const { instance, output, at } = c as Record<string, unknown>;
  if (typeof instance !== 'string') return null;
  return { instance, at: typeof at === 'number' ? at : 0, ...(typeof output === 'string' ? { output } : {}) };
}
