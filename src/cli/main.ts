#!/usr/bin/env node
/**
 * The `dehb` command: the composition root. Registers every subcommand, maps errors to exit codes
 * (0 ok, 1 failure, 2 usage/config error, 130 interrupted) and is the only caller of process.exit.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { DehbError, isDehbError } from '../errors.js';
import { registerRunCommand } from './commands/run.js';
import { registerShowCommand } from './commands/show.js';
import { registerGpusCommand } from './commands/gpus.js';
import { registerSchedulerCommand } from './commands/scheduler.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerStudyCommands } from './commands/study.js';
import { registerSpaceCommands } from './commands/space.js';
import { registerReportCommands } from './commands/report.js';
import { configureLogs, LOG_FORMATS, LOG_LEVELS } from './log.js';
import { outputClosed } from './signals.js';

// E_NO_GPU reaches here only from set-up (no GPUs, --gpus-per-trial above the devices); a trial's is its result
const USAGE_CODES = new Set(['E_USAGE', 'E_CONFIG', 'E_SPACE', 'E_SCHEDULER_FILE', 'E_STUDY', 'E_NOT_ALLOWED', 'E_NO_GPU']);

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('dehb')
    .description('DEHB hyperparameter optimization: differential evolution inside Hyperband, on a thread pool, child processes, GPUs or a Redis cluster')
    .version(packageVersion())
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addOption(new Option('--log-format <format>', 'logs of workers and coordinators').choices(LOG_FORMATS).default('pretty').env('DEHB_LOG_FORMAT'))
    .addOption(new Option('--log-level <level>', 'least level logged').choices(LOG_LEVELS).default('info').env('DEHB_LOG_LEVEL'))
    .hook('preAction', (_program, action) => configureLogs(action.optsWithGlobals()));
  registerRunCommand(program);
  registerShowCommand(program);
  registerWorkerCommand(program);
  registerSchedulerCommand(program);
  registerStudyCommands(program);
  registerGpusCommand(program);
  registerSpaceCommands(program);
  registerReportCommands(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** The version in package.json (one folder above src/ and dist/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError && err.code === 'commander.unknownOption') commandQuotingHint(program, argv);
    return reportError(err);
  }
}

/**
 * `--command python train.py --lr {lr}` unquoted: the shell split the command, so its own flags
 * reach dehb as unknown options. Says to pass the command as one quoted argument, which ends
 * where the next option of the dehb subcommand begins (commander printed the unknown option).
 */
function commandQuotingHint(program: Command, argv: readonly string[]): void {
  const at = argv.indexOf('--command');
  if (at < 0) return;
  let cmd: Command = program;
  for (const word of argv.slice(2, at)) cmd = cmd.commands.find((c) => c.name() === word) ?? cmd;
  const known = new Set(cmd.options.map((o) => o.long).filter((l) => l !== undefined && l !== '--command'));
  const rest = argv.slice(at + 1);
  const end = rest.findIndex((w) => known.has(w.split('=')[0] as string));
  const words = end < 0 ? rest : rest.slice(0, end);
  if (words.length < 2 || words[0]?.startsWith('-') === true) return;
  const quoted = words.join(' ').replace(/(["\\$`])/g, '\\$1');
  process.stderr.write(`hint: --command takes the whole command as one argument; quote it: --command "${quoted}"\n`);
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return err.exitCode === 0 ? 0 : 2; // commander already printed the message
  }
  if (isDehbError(err)) {
    process.stderr.write(`dehb: ${err.message}\n`);
    if (process.env.DEHB_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return USAGE_CODES.has(err.code) ? 2 : 1;
  }
  const e = err instanceof Error ? err : new DehbError('E_USAGE', String(err));
  process.stderr.write(`dehb: ${e.message}\n`);
  if (process.env.DEHB_DEBUG && e.stack) process.stderr.write(e.stack + '\n');
  return 1;
}

/**
 * True when this file is the program node started, however it was reached: `node dist/cli/main.js`,
 * tsx on main.ts, or npm's bin link `dehb` (a symlink from `npm install -g`, `npm link`, npx or
 * node_modules/.bin) — the link is resolved before comparing. Imported as a library: false.
 */
export function isEntryPoint(argv1: string | undefined, moduleUrl: string): boolean {
  if (argv1 === undefined) return false;
  const self = fileURLToPath(moduleUrl);
  for (const candidate of [argv1, `${argv1}.js`]) {
    try {
      if (realpathSync(candidate) === realpathSync(self)) return true;
    } catch {
      // not a file (e.g. argv1 without its extension); try the next form
    }
  }
  return false;
}

/** How long a finished command's leftovers may keep running before the process exits anyway. */
const EXIT_GRACE_MS = 1_000;

if (isEntryPoint(process.argv[1], import.meta.url)) {
  // `dehb show DIR | head -1`: a reader that stops early ends the output, not in a stack trace;
  // under a long command (`dehb run --json | head`) it stops the run gracefully instead
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (outputClosed()) return;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
  main(process.argv)
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`dehb: ${String(err)}\n`);
        process.exitCode = 1;
      },
    )
    .finally(exitWhenDone);
}

/**
 * The command is done (every command awaits its own work, servers included): whatever it leaves
 * behind must not keep the process alive — an objective that ignored its cancellation and still
 * holds a timer, a trial thread stuck in a loop, a socket slow to close. The event loop gets a
 * moment to finish cleanly (the usual case: it empties and the process exits at once); then the
 * process exits with its code. Output is not cut: on Linux, stdout and stderr writes to files,
 * pipes and terminals are synchronous.
 */
function exitWhenDone(): void {
  setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
}
