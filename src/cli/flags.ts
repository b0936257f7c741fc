/**
 * Parsing of numeric command-line flags: one clear E_USAGE line naming the flag when the value
 * is not a number, not whole, or below the minimum.
 */
import { DehbError } from '../errors.js';

export function intFlag(value: string | undefined, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new DehbError('E_USAGE', `${flag} must be a whole number >= ${min} (got ${shown(value)})`);
  }
  return n;
}

export function numFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new DehbError('E_USAGE', `${flag} must be a number (got ${shown(value)})`);
  return n;
}

/** A number as typed (`2.5`), anything else quoted (`"abc"`). */
function shown(value: string): string {
  return value.trim() !== '' && Number.isFinite(Number(value)) ? value : JSON.stringify(value);
}
