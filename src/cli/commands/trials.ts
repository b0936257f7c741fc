/**
 * `dehb trials NAME [--status ...] [--format table|json|csv]` and `dehb trial show NAME ID`:
 * read-only views of a study's trials, computed from the journal without locking it, so they never
 * block or disturb a running study.
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { renderTable } from '../table.js';
import { canonicalStatus, exportCsv, TRIAL_STATUSES } from '../../study/study-records.js';
import { fmt, intFlag, isoTime, out, STORAGE_HELP, withStudy, type StorageFlags } from './study-cli.js';

interface TrialsFlags extends StorageFlags {
  status?: string;
  format: string;
}

export function registerTrialsCommand(program: Command): void {
  program
    .command('trials')
    .description('list the trials of a study: id, status, worker, fidelity, parameters, fitness, cost, duration, last value')
    .argument('<name>', 'study name')
    .option('-s, --status <list>', `only these statuses, comma-separated (${TRIAL_STATUSES.join(', ')})`)
    .option('-f, --format <format>', 'table | json | csv', 'table')
    .option('--storage <url>', STORAGE_HELP)
    .action(async (name: string, flags: TrialsFlags) => {
      if (!['table', 'json', 'csv'].includes(flags.format)) {
        throw new DehbError('E_USAGE', `--format must be table, json or csv (got "${flags.format}")`);
      }
      const statuses = flags.status?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      for (const s of statuses ?? []) {
        if (!TRIAL_STATUSES.includes(canonicalStatus(s) as never)) {
          throw new DehbError('E_USAGE', `--status: unknown status "${s}" (use ${TRIAL_STATUSES.join(', ')})`);
        }
      }
      await withStudy(name, flags, async (study) => {
        const trials = await study.trials(statuses === undefined ? {} : { status: statuses });
        if (flags.format === 'json') return out(JSON.stringify(trials));
        if (flags.format === 'csv') return out(exportCsv(trials));
        const params = [...new Set(trials.flatMap((t) => Object.keys(t.config)))];
        out(
          renderTable(
            ['id', 'status', 'worker', 'fidelity', ...params, 'fitness', 'cost', 'duration_ms', 'last_value'],
            trials.map((t) => [
              t.trialId,
              t.status,
              t.worker?.id ?? t.worker?.host ?? '',
              t.fidelity,
              ...params.map((p) => (t.config[p] === undefined ? '' : typeof t.config[p] === 'number' ? (t.config[p] as number) : String(t.config[p]))),
              t.fitness,
              t.cost,
              t.durationMs,
              t.reports.length === 0 ? null : (t.reports[t.reports.length - 1] as { value: number }).value,
            ]),
          ),
        );
      });
    });
}

export function registerTrialCommand(program: Command): void {
  const trial = program.command('trial').description('one trial of a study');
  trial
    .command('show')
    .description('show a trial: parameters, result, error, info, worker, logs location, intermediate values')
    .argument('<name>', 'study name')
    .argument('<id>', 'trial id')
    .option('--storage <url>', STORAGE_HELP)
    .option('--json', 'JSON on stdout')
    .action(async (name: string, id: string, flags: StorageFlags & { json?: boolean }) => {
      const trialId = intFlag(id, 'trial id', 0) as number;
      await withStudy(name, flags, async (study) => {
        const t = await study.trial(trialId);
        if (flags.json === true) return out(JSON.stringify(t));
        const w = t.worker;
        const lines = [
          `trial        ${t.trialId} of study "${name}"`,
          `status       ${t.status}`,
          `source       ${t.source} (bracket ${t.bracketId}, rung ${t.rung}, config ${t.configId})`,
          `fidelity     ${fmt(t.fidelity)}`,
          `parameters   ${JSON.stringify(t.config)}`,
          `fitness      ${fmt(t.fitness)}`,
          `cost         ${fmt(t.cost)}`,
          `worker       ${w === null ? '' : [w.id, w.host, w.pid === undefined ? undefined : `pid ${w.pid}`].filter(Boolean).join(', ')}`,
          `asked        ${isoTime(t.askedAt)}`,
          `started      ${isoTime(t.startedAt)}`,
          `finished     ${isoTime(t.finishedAt)}${t.durationMs === null ? '' : ` (${t.durationMs} ms)`}`,
          ...(t.queueWaitMs === undefined ? [] : [`queue wait   ${t.queueWaitMs} ms (before it ran; not in the duration)`]),
          `logs         ${t.trialDir ?? '-'}`,
        ];
        if (t.error !== null && t.error !== undefined) lines.push(`error        ${t.error.name ? `${t.error.name}: ` : ''}${t.error.message}`);
        if (Object.keys(t.info).length > 0) lines.push(`info         ${JSON.stringify(t.info)}`);
        lines.push(`reports      ${t.reports.length === 0 ? '-' : t.reports.map((r) => `${fmt(r.step)}:${fmt(r.value)}`).join(' ')}`);
        out(lines.join('\n'));
      });
    });
}
