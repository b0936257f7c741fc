/**
 * Argument parsing for the bench scripts on top of node:util parseArgs: typed integer/number
 * readers with messages that name the flag.
 */
import { DehbError } from '../../src/errors.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parse argv (defaults to process.argv.slice(2)); unknown flags are errors. */
export function parseFlags(options: OptionSpec, argv: string[] = process.argv.slice(2)) {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new DehbError('E_USAGE', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export function intFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min = Number.MIN_SAFE_INTEGER,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < min) {
    throw new DehbError('E_USAGE', `--${name} must be an integer >= ${min} (got ${String(raw)})`);
  }
  return n;
}

export function numFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number | undefined,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    throw new DehbError('E_USAGE', `--${name} must be a number (got ${String(raw)})`);
  }
  return n;
}

export function strFlag(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: string,
): string {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || raw === '') throw new DehbError('E_USAGE', `--${name} needs a value`);
  return raw;
}
