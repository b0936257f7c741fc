/**
 * `dehb study list|show|delete|export`: read-only views of studies (never locking or writing the
 * journal) and deletion, which asks for confirmation on a terminal unless --yes and refuses without
 * --yes when stdin is not a terminal.
 */
import { createInterface } from 'node:readline/promises';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import { renderTable } from '../table.js';
import { listStudies } from '../../api/study-open.js';
import { summarize, TRIAL_STATUSES } from '../../study/study-records.js';
import { defaultStorageUrl } from '../../study/storage.js';
import { fmt, isoTime, note, out, STORAGE_HELP, withStorage, withStudy, type StorageFlags } from './study-cli.js';

interface JsonFlags extends StorageFlags {
  json?: boolean;
}

export function registerStudyManageCommands(study: Command): void {
  study
    .command('list')
    .description('list studies: kind, trials by status, best fitness, last activity')
    .option('--storage <url>', STORAGE_HELP)
    .option('--json', 'JSON array on stdout')
    .action(async (flags: JsonFlags) => {
      const rows = await listStudies({ storage: defaultStorageUrl(flags.storage) });
      if (flags.json === true) return out(JSON.stringify(rows));
      if (rows.length === 0) return note(`no studies in ${defaultStorageUrl(flags.storage)}`);
      out(
        renderTable(
          ['name', 'kind', 'trials', ...TRIAL_STATUSES, 'best', 'last activity'],
          rows.map((r) => [r.name, r.kind, r.trials, ...TRIAL_STATUSES.map((s) => r.byStatus[s]), r.best?.fitness ?? null, isoTime(r.lastActivity)]),
        ),
      );
    });

  study
    .command('show')
    .description('show a study: options, objective, input files, progress, best trial, leader and queue')
    .argument('<name>')
    .option('--storage <url>', STORAGE_HELP)
    .option('--json', 'JSON on stdout')
    .action(async (name: string, flags: JsonFlags) => {
      await withStudy(name, flags, async (st) => {
        const view = await st.view();
        const s = summarize(view);
        const { queue, lease } = await st.status();
        if (flags.json === true) {
          return out(JSON.stringify({ ...s, options: view.options, meta: view.meta, budget: view.lastBudget, finished: view.finished, queue, leader: lease }));
        }
        const o = view.options;
        const obj = view.meta.objective;
        const lines = [
          `study        ${view.name} (${st.storage.url})`,
          `kind         ${o.kind}`,
          `created      ${isoTime(view.createdAt)}`,
          `fidelity     ${o.minFidelity}..${o.maxFidelity}, eta ${o.eta}${o.fidelityType === 'int' ? ', integer rungs' : ''}${o.incumbent === 'max-fidelity' ? ', incumbent from max fidelity only' : ''}`,
          `optimizer    ${o.strategy}, F ${o.mutationFactor}, CR ${o.crossoverProb}, boundary ${o.boundaryFix}, seed ${o.seed}`,
          `space        ${Object.keys(o.space).join(', ')}`,
          `objective    ${obj === undefined ? '(none)' : obj.kind === 'command' ? `command: ${obj.argv.join(' ')}` : obj.kind === 'module' ? `module: ${obj.path}${obj.exportName ? `#${obj.exportName}` : ''}` : obj.kind}`,
        ];
        if (view.meta.trialTimeoutMs != null) lines.push(`timeout      ${view.meta.trialTimeoutMs} ms per trial`);
        for (const f of view.meta.inputFiles ?? []) lines.push(`input file   ${f.name} (${f.size} bytes, sha256 ${f.sha256.slice(0, 12)}…)`);
        lines.push(
          `trials       ${s.trials} (${TRIAL_STATUSES.map((k) => `${k} ${s.byStatus[k]}`).join(', ')})`,
          `best         ${s.best === null ? '-' : `${fmt(s.best.fitness)} (trial ${s.best.trialId}, fidelity ${fmt(s.best.fidelity)}) ${JSON.stringify(s.best.config)}`}`,
          `last budget  ${view.lastBudget === null ? '-' : JSON.stringify(view.lastBudget)}${view.finished ? ` (finished: ${view.finished})` : ''}`,
          `queue        ${queue.queued} queued, ${queue.claimed} claimed${s.pushedWaiting > 0 ? `, ${s.pushedWaiting} pushed waiting for a leader` : ''}`,
          `leader       ${lease === null ? '-' : `${lease.holder} (lease until ${isoTime(lease.expiresAt)})`}`,
          `last activity ${isoTime(view.lastActivity)}`,
        );
        out(lines.join('\n'));
      });
    });

  study
    .command('delete')
    .description('delete a study and everything it stores (asks first on a terminal)')
    .argument('<name>')
    .option('--storage <url>', STORAGE_HELP)
    .option('-y, --yes', 'do not ask')
    .action(async (name: string, flags: StorageFlags & { yes?: boolean }) => {
      await withStorage(flags, async (storage) => {
        if (!(await storage.studyExists(name))) {
          throw new DehbError('E_STUDY', `no study named "${name}" in ${storage.url}`);
        }
        if (flags.yes !== true) {
          if (process.stdin.isTTY !== true) {
            throw new DehbError('E_USAGE', `refusing to delete study "${name}" without --yes (stdin is not a terminal)`);
          }
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(`delete study "${name}" and all its trials from ${storage.url}? [y/N] `);
          rl.close();
          if (!/^y(es)?$/i.test(answer.trim())) return note('not deleted');
        }
        await storage.deleteStudy(name);
        note(`deleted study "${name}"`);
      });
    });

  study
    .command('export')
    .description('export a study: JSON (options, summary, every trial) or CSV (one row per trial)')
    .argument('<name>')
    .option('--storage <url>', STORAGE_HELP)
    .option('-f, --format <format>', 'json | csv', 'json')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (name: string, flags: StorageFlags & { format: string; output?: string }) => {
      if (flags.format !== 'json' && flags.format !== 'csv') {
        throw new DehbError('E_USAGE', `--format must be json or csv (got "${flags.format}")`);
      }
      await withStudy(name, flags, async (st) => {
        const text = await st.export(flags.format as 'json' | 'csv');
        if (flags.output === undefined) return out(text);
        await writeFile(flags.output, text);
        note(`wrote ${flags.output}`);
      });
    });
}
