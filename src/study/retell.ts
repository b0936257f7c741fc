/**
 * Rebuilds an optimizer state from a journal WITHOUT re-asking: for a journal written by another
 * optimizer version (or one whose re-asks no longer match), every recorded result is handed to a
 * fresh optimizer as a hand-pushed configuration at its fidelity and told at once, under its
 * original trial id. Trials asked and never told become pending again (a resume re-runs them, under
 * the same ids), pushed configurations never asked are pushed again, and the bracket counter
 * continues after the last recorded bracket; pending trials handed out by `study.ask()` keep their
 * `external` mark (their asker tells them; no run loop re-submits them). The result is a snapshot
 * entry of the CURRENT version: written to the journal, it makes every later re-open exact again.
 */
import { ask, createState, push, tell } from '../dehb/optimizer.js';
import type { DehbState, Job, ResolvedOptimizerOptions, TrialResult } from '../dehb/types.js';
import { OPTIMIZER_VERSION } from '../dehb/version.js';
import { DehbError } from '../errors.js';
import type { AskedJob, JournalEntry, RunMeta, StoredEntry } from './journal-types.js';

export type SnapshotEntry = Extract<JournalEntry, { type: 'snapshot' }>;

/** Thrown by replay when re-asking cannot rebuild the state; resuming callers re-tell instead. */
export class ReplayMismatch extends DehbError {
  constructor(
    message: string,
    readonly seq: number,
  ) {
    super('E_JOURNAL', message, { details: { seq, reason: 'replay-mismatch' } });
  }
}

function askAs(state: DehbState, job: AskedJob): void {
  push(state, job.config, job.fidelity);
  state.nextTrialId = job.trialId;
  const r = ask(state);
  if (!('job' in r) || r.job.trialId !== job.trialId) throw new Error(`re-telling trial ${job.trialId} failed`);
}

/** A snapshot (current optimizer version) equivalent to all of `entries` (a whole journal). */
export function retell(entries: readonly StoredEntry[], source: string): SnapshotEntry {
  const created = entries[0];
  if (created === undefined || created.type !== 'created') {
    throw new DehbError('E_JOURNAL', `${source}: the journal does not start with a "created" entry`);
  }
  const options: ResolvedOptimizerOptions = created.options;
  const meta: RunMeta = created.meta;
  const state = createState(options);
  const jobs = new Map<number, AskedJob>();
  const told = new Set<number>();
  const external = new Set<number>();
  const pushed: Array<{ config: Job['config']; fidelity: number }> = [];
  let manualAsked = 0;
  let budget: SnapshotEntry['budget'] = null;
  let maxTrial = -1;
  let maxBracket = -1;
  let toldCount = 0;
  const counts: Record<string, number> = {};
  for (const e of entries) {
    switch (e.type) {
      case 'asked':
        jobs.set(e.trialId, e.job);
        if (e.external === true) external.add(e.trialId);
        if (e.job.source === 'manual') manualAsked++;
        maxTrial = Math.max(maxTrial, e.trialId);
        maxBracket = Math.max(maxBracket, e.job.bracketId);
        break;
      case 'pushed':
        pushed.push({ config: e.config, fidelity: e.fidelity });
        break;
      case 'told': {
        const job = jobs.get(e.trialId);
        if (job === undefined || told.has(e.trialId)) break; // never asked, or a duplicate delivery
        told.add(e.trialId);
        toldCount++;
        counts[e.result.status] = (counts[e.result.status] ?? 0) + 1;
        askAs(state, job);
        tell(state, e.trialId, e.result as TrialResult);
        break;
      }
      case 'budget':
        budget = e.budget;
        break;
      case 'snapshot':
        budget = e.budget ?? budget;
        break;
      default:
        break;
    }
  }
  for (const [id, job] of [...jobs].sort((a, b) => a[0] - b[0])) if (!told.has(id)) askAs(state, job);
  state.nextTrialId = maxTrial + 1;
  state.iterationCounter = Math.max(state.iterationCounter, maxBracket);
  for (const p of pushed.slice(manualAsked)) push(state, p.config, p.fidelity);
  const stillExternal = [...external].filter((id) => !told.has(id)).sort((a, b) => a - b);
  return {
    type: 'snapshot',
    optimizer: OPTIMIZER_VERSION,
    state,
    applied: { told: toldCount, pushed: pushed.length },
    meta,
    budget,
    counts,
    ...(stillExternal.length === 0 ? {} : { external: stillExternal }),
  };
}
