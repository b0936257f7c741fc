/**
 * `dehb report RUN_DIR --output FILE.html` / `dehb report --study NAME --storage URL`, and
 * `dehb dashboard RUN_DIR | --study NAME [--storage URL] [--port 8080] [--host 127.0.0.1]`; plus
 * `startRunDashboard`, which `dehb run --dashboard` and `dehb optimize --dashboard` call. The
 * report code (src/report) is imported only when one of these runs.
 */
import type { Command } from 'commander';
import { DehbError } from '../../errors.js';
import type { SourceSpec } from '../../report/source.js';
import { intFlag } from '../flags.js';

interface SourceFlags {
  study?: string;
  storage?: string;
}

function sourceOf(dir: string | undefined, flags: SourceFlags): SourceSpec {
  if (dir !== undefined && flags.study !== undefined) throw new DehbError('E_USAGE', 'give a run directory or --study NAME, not both');
  if (dir !== undefined) {
    if (flags.storage !== undefined) throw new DehbError('E_USAGE', '--storage goes with --study NAME (a run directory needs neither)');
    return { dir };
  }
  if (flags.study === undefined) throw new DehbError('E_USAGE', 'missing run: give a run directory (the --output of dehb run) or --study NAME [--storage URL]');
  return { study: flags.study, ...(flags.storage === undefined ? {} : { storage: flags.storage }) };
}

export function registerReportCommands(program: Command): void {
  program
    .command('report')
    .description('write a self-contained HTML report of a run or study (opens offline from disk)')
    .argument('[dir]', 'run directory (holds journal.jsonl)')
    .option('--study <name>', 'a named study instead of a run directory')
    .option('--storage <url>', 'storage of --study: a directory, file:DIR, redis:// URL or scheduler file (default $DEHB_STORAGE or ./dehb-studies)')
    .option('-o, --output <file>', 'the HTML file to write', 'report.html')
    .action(async (dir: string | undefined, flags: SourceFlags & { output: string }) => {
      const spec = sourceOf(dir, flags);
      const { writeReport } = await import('../../report/report.js');
      const r = await writeReport(spec, flags.output);
      process.stderr.write(`wrote ${r.path} (${r.trials} trials, ${(r.bytes / 1024).toFixed(0)} KiB); open it in a browser\n`);
    });
  program
    .command('dashboard')
    .description('serve a live dashboard of a run or study (updates as the journal grows)')
    .argument('[dir]', 'run directory (holds journal.jsonl)')
    .option('--study <name>', 'a named study instead of a run directory')
    .option('--storage <url>', 'storage of --study (default $DEHB_STORAGE or ./dehb-studies)')
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <addr>', 'address to bind; anything but loopback requires the printed access token', '127.0.0.1')
    .action(async (dir: string | undefined, flags: SourceFlags & { port: string; host: string }) => {
      const spec = sourceOf(dir, flags);
      const port = portFlag(flags.port, '--port');
      const dash = await startDashboardFor(spec, { host: flags.host, port });
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await dash.close();
    });
}

export function portFlag(value: string, flag: string): number {
  const port = intFlag(value, flag, 0);
  if (port === undefined || port > 65535) throw new DehbError('E_USAGE', `${flag} must be a TCP port 0-65535 (got "${value}")`);
  return port;
}

/** Starts a dashboard and prints its URL (with the token, once) on stderr. */
export async function startDashboardFor(spec: SourceSpec, opts: { host?: string; port?: number }): Promise<{ close(): Promise<void> }> {
  const { startDashboard } = await import('../../report/server.js');
  const dash = await startDashboard({ source: spec, ...opts });
  process.stderr.write(`dashboard: ${dash.url}${dash.token === null ? '' : '  (the token is shown only here; every request needs it)'}\n`);
  return dash;
}

/** `--dashboard [PORT]` of run/optimize: true (flag alone) means 8080. */
export function dashboardPort(value: string | boolean | undefined): number | null {
  if (value === undefined || value === false) return null;
  return value === true ? 8080 : portFlag(value, '--dashboard');
}
