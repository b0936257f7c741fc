/**
 * Owns the "unknown key" check of option objects users write in code (`new DEHB({...})`, run(),
 * study and cluster options): a key that is not an option is an E_CONFIG error naming it, with
 * the closest known key as a "did you mean" (a typo like `nworkers` would otherwise be ignored
 * silently and the run would quietly use the default).
 */
import { distance } from 'fastest-levenshtein';
import { DehbError } from './errors.js';

import type { KeyList } from './dehb/key-list.js';
export type { KeyList };

/** The known key closest to `key` (case-insensitive, prefixes count as close), or undefined when none is close. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const kl = k.toLowerCase();
    // a key that is the start of a known one (`export` for `exportName`) counts as one edit away
    const prefix = lower.length >= 3 && (kl.startsWith(lower) || lower.startsWith(kl));
    const d = prefix ? Math.min(1, distance(lower, kl)) : distance(lower, kl);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Throws E_CONFIG for the first own key of `value` that is not in `known`. */
export function rejectUnknownKeys(value: unknown, known: KeyList<object> | readonly string[], where: string): void {
  if (value === null || typeof value !== 'object') return;
  const names = Array.isArray(known) ? (known as readonly string[]) : Object.keys(known);
  for (const key of Object.keys(value)) {
    if (names.includes(key)) continue;
    const hint = suggestKey(key, names);
    throw new DehbError(
      'E_CONFIG',
      `${where}: unknown option '${key}'${hint === undefined ? '' : ` (did you mean '${hint}'?)`}; known options: ${names.join(', ')}`,
      { details: { option: key, ...(hint === undefined ? {} : { suggestion: hint }) } },
    );
  }
}
