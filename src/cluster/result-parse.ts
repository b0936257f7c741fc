/**
 * Owns result normalisation: the one place that turns whatever an objective returned, threw or
 * printed into an EvalOutcome. Rules (documented in the README):
 * - a finite number, or an object with a finite numeric `fitness`, is `ok`;
 *   `cost` is optional (left undefined when absent) and must be a finite number when present;
 *   `info` is optional and must be a JSON-serialisable object (it is stored with the trial);
 * - NaN, ±Infinity, a missing/non-numeric `fitness`, or a throw is `failed`;
 * - failures are not retryable unless the objective says so: an ObjectiveError with
 *   `retryable: true` (JS), or a command exiting with code 75 (EX_TEMPFAIL). Objective bugs are
 *   deterministic, so retrying them only burns budget.
 */
import { serializeError, type SerializedError } from '../errors.js';
import { isObjectiveError } from '../objective.js';
import type { EvalOutcome } from '../protocol/executor.js';

export type OkOrFailed = Extract<EvalOutcome, { status: 'ok' | 'failed' }>;

const RESULT_HINT = 'return a number or {fitness, cost?, info?}';

/** Normalise an objective's return value (already awaited) into an ok or failed outcome. */
export function normalizeResult(value: unknown): OkOrFailed {
  if (typeof value === 'number') {
    const bad = nonFinite(value);
    return bad === null ? { status: 'ok', fitness: value } : failed(`objective returned ${bad}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return failed(`objective returned ${describe(value)} (${RESULT_HINT})`);
  }
  const obj = value as Record<string, unknown>;
  const fitness = obj.fitness;
  if (typeof fitness !== 'number') {
    const hint = 'loss' in obj || 'value' in obj || 'score' in obj ? '; name the value `fitness`' : '';
    return failed(`objective result has no numeric \`fitness\` (got ${describe(value)})${hint}`);
  }
  const badFitness = nonFinite(fitness);
  if (badFitness !== null) return failed(`objective returned fitness ${badFitness}`);
  const out: OkOrFailed = { status: 'ok', fitness };
  if (obj.cost !== undefined && obj.cost !== null) {
    if (typeof obj.cost !== 'number' || nonFinite(obj.cost) !== null) {
      return failed(`objective result \`cost\` must be a finite number (got ${describe(obj.cost)})`);
    }
    out.cost = obj.cost;
  }
  if (obj.info !== undefined && obj.info !== null) {
    if (typeof obj.info !== 'object' || Array.isArray(obj.info)) {
      return failed(`objective result \`info\` must be an object (got ${describe(obj.info)})`);
    }
    try {
      out.info = JSON.parse(JSON.stringify(obj.info)) as Record<string, unknown>;
    } catch (err) {
      return failed(`objective result \`info\` is not JSON-serialisable: ${(err as Error).message}`);
    }
  }
  return out;
}

/** A thrown value as a failed outcome; retryable only for ObjectiveError({retryable: true}). */
export function errorOutcome(err: unknown): OkOrFailed {
  const error = serializeError(err);
  if (error.code === undefined) error.code = 'E_OBJECTIVE';
  return { status: 'failed', error, retryable: isObjectiveError(err) ? err.retryable : false };
}

/** A failed outcome with an E_OBJECTIVE error carrying `message`. */
export function failed(
  message: string,
  opts: { retryable?: boolean; name?: string; details?: Record<string, unknown> } = {},
): OkOrFailed {
  const error: SerializedError = { name: opts.name ?? 'ObjectiveError', message, code: 'E_OBJECTIVE' };
  if (opts.details !== undefined) error.details = opts.details;
  return { status: 'failed', error, retryable: opts.retryable ?? false };
}

/**
 * Parse the text of a result file or of a `DEHB_RESULT ...` line: JSON `{fitness, cost?, info?}`
 * or a bare number. Python's `json.dumps` writes NaN/Infinity/-Infinity tokens; they are accepted
 * so that "objective returned NaN" is reported rather than "malformed JSON".
 */
export function parseResultText(text: string, where: string): OkOrFailed {
  const trimmed = text.trim();
  if (trimmed === '') return failed(`${where} is empty (write JSON {"fitness": <number>})`);
  let value: unknown;
  try {
    value = parseJsonLenient(trimmed);
  } catch (err) {
    return failed(`${where} is not valid JSON (${(err as Error).message}): ${clip(trimmed, 200)}`);
  }
  return normalizeResult(value);
}

const NAN = '\u0000dehb:NaN';
const POS_INF = '\u0000dehb:Infinity';
const NEG_INF = '\u0000dehb:-Infinity';

/** JSON.parse that also accepts the bare tokens NaN, Infinity and -Infinity outside strings. */
export function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (first) {
    if (!/NaN|Infinity/.test(text)) throw first;
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (inString) {
        out += ch;
        if (ch === '\\') out += text[++i] ?? '';
        else if (ch === '"') inString = false;
      } else if (ch === '"') {
        inString = true;
        out += ch;
      } else if (text.startsWith('-Infinity', i)) {
        out += JSON.stringify(NEG_INF);
        i += 8;
      } else if (text.startsWith('Infinity', i)) {
        out += JSON.stringify(POS_INF);
        i += 7;
      } else if (text.startsWith('NaN', i)) {
        out += JSON.stringify(NAN);
        i += 2;
      } else {
        out += ch;
      }
    }
    return JSON.parse(out, (_key, v: unknown) =>
      v === NAN ? Number.NaN : v === POS_INF ? Infinity : v === NEG_INF ? -Infinity : v,
    );
  }
}

function nonFinite(n: number): string | null {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity (fitness must be finite)';
  if (n === -Infinity) return '-Infinity (fitness must be finite)';
  return null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  try {
    return clip(JSON.stringify(value) ?? String(value), 200);
  } catch {
    return clip(String(value), 200);
  }
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
