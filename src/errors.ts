/**
 * Owns the project's error type. Every error a user can cause or meet is a DehbError with a
 * stable string `code`; only plain serialized errors cross threads, processes and Redis.
 */

export type DehbErrorCode =
  | 'E_CONFIG'
  | 'E_SPACE'
  | 'E_STATE'
  | 'E_OBJECTIVE'
  | 'E_BROKER'
  | 'E_JOURNAL'
  | 'E_STUDY'
  | 'E_SCHEDULER_FILE'
  | 'E_NO_GPU'
  | 'E_EXECUTOR'
  | 'E_NOT_ALLOWED'
  | 'E_USAGE'
  | 'E_ABORTED';

export class DehbError extends Error {
  readonly code: DehbErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(
    code: DehbErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DehbError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** The plain form of an error that travels through postMessage, stdin, files and Redis. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  details?: Record<string, unknown>;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const out: SerializedError = { name: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    if (err.stack !== undefined) out.stack = err.stack;
    const details = (err as { details?: unknown }).details;
    if (details !== null && typeof details === 'object') out.details = details as Record<string, unknown>;
    return out;
  }
  return { name: 'Error', message: typeof err === 'string' ? err : safeString(err) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function isDehbError(err: unknown, code?: DehbErrorCode): err is DehbError {
  return err instanceof DehbError && (code === undefined || err.code === code);
}
