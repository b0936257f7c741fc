/**
 * The summary of a run journal for `dehb show` without building every record: results are parsed
 * (status, fitness, time), the long `asked` lines are kept unparsed and only those of the trials
 * shown are parsed; `started`, `report` and `snapshot` lines are skipped. So showing the best 20
 * trials of a 50k-trial run parses about a third of the file.
 */
import { DehbError } from '../errors.js';
import { TrialHistory, toldExtra } from './history.js';
import type { StoredEntry, TrialRecord } from './journal-types.js';
import { corrupted, scanJournalSync, type RawLine } from './journal-tail.js';
import { countsForIncumbent } from './incumbent.js';
import { parseStoredLine } from '../protocol/journal-schemas.js';
import { FINISHED_STATUSES } from '../protocol/journal-versions.js';

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
  /** First result per trial: what ranking needs, read from the line's head; the line for the rows shown. */
  const told = new Map<number, ToldBrief>();
  /** Under `max-fidelity`: the trials whose results may be the incumbent (countsForIncumbent). */
  const eligible = new Set<number>();
  const keepTold = (b: ToldBrief): void => {
    if (!told.has(b.trialId)) told.set(b.trialId, b);
  };
  scanJournalSync(
    path,
    (e) => {
      if (e.type === 'created') created ??= e;
      else if (e.type === 'finished') finished = e.reason;
      else if (e.type === 'told') keepTold(briefOf(e));
    },
    {
      want: { created: 'parse', finished: 'parse', told: 'raw', asked: 'raw' },
      raw: (type, line) => {
        if (type === 'told') {
          keepTold(toldHead(line) ?? briefOf(parseLine(path, line, 'told')));
          return;
        }
        const id = numberAfter(line, TRIAL_KEY);
        if (id === null || asked.has(id)) return;
        asked.set(id, line);
        // `created` is the first line, so the rule is known here
        if (created === null || created.options.incumbent !== 'max-fidelity') return;
        const k = line.buf.indexOf(FIDELITY_KEY, line.from);
        const fidelity = k < 0 || k >= line.to ? null : jsonNumberAt(line, k + FIDELITY_KEY.length);
        if (fidelity !== null && countsForIncumbent(fidelity, created.options)) eligible.add(id);
      },
    },
  );
  if (created === null) throw new DehbError('E_JOURNAL', `${path}: the journal does not start with a "created" entry`);
  const counts: Record<string, number> = {};
  let best: ToldBrief | null = null;
  const topOnly = (created as Created).options.incumbent === 'max-fidelity';
  for (const t of told.values()) {
    if (!asked.has(t.trialId)) continue; // a result for a trial never asked: not a trial of this run
    counts[t.status] = (counts[t.status] ?? 0) + 1;
    if (topOnly && !eligible.has(t.trialId)) continue;
    if (t.fitness < Infinity && (best === null || t.fitness < best.fitness)) best = t;
  }
  const ids = [...asked.keys()];
  const key = (id: number): number => {
    const t = told.get(id);
    if (sort === 'id') return id;
    if (sort === 'time') return t === undefined ? -Infinity : -t.at;
    return t === undefined ? Infinity : t.fitness;
  };
  const shown = ids.sort((a, b) => key(a) - key(b) || a - b).slice(0, limit);
  if (best !== null && !shown.includes(best.trialId)) shown.push(best.trialId);
  const history = new TrialHistory();
  for (const id of shown) {
    const a = parseLine(path, asked.get(id) as RawLine, 'asked');
    history.onAsked(a.job, a.at, a.external === true);
    const brief = told.get(id);
    if (brief === undefined) continue;
    const t = brief.line === null ? (brief.entry as Told) : parseLine(path, brief.line, 'told');
    history.onTold(id, t.result, toldExtra(t));
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

/** A told entry as ranking needs it; `line` (or the parsed `entry`) for the rows shown. */
interface ToldBrief {
  trialId: number;
  status: string;
  /** The result's fitness if ok, else +Infinity. */
  fitness: number;
  at: number;
  line: RawLine | null;
  entry: Told | null;
}

function briefOf(e: Told): ToldBrief {
  const fitness = e.result.status === 'ok' && typeof e.result.fitness === 'number' ? e.result.fitness : Infinity;
  return { trialId: e.trialId, status: e.result.status, fitness, at: e.at, line: null, entry: e };
}

function parseLine<T extends 'asked' | 'told'>(path: string, line: RawLine, type: T): Extract<StoredEntry, { type: T }> {
  const parsed = parseStoredLine(line.buf.toString('utf8', line.from, line.to));
  if (!parsed.ok || parsed.entry.type !== type) throw corrupted(`${path}:${line.line}`, parsed.ok ? `not a "${type}" entry` : parsed.reason);
  return parsed.entry as Extract<StoredEntry, { type: T }>;
}

const AT_KEY = Buffer.from('"at":');
const STATUS_HEAD = Buffer.from('"result":{"status":"');
const FITNESS_KEY = Buffer.from(',"fitness":');
const STATUSES: ReadonlySet<string> = new Set(FINISHED_STATUSES);
const NUMBER_CHARS = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * The ranking fields of a told line as its writers put them (`{"seq":..,"at":T,..,"trialId":N,
 * "result":{"status":"S","fitness":F` ...), read without decoding the line; null when the line
 * has another shape (then it is parsed and checked in full). The rows shown are always parsed in
 * full, so a line read here only ever counts and ranks.
 */
function toldHead(line: RawLine): ToldBrief | null {
  const { buf, from, to } = line;
  const trialId = numberAfter(line, TRIAL_KEY);
  const at = numberAfter(line, AT_KEY);
  const s = buf.indexOf(STATUS_HEAD, from);
  if (trialId === null || at === null || s < 0 || s >= to || s - from > 160) return null;
  const s0 = s + STATUS_HEAD.length;
  const s1 = buf.indexOf(0x22, s0);
  if (s1 < 0 || s1 >= to) return null;
  const status = buf.toString('latin1', s0, s1);
  if (!STATUSES.has(status)) return null;
  let fitness = Infinity;
  if (status === 'ok') {
    if (buf.compare(FITNESS_KEY, 0, FITNESS_KEY.length, s1 + 1, s1 + 1 + FITNESS_KEY.length) !== 0) return null;
    const f = jsonNumberAt(line, s1 + 1 + FITNESS_KEY.length);
    if (f === null) return null; // null (a non-finite fitness) and the like: parse in full
    fitness = f;
  }
  return { trialId, status, fitness, at, line, entry: null };
}

/** The JSON number that starts at `from` (up to the next `,` or `}`), or null when it is none. */
function jsonNumberAt(line: RawLine, from: number): number | null {
  let end = from;
  while (end < line.to && line.buf[end] !== 0x2c && line.buf[end] !== 0x7d) end++;
  const text = line.buf.toString('latin1', from, end);
  return NUMBER_CHARS.test(text) ? Number(text) : null;
}

const TRIAL_KEY = Buffer.from('"trialId":');
const FIDELITY_KEY = Buffer.from('"fidelity":');

/**
 * The first `"<key>":N` (a whole number) of a line: an asked entry's own trialId comes before its
 * job (and the job's fidelity before its config, so a parameter named like a key is never read).
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
