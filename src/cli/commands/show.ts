/**
 * `dehb show DIR`: the incumbent and a trials table of a run directory, read from its journal
 * (read-only, safe while the run is going); `--format json|csv` for machines.
 */
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { TrialRecord } from '../../study/journal-types.js';
import { DehbError } from '../../errors.js';
import { journalPath } from '../../api/run-output.js';
import { historyToCsv } from '../../study/history-csv.js';
import { replay } from '../../study/replay.js';
import { renderTable } from '../table.js';

const RECORD_STATUSES: ReadonlyArray<TrialRecord['status']> = ['queued', 'running', 'ok', 'failed', 'timed-out', 'cancelled'];

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('print the incumbent and the trials of a run directory')
    .argument('<dir>', 'run directory (holds journal.jsonl)')
    .option('-f, --format <format>', 'table | json | csv', 'table')
    .addOption(new Option('--status <status>', 'only trials with this status').choices(RECORD_STATUSES))
    .action(async (dir: string, flags: { format: string; status?: string }) => {
      await showRun(dir, flags);
    });
}

export async function showRun(dir: string, flags: { format: string; status?: string }): Promise<void> {
  if (!['table', 'json', 'csv'].includes(flags.format)) {
    throw new DehbError('E_USAGE', `--format must be table, json or csv (got "${flags.format}")`);
  }
  const path = journalPath(dir);
  if (!existsSync(path)) throw new DehbError('E_USAGE', `${dir} is not a run directory: no ${path}`);
  const { FileJournal } = await import('../../study/file-journal.js'); // loaded only when it runs
  const journal = await FileJournal.open(path, { create: false });
  let r;
  try {
    r = replay(await journal.read(1), path);
  } finally {
    await journal.close();
  }
  let records = r.history.records();
  if (flags.status !== undefined) records = records.filter((t) => t.status === flags.status);
  const inc = r.state.incumbent;
  if (flags.format === 'json') {
    process.stdout.write(
      JSON.stringify({ runId: r.meta.runId, options: r.state.options, incumbent: inc, trials: records }, null, 2) + '\n',
    );
    return;
  }
  if (flags.format === 'csv') {
    process.stdout.write(historyToCsv(records));
    return;
  }
  const out: string[] = [`run ${r.meta.runId}: ${r.state.told} results, ${r.pending.length} pending${r.finished ? `, finished (${r.finished})` : ''}`];
  if (inc === null) out.push('incumbent: none yet');
  else {
    out.push(`incumbent: fitness ${inc.fitness} at fidelity ${Number(inc.fidelity.toPrecision(6))} (trial ${inc.trialId})`);
    for (const [k, v] of Object.entries(inc.config)) out.push(`  ${k} = ${JSON.stringify(v)}`);
  }
  out.push('');
  const params = Object.keys(r.state.options.space);
  const rows = records.map((t) => [
    t.trialId,
    t.status,
    t.fitness,
    t.fidelity,
    t.bracketId,
    t.durationMs,
    ...params.map((p) => (t.config[p] === undefined ? null : String(t.config[p]))),
  ]);
  out.push(renderTable(['trial', 'status', 'fitness', 'fidelity', 'bracket', 'ms', ...params], rows));
  process.stdout.write(out.join('\n'));
}
