/**
 * Owns the fidelity ladder the objective sees: DEHB's geometric ladder (spec §2.2), rounded to
 * integers when `fidelityType` is `int` (epochs: 2, 6, 17, 52 instead of 1.926, 5.78, 17.33, 52),
 * with the checks that make a rounded ladder usable (integer maximum, rungs >= 1 and distinct).
 */
import { DehbError } from '../errors.js';
import { computeLadder } from './brackets.js';
import type { FidelityType } from './types.js';

function bad(option: string, message: string): never {
  throw new DehbError('E_CONFIG', `${option} ${message}`, { details: { option } });
}

/** The ladder in user units; throws E_CONFIG naming the option when an int ladder is unusable. */
export function fidelityLadder(minFidelity: number, maxFidelity: number, eta: number, type: FidelityType): number[] {
  const ladder = computeLadder(minFidelity, maxFidelity, eta);
  if (type === 'float') return ladder;
  if (!Number.isInteger(maxFidelity)) bad('maxFidelity', `must be an integer with fidelityType 'int' (got ${maxFidelity})`);
  if (minFidelity < 1) bad('minFidelity', `must be >= 1 with fidelityType 'int' (got ${minFidelity})`);
  const rounded = ladder.map((f) => Math.max(1, Math.round(f)));
  for (let i = 1; i < rounded.length; i++) {
    if (rounded[i] === rounded[i - 1]) {
      bad(
        'minFidelity',
        `gives rungs ${ladder.map((f) => Number(f.toFixed(3))).join(', ')} that round to ${rounded.join(', ')} (two rungs of ${rounded[i]}); ` +
          `with fidelityType 'int' raise minFidelity or eta so that each rung gets its own integer`,
      );
    }
  }
  return rounded;
}
