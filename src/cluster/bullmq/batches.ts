/**
 * Owns the coordinator's batch jobs (`--trials-per-job`): several trials submitted together packed
 * into one BullMQ job, so the per-job cost (BullMQ's add, fetch, completion and event: ~40 Redis
 * commands and a few round trips) is paid once per K trials when trials are short. It decides K
 * (the `auto` rule below), packs a flush's entries, names batch jobs (`<run>-<first trial>.b<id>`,
 * unique per coordinator instance, never reused), and keeps which trial is in which batch until
 * the run has recorded it. Only a trial's first evaluation is packed: a retry (`.r<n>`), a trial
 * handed back or queued again, and a resumed one go singly, under their own trial job ids.
 *
 * The auto rule: K = 1 until completions have been measured and while the workers' slots are
 * unknown; then K = ceil(10 x overhead / trial time) (so the per-job overhead, measured as a job's
 * completion latency minus the run time its worker reported, is at most a tenth of a batch's run
 * time: a trial 10x longer than the overhead gets K = 1), at most AUTO_MAX, and at most the run's
 * trials in flight / (2 x the workers' slots), so there are two jobs per slot: one running and one
 * queued behind it (a slot that finishes finds its next job waiting instead of waiting a round
 * trip to the coordinator for it; packing further would cost that round trip, per batch). A worker's slots
 * are its --concurrency capped at its cores (packing only happens for short trials, which are
 * CPU-bound on the worker's node) plus its --prefetch (jobs it holds ahead: fewer jobs than that
 * would let one worker hold two while another idles), from its host facts.
 */
import type { Batch, Entry } from './pending.js';
import { batchJobId, trialJobId } from '../../protocol/job-ids.js';
import { CANCEL_REQUEST_REASON, type BatchOutcome, type Parsed, type WireOutcome } from '../../protocol/wire.js';

export type { Batch } from './pending.js';

/** The largest K the auto rule picks. */
export const AUTO_MAX_TRIALS_PER_JOB = 16;

/** Measures per-job overhead and trial time from completions and turns them into K. */
export class BatchSizer {
  private overheadMs = Number.NaN;
  private trialMs = Number.NaN;
  /** Sum over live workers of min(concurrency, cores) + prefetch; undefined: unknown. */
  slots: number | undefined;

  constructor(readonly setting: number | 'auto') {}

  /** A job of n trials completed latencyMs after its add, its worker reporting runMs of evaluation. */
  observe(latencyMs: number, runMs: number, n: number): void {
    if (!(n > 0) || !Number.isFinite(latencyMs) || !Number.isFinite(runMs)) return;
    const ew = (old: number, x: number): number => (Number.isNaN(old) ? x : old + 0.2 * (x - old));
    this.overheadMs = ew(this.overheadMs, Math.max(0, latencyMs - runMs));
    this.trialMs = ew(this.trialMs, Math.max(0, runMs / n));
  }

  /** Trials per job for a flush while `inFlight` trials of the run are in flight. */
  k(inFlight: number): number {
    if (this.setting !== 'auto') return this.setting;
    if (this.slots === undefined || this.slots < 1 || Number.isNaN(this.overheadMs)) return 1;
    const byTime = Math.ceil((10 * this.overheadMs) / Math.max(this.trialMs, 0.01));
    const bySlots = Math.floor(inFlight / (2 * this.slots));
    return Math.max(1, Math.min(AUTO_MAX_TRIALS_PER_JOB, byTime, bySlots));
  }
}

/**
 * What a batch job's returnvalue means for each unsettled member: its outcome (or why it is
 * unusable), or 'again' when it must go again singly (handed back: the worker stopped first; or
 * cancelled at an earlier coordinator's request, while this one wants it). One outcome for the
 * whole job (the worker refused it) holds for every member. Also the run time the worker reported.
 */
export function memberVerdicts(b: Batch, p: Parsed<BatchOutcome | WireOutcome>): { verdicts: Array<[Entry, Parsed<WireOutcome> | 'again']>; runMs: number; ran: number } {
  const items = new Map<number, BatchOutcome['batch'][number]>();
  if (p.ok && 'batch' in p.value) for (const it of p.value.batch) items.set(it.trialId, it);
  const verdicts: Array<[Entry, Parsed<WireOutcome> | 'again']> = [];
  let runMs = 0;
  let ran = 0;
  for (const e of b.members.values()) {
    if (e.settled) continue;
    let v: Parsed<WireOutcome> | 'again';
    if (!p.ok) v = p;
    else if (!('batch' in p.value)) v = { ok: true, value: p.value };
    else {
      const it = items.get(e.task.trialId);
      if (it === undefined) v = { ok: false, message: `job ${b.id} returned no outcome for trial ${e.task.trialId}` };
      else v = 'handedBack' in it ? 'again' : { ok: true, value: it.outcome };
    }
    if (v !== 'again' && v.ok && v.value.status === 'cancelled' && v.value.reason === CANCEL_REQUEST_REASON) v = 'again';
    if (v !== 'again' && v.ok) {
      runMs += v.value.durationMs ?? 0;
      ran++;
    }
    verdicts.push([e, v]);
  }
  return { verdicts, runMs, ran };
}

export class BatchBook {
  private readonly byId = new Map<string, Batch>();
  /** trial job id -> its batch, until the run has recorded the trial */
  private readonly byMember = new Map<string, Batch>();
  /** What an earlier coordinator of the run left in the batch map (trial job id -> batch job id). */
  private resumeMap = new Map<string, string>();
  private seq = 0;
  private readonly nonce = Math.floor(Math.random() * 36 ** 4).toString(36);

  constructor(private readonly runId: string) {}

  get(id: string): Batch | undefined {
    return this.byId.get(id);
  }

  setResumeMap(map: Map<string, string>): void {
    this.resumeMap = map;
  }

  /** The batch an earlier coordinator put this trial job in (once: a second submit goes singly). */
  resumed(jobId: string): Batch | undefined {
    const id = this.resumeMap.get(jobId);
    if (id === undefined) return undefined;
    this.resumeMap.delete(jobId);
    let b = this.byId.get(id);
    if (b === undefined) {
      const unrecorded = new Set<string>([jobId]);
      for (const [j, bid] of this.resumeMap) if (bid === id) unrecorded.add(j);
      b = { id, members: new Map(), unrecorded, addedAt: Date.now(), resumed: true };
      this.byId.set(id, b);
      for (const j of unrecorded) this.byMember.set(j, b);
    }
    return b;
  }

  /**
   * Splits a flush's entries into singles and batch jobs of at most k trials (sizes balanced: 17
   * at k = 16 go as 9 + 8). Entries already in a batch (its add failed and is being retried) keep it.
   */
  pack(entries: Entry[], k: number): { singles: Entry[]; batches: Batch[] } {
    const singles: Entry[] = [];
    const kept = new Set<Batch>();
    const fresh: Entry[] = [];
    for (const e of entries) {
      if (e.batch !== undefined) kept.add(e.batch);
      else if (k <= 1 || e.single === true || e.jobId !== trialJobId(this.runId, e.task.trialId)) singles.push(e);
      else fresh.push(e);
    }
    const batches = [...kept];
    if (fresh.length === 1) singles.push(fresh[0] as Entry);
    else if (fresh.length > 1) {
      const jobs = Math.ceil(fresh.length / k);
      let at = 0;
      for (let j = 0; j < jobs; j++) {
        const size = Math.ceil((fresh.length - at) / (jobs - j));
        const group = fresh.slice(at, at + size);
        at += size;
        if (group.length === 1) singles.push(group[0] as Entry);
        else batches.push(this.create(group));
      }
    }
    return { singles, batches };
  }

  private create(group: Entry[]): Batch {
    const first = group[0] as Entry;
    const id = batchJobId(this.runId, first.task.trialId, `${this.nonce}${(this.seq++).toString(36)}`);
    const b: Batch = { id, members: new Map(), unrecorded: new Set(), addedAt: 0, resumed: false };
    for (const e of group) {
      e.batch = b;
      b.members.set(e.task.trialId, e);
      b.unrecorded.add(e.jobId);
      this.byMember.set(e.jobId, b);
    }
    this.byId.set(id, b);
    return b;
  }

  /** Takes the entry out of its batch (it goes singly now); true when the batch has nothing left to record. */
  detach(e: Entry): boolean {
    const b = e.batch;
    if (b === undefined) return false;
    e.batch = undefined;
    e.single = true;
    this.byMember.delete(e.jobId);
    b.unrecorded.delete(e.jobId);
    return this.finishIfDone(b);
  }

  /** The run recorded this trial job: the batch it was in, and whether that batch has nothing left to record. */
  recorded(jobId: string): { batch: Batch; done: boolean } | undefined {
    const b = this.byMember.get(jobId);
    if (b === undefined) return undefined;
    this.byMember.delete(jobId);
    b.unrecorded.delete(jobId);
    return { batch: b, done: this.finishIfDone(b) };
  }

  private finishIfDone(b: Batch): boolean {
    if (b.unrecorded.size > 0) return false;
    this.byId.delete(b.id);
    return true;
  }

  /** Forgets a batch whose job is gone (every member settled elsewhere). */
  drop(b: Batch): void {
    this.byId.delete(b.id);
    for (const j of b.unrecorded) this.byMember.delete(j);
  }
}
