/**
 * Owns reading what a Redis client failure is from its codes, never from free text: the code a
 * Redis error reply starts with (an ioredis ReplyError: "WRONGPASS invalid username-password
 * pair ...", "NOAUTH Authentication required."), and the Node/OpenSSL `code` of a socket or TLS
 * error, each looked up along the chain of causes (a DehbError's cause, the last node error of an
 * ioredis Cluster). `refusesCredentials` is the one test of a refused login (connection.ts words
 * it, tls-errors.ts counts it as permanent).
 */

/** The error, its causes and (for an ioredis Cluster) its last node error, outermost first. */
export function errorChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && chain.length < 8) {
    const e = queue.shift();
    if (e === undefined || e === null || chain.includes(e)) continue;
    chain.push(e);
    const { cause, lastNodeError } = e as { cause?: unknown; lastNodeError?: unknown };
    queue.push(cause, lastNodeError);
  }
  return chain;
}

/** The code a Redis error reply starts with ("WRONGPASS", "NOAUTH", "ERR", ...), or null when `err` is no reply. */
export function replyCode(err: unknown): string | null {
  const e = err as { name?: unknown; message?: unknown } | null | undefined;
  if (e?.name !== 'ReplyError' || typeof e.message !== 'string') return null;
  return /^([A-Z][A-Z_]*)(?:\s|$)/.exec(e.message)?.[1] ?? null;
}

/** The `code` Node gives a socket, TLS or OpenSSL error ("ECONNRESET", "ERR_SSL_...", "CERT_HAS_EXPIRED"), or null. */
export function nodeCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : null;
}

/** Replies no retry changes: a wrong user or password, credentials needed, an ACL refusal. */
const REFUSED_LOGIN = new Set(['WRONGPASS', 'NOAUTH', 'NOPERM']);
/** The ERR replies to AUTH that say the same: Redis 5's wrong password, a password for a server with none. */
const REFUSED_AUTH_ERR = /^ERR (invalid password|AUTH\b.*without any password configured|Client sent AUTH, but no password is set)/;

/** True when Redis refused the credentials (or was given none it needs), by its reply somewhere in the cause chain. */
export function refusesCredentials(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const code = replyCode(e);
    return code !== null && (REFUSED_LOGIN.has(code) || (code === 'ERR' && REFUSED_AUTH_ERR.test((e as Error).message)));
  });
}
