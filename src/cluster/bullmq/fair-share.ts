/**
 * Owns fair share between the runs that share one queue: start-time fair queuing on BullMQ job
 * priorities (workers take the lowest priority first, FIFO among equals). Each run gives its jobs
 * consecutive virtual start tags, 1/weight apart, starting no earlier than the queue's virtual time
 * V (the highest tag any run has seen finish), so a run with 32 jobs in flight and one with 4 get
 * one job each per "round" (weight w: w per round), and a run that joins late or was idle gets no
 * credit for the rounds it missed. V is kept in Redis (`<prefix>:<queue>:dehb:fair-v`, forgotten
 * after an hour without runs) and synced by each coordinator in the background, never on a trial's
 * path. BullMQ caps priorities at 2^21; tags beyond that are served FIFO (documented).
 */
import { DehbError } from '../../errors.js';
import type { Redis } from '../../redis/connection.js';

/** BullMQ's highest job priority (2^21). */
export const MAX_PRIORITY = 2_097_152;
const V_TTL_S = 3600;

// raises the stored V to ARGV[1] if higher, refreshes its TTL, returns it
const RAISE_V = `local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if n > v then v = n end
redis.call('SET', KEYS[1], v, 'EX', ARGV[2])
return v`;

export function fairShareKey(base: string): string {
  return `${base}:dehb:fair-v`;
}

/** Validates a run's weight (library key `weight`; the CLI's --weight). */
export function checkWeight(weight: number | undefined, name = 'weight'): number {
  if (weight === undefined) return 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0 || weight > 1000) {
    throw new DehbError('E_CONFIG', `${name} must be a number > 0 and <= 1000 (got ${String(weight)}); 1 is a fair share, 2 twice that`);
  }
  return weight;
}

export class FairShare {
  /** This run's next virtual start tag. */
  private finish = 0;
  /** The queue's virtual time as last synced. */
  private v = 0;
  /** Highest priority of this run's jobs that finished (what it publishes). */
  private served = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    readonly weight: number,
  ) {}

  /** The priority for this run's next job, of `trials` trials (a batch job advances the run's virtual time by each). */
  next(trials = 1): number {
    const start = Math.max(this.finish, this.v);
    this.finish = start + trials / this.weight;
    return Math.min(MAX_PRIORITY, 1 + Math.floor(start));
  }

  /** A job of this run with this priority finished (it was served, so V is at least there). */
  finished(priority: number | undefined): void {
    if (priority !== undefined && priority > this.served) this.served = priority;
  }

  /** Publishes what this run saw finish and reads the queue's V. Errors are the caller's to ignore. */
  async sync(): Promise<void> {
    const v = Number(await this.redis.eval(RAISE_V, 1, this.key, String(this.served), String(V_TTL_S)));
    // V is a priority (1 + tag): a job started now gets the tag of the round being served
    if (Number.isFinite(v) && v - 1 > this.v) this.v = v - 1;
  }
}
