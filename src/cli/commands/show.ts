/**
 * `dehb show DIR`: a summary of a run directory (trials per status, the incumbent) and its best
 * trials, read from the journal (read-only, never locks, safe while the run is going). The
 * records are rebuilt from the journal's entries alone, without replaying the optimizer.
 * `--all`, `--limit N`, `--sort fitness|time|id`, `--status S`; `--format json|csv` print every
 * trial (the history files' content, derived on demand) unless --limit is given.
 */
import { Option, type Command } from 'commander';
import { TRIAL_STATUSES } from '../../protocol/journal-versions.js';
import type { ShowFlags } from './show-run.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description('print the summary, the incumbent and the best trials of a run directory')
    .argument('<dir>', 'run directory (holds journal.jsonl)')
    .option('-f, --format <format>', 'table | json | csv', 'table')
    .addOption(new Option('--status <status>', 'only trials with this status').choices(TRIAL_STATUSES))
    .option('--all', 'every trial (the table shows the best 20 by default)')
    .option('--limit <n>', 'at most N trials')
    .option('--sort <key>', 'fitness (best first; default) | time (last finished first) | id')
    .action(async (dir: string, flags: ShowFlags) => {
      // the journal readers load only when the command runs (dehb --help stays light)
      await (await import('./show-run.js')).showRun(dir, flags);
    });
}

