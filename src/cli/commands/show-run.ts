/**
 * What `dehb show DIR` prints: the summary, the incumbent and the best (or all) trials of a run
 * directory, read from its journal without replaying the optimizer (registration in show.ts).
 */
import { existsSync } from 'node:fs';
import { DehbError } from '../../errors.js';
import { journalPath } from '../../api/run-output.js';
import { historyToCsv } from '../../study/history-csv.js';
import { TrialHistory } from '../../study/history.js';
import type { StoredEntry, TrialRecord } from '../../study/journal-types.js';
import { scanJournalSync } from '../../study/journal-tail.js';
import { bestRecord, incumbentSummary } from '../../study/incumbent.js';
import { summarizeJournal, type JournalSummary, type ShowSort } from '../../study/journal-summary.js';
import { renderTable } from '../table.js';
import { isFinished } from '../../protocol/journal-versions.js';

export interface ShowFlags {
  format: string;
  status?: string;
  all?: boolean;
  limit?: string;
  sort?: string;
}

const DEFAULT_ROWS = 20;
const SORTS = ['fitness', 'time', 'id'] as const;

type Created = Extract<StoredEntry, { type: 'created' }>;

export async function showRun(dir: string, flags: ShowFlags): Promise<void> {
  if (!['table', 'json', 'csv'].includes(flags.format)) {
    throw new DehbError('E_USAGE', `--format must be table, json or csv (got "${flags.format}")`);
  }
  const sort = flags.sort ?? (flags.format === 'table' ? 'fitness' : 'id');
  if (!(SORTS as readonly string[]).includes(sort)) throw new DehbError('E_USAGE', `--sort must be fitness, time or id (got "${sort}")`);
  const limit = flags.limit === undefined ? undefined : Number(flags.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new DehbError('E_USAGE', `--limit must be a whole number >= 0 (got "${flags.limit}")`);
  }
  const path = journalPath(dir);
  if (!existsSync(path)) throw new DehbError('E_USAGE', `${dir} is not a run directory: no ${path}`);
  const table = flags.format === 'table';
  const want = flags.all === true ? Infinity : (limit ?? (table ? DEFAULT_ROWS : Infinity));
  // the usual look (a table of the best few) parses only what it shows; the rest reads everything
  let s = table && flags.status === undefined && want <= 1000 ? summarizeJournal(path, sort as ShowSort, want) : null;
  // the fast look does not know each result's fidelity: the max-fidelity incumbent rule needs every record
  if (s === null || s.created.options.incumbent === 'max-fidelity') s = fullSummary(path, sort, want, flags.status);
  const head = s.created;
  const inc = incumbentSummary(s.incumbent);
  if (flags.format === 'json') {
    process.stdout.write(
      JSON.stringify({ runId: head.meta.runId, options: head.options, optimizer: head.optimizer ?? 1, incumbent: inc, trials: s.rows }, null, 2) + '\n',
    );
    return;
  }
  if (flags.format === 'csv') {
    process.stdout.write(historyToCsv(s.rows, Object.keys(head.options.space)));
    return;
  }
  const results = Object.values(s.counts).reduce((a, b) => a + b, 0);
  const byStatus = Object.entries(s.counts).map(([k, v]) => `${v} ${k}`).join(', ');
  const out: string[] = [
    `run ${head.meta.runId}: ${results} results, ${s.pending} pending${s.finished === null ? '' : `, finished (${s.finished})`}`,
  ];
  if (byStatus !== '') out.push(`trials: ${byStatus}`);
  if (inc === null) out.push('incumbent: none yet');
  else {
    out.push(`incumbent: fitness ${inc.fitness} at fidelity ${Number(inc.fidelity.toPrecision(6))} (trial ${inc.trialId})`);
    for (const [k, v] of Object.entries(inc.config)) out.push(`  ${k} = ${JSON.stringify(v)}`);
  }
  out.push('');
  const params = Object.keys(head.options.space);
  const cells = s.rows.map((t) => [
    t.trialId,
    t.status,
    t.fitness,
    t.fidelity,
    t.bracketId,
    t.durationMs,
    ...params.map((p) => (t.config[p] === undefined ? null : String(t.config[p]))),
  ]);
  out.push(renderTable(['trial', 'status', 'fitness', 'fidelity', 'bracket', 'ms', ...params], cells));
  if (s.rows.length < s.total) {
    out.push(`(${s.rows.length} of ${s.total} trials, by ${sort}; --all or --limit N for more, --format csv|json for machines)`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** Every record rebuilt from the journal (json, csv, --all, --status). */
function fullSummary(path: string, sort: string, limit: number, status: string | undefined): JournalSummary {
  const history = new TrialHistory();
  let created: Created | null = null;
  let finished: string | null = null;
  const told: number[] = [];
  scanJournalSync(path, (e) => {
    if (e.type === 'created') created ??= e;
    else if (e.type === 'finished') finished = e.reason;
    else if (history.absorbEntry(e)) told.push((e as { trialId: number }).trialId);
  });
  if (created === null) throw new DehbError('E_JOURNAL', `${path}: the journal does not start with a "created" entry`);
  const all = history.records();
  const counts: Record<string, number> = {};
  let pending = 0;
  for (const t of all) {
    if (!isFinished(t.status)) pending++;
    else counts[t.status] = (counts[t.status] ?? 0) + 1;
  }
  const rows = sortRecords(status === undefined ? all : all.filter((t) => t.status === status), sort);
  return { created, finished, counts, pending, incumbent: bestRecord(told.map((id) => history.get(id)), (created as Created).options), rows: rows.slice(0, limit), total: rows.length };
}

function sortRecords(records: TrialRecord[], sort: string): TrialRecord[] {
  if (sort === 'id') return records;
  if (sort === 'time') return [...records].sort((a, b) => (b.finishedAt ?? Infinity) - (a.finishedAt ?? Infinity) || b.trialId - a.trialId);
  const f = (r: TrialRecord): number => (r.fitness === null ? Infinity : r.fitness);
  return [...records].sort((a, b) => f(a) - f(b) || a.trialId - b.trialId);
}
