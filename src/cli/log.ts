/**
 * The logs of workers and coordinators (`dehb worker`, `dehb run --cluster`, `dehb optimize`,
 * `dehb study worker`), through pino. Global flags `--log-format pretty|json` and `--log-level`
 * (or DEHB_LOG_FORMAT / DEHB_LOG_LEVEL): `pretty` (default) prints the human lines these commands
 * always printed (`dehb worker: ...`), `json` one pino object per line (level, time, pid, hostname,
 * name, msg) for log collectors. Both go to stderr; stdout stays for data. pino is loaded only when
 * a command that logs runs. Runtime components keep their plain `log(message)` callbacks; a message
 * that starts with `warning: ` is logged at level warn.
 */
import { DehbError } from '../errors.js';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

const settings: { format: LogFormat; level: LogLevel } = { format: 'pretty', level: 'info' };

/** Applies the global flags (called before every command action). */
export function configureLogs(flags: { logFormat?: string; logLevel?: string }): void {
  if (flags.logFormat !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(flags.logFormat)) {
      throw new DehbError('E_USAGE', `--log-format must be ${LOG_FORMATS.join(' or ')} (got "${flags.logFormat}")`);
    }
    settings.format = flags.logFormat as LogFormat;
  }
  if (flags.logLevel !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
      throw new DehbError('E_USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${flags.logLevel}")`);
    }
    settings.level = flags.logLevel as LogLevel;
  }
}

export interface CliLog {
  /** For runtime options: `warning: ...` is a warn, anything else info. */
  log(message: string): void;
  /** Stream-like: each line written is one `log()` call (a leading `<name>: ` is dropped). */
  write(text: string): void;
}

interface Sink {
  write(chunk: string): unknown;
}

const PRETTY_TAG: Record<number, string> = { 20: 'debug: ', 40: 'warning: ', 50: 'error: ', 60: 'fatal: ' };

/**
 * A logger named `name` writing to `out`. In the pretty format a line is `<prefix><tag><msg>`
 * with prefix `<name>: ` unless given (e.g. '' for study commands, which print bare lines).
 */
export async function createLog(name: string, out: Sink, opts: { prefix?: string } = {}): Promise<CliLog> {
  const { pino } = await import('pino');
  const prefix = opts.prefix ?? `${name}: `;
  const destination: Sink =
    settings.format === 'json'
      ? out
      : {
          write(line: string): void {
            const o = JSON.parse(line) as { level: number; msg?: string };
            out.write(`${prefix}${PRETTY_TAG[o.level] ?? ''}${o.msg ?? ''}\n`);
          },
        };
  const logger = pino({ name, level: settings.level, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  const log = (message: string): void => {
    const warn = /^warning: /i.exec(message);
    if (warn !== null) logger.warn(message.slice(warn[0].length));
    else logger.info(message);
  };
  const own = `${name}: `;
  return {
    log,
    write(text: string): void {
      for (const line of text.split('\n')) if (line !== '') log(line.startsWith(own) ? line.slice(own.length) : line);
    },
  };
}
