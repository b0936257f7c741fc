/**
 * The summary of a run journal for `dehb show` without building every record: results are parsed
 * (status, fitness, time), the long `asked` lines are kept unparsed and only those of the trials
 * shown are parsed; `started`, `report` and `snapshot` lines are skipped. So showing the best 20
 * trials of a 50k-trial run parses about a third of the file.
 */
import { DehbError } from '../errors.js';
import { fidelityLadder } from '../dehb/fidelity.js';
import { TrialHistory } from './history.js';
import type { StoredEntry, TrialRecord } from './journal-types.js';
import { scanJournalSync, type RawLine } from './journal-tail.js';
import { parseStoredLine } from '../protocol/journal-schemas.js';

type Created = Extract<StoredEntry, { type: 'created' }>;
type Told = Extract<StoredEntry, { type: 'told' }>;
export type ShowSort = 'fitness' | 'time' | 'id';

export interface JournalSummary {
  created: Created;
  finished: string | null;
  /** Results per status (first result per trial). */
  counts: Record<string, number>;
  /** Trials asked and never told. */
  pending: number;
  /** The best successful trial (first to reach the best fitness). */
  incumbent: TrialRecord | null;
  /** The first `limit` trials by `sort`. */
  rows: TrialRecord[];
  /** Trials in all (asked). */
  total: number;
}

export function summarizeJournal(path: string, sort: ShowSort, limit: number): JournalSummary {
  let created: Created | null = null;
  let finished: string | null = null;
  const asked = new Map<number, RawLine>();
  const told = new Map<number, Told>();
  const topRungTrials = new Set<number>();
  let topRung: number | null | undefined; // known once `created` (the first line) is read
  scanJournalSync(
    path,
    (e) => {
      if (e.type === 'created') created ??= e;
      else if (e.type === 'finished') finished = e.reason;
      else if (e.type === 'told' && !told.has(e.trialId)) told.set(e.trialId, e);
    },
    {
      want: { created: 'parse', finished: 'parse', told: 'parse', asked: 'raw' },
      raw: (_type, line) => {
        const id = numberAfter(line, TRIAL_KEY);
        if (id === null || asked.has(id)) return;
        asked.set(id, line);
        topRung ??= created === null ? null : incumbentRung(created);
        if (topRung !== null && numberAfter(line, RUNG_KEY) === topRung) topRungTrials.add(id);
      },
    },
  );
  if (created === null) throw new DehbError('E_JOURNAL', `${path}: the journal does not start with a "created" entry`);
  const counts: Record<string, number> = {};
  let best: Told | null = null;
  const fit = (t: Told): number => (t.result.status === 'ok' && typeof t.result.fitness === 'number' ? t.result.fitness : Infinity);
  for (const t of told.values()) {
    if (!asked.has(t.trialId)) continue; // a result for a trial never asked: not a trial of this run
    counts[t.result.status] = (counts[t.result.status] ?? 0) + 1;
    if (incumbentRung(created) !== null && !topRungTrials.has(t.trialId)) continue;
    if (fit(t) < Infinity && (best === null || fit(t) < fit(best))) best = t;
  }
  const ids = [...asked.keys()];
  const key = (id: number): number => {
    const t = told.get(id);
    if (sort === 'id') return id;
    if (sort === 'time') return t === undefined ? -Infinity : -t.at;
    return t === undefined ? Infinity : fit(t);
  };
  const shown = ids.sort((a, b) => key(a) - key(b) || a - b).slice(0, limit);
  if (best !== null && !shown.includes(best.trialId)) shown.push(best.trialId);
  const history = new TrialHistory();
  for (const id of shown) {
    const raw = asked.get(id) as RawLine;
    const parsed = parseStoredLine(raw.buf.toString('utf8', raw.from, raw.to));
    if (!parsed.ok || parsed.entry.type !== 'asked') {
      throw new DehbError('E_JOURNAL', `${path}: corrupted "asked" entry of trial ${id} (${parsed.ok ? 'wrong type' : parsed.reason})`);
    }
    history.onAsked(parsed.entry.job, parsed.entry.at);
    const t = told.get(id);
    if (t !== undefined) history.onTold(id, t.result, { worker: t.worker, durationMs: t.durationMs, at: t.at });
  }
  const rows = shown.slice(0, limit).map((id) => history.get(id) as TrialRecord);
  return {
    created,
    finished,
    counts,
    pending: ids.length - Object.values(counts).reduce((a, b) => a + b, 0),
    incumbent: best === null ? null : (history.get(best.trialId) ?? null),
    rows,
    total: ids.length,
  };
}

/**
 * With the `max-fidelity` incumbent rule, the rung whose results alone may be the incumbent (the
 * optimizer's rule, optimizer.ts); null under `any-fidelity`, the reference's.
 */
export function incumbentRung(created: Created): number | null {
  const o = created.options;
  if (o.incumbent !== 'max-fidelity') return null;
  return fidelityLadder(o.minFidelity, o.maxFidelity, o.eta, o.fidelityType ?? 'float').length - 1;
}

const TRIAL_KEY = Buffer.from('"trialId":');
const RUNG_KEY = Buffer.from('"rung":');

/**
 * The first `"<key>":N` of a line: an asked entry's own trialId comes before its job, and the job's
 * rung before its config (so a parameter named like a key is never read instead).
 */
function numberAfter(line: RawLine, key: Buffer): number | null {
  const i = line.buf.indexOf(key, line.from);
  if (i < 0 || i >= line.to) return null;
  let n = 0;
  let k = i + key.length;
  const first = k;
  for (; k < line.to; k++) {
    const c = line.buf[k] as number;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return k === first ? null : n;
}
