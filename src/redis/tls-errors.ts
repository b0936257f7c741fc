/**
 * Owns what a TLS failure talking to Redis means for the user: the server's certificate not
 * signed by a trusted CA, naming another host, expired; the server demanding a client certificate;
 * a TLS client at a plain port. Each is told by the error's Node/OpenSSL code (error-codes.ts) and
 * becomes one sentence naming the scheduler file key (or, for a bare rediss:// URL, the
 * environment variable) that fixes it. These are set-up errors, not outages:
 * `isPermanentRedisError` tells waiting loops to stop instead of retrying (refused credentials
 * too, by the Redis reply code: `refusesCredentials`).
 */
import { errorChain, nodeCode, refusesCredentials } from './error-codes.js';

/** What is set up wrong, by kind. */
type TlsProblem = 'untrusted' | 'not-valid-now' | 'wrong-host' | 'client-cert' | 'not-tls';

const PROBLEM_OF_CODE = new Map<string, TlsProblem>([
  ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'untrusted'],
  ['CERT_SIGNATURE_FAILURE', 'untrusted'],
  ['CERT_UNTRUSTED', 'untrusted'],
  ['CERT_REJECTED', 'untrusted'],
  ['CERT_HAS_EXPIRED', 'not-valid-now'],
  ['CERT_NOT_YET_VALID', 'not-valid-now'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'wrong-host'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'not-tls'],
  ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'not-tls'],
  ['ERR_SSL_UNKNOWN_PROTOCOL', 'not-tls'],
]);

/** OpenSSL's codes for the alert of a server that wants a client certificate it trusts (TLS 1.3's, 1.2's). */
const CLIENT_CERT_ALERT = /^ERR_SSL_(?:TLSV13|TLSV1|SSLV3)_ALERT_(?:CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|BAD_CERTIFICATE|UNKNOWN_CA)$/;

/**
 * The OpenSSL code of a TLS error: Node's `code`, or for an EPROTO (a write that hit an OpenSSL
 * error) the code Node would give the reason in its OpenSSL error string ("error:0A00010B:SSL
 * routines:ssl3_get_record:wrong version number" -> ERR_SSL_WRONG_VERSION_NUMBER).
 */
function tlsCode(err: unknown): string | null {
  const code = nodeCode(err);
  if (code !== 'EPROTO') return code;
  const reason = /:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):/.exec((err as Error).message ?? '')?.[1];
  return reason === undefined ? code : `ERR_SSL_${reason.trim().toUpperCase().replace(/\W+/g, '_')}`;
}

function tlsProblemOf(err: unknown): TlsProblem | null {
  const code = tlsCode(err);
  if (code === null) return null;
  return PROBLEM_OF_CODE.get(code) ?? (CLIENT_CERT_ALERT.test(code) ? 'client-cert' : null);
}

/** A sentence for a TLS error (`where` is the redacted URL), or null when `err` is not one. */
export function describeTlsError(err: unknown, where: string): string | null {
  const e = err as { code?: string; message?: string; reason?: string };
  const code = e?.code ?? '';
  // OpenSSL's errors carry a short `reason` next to a long message with source file names
  const msg = e?.reason ?? ((e?.message ?? String(err)).trim().split('\n')[0] as string);
  const said = code === '' ? msg : `${code}: ${msg}`;
  switch (tlsProblemOf(err)) {
    case 'untrusted':
      return (
        `Redis at ${where}: its TLS certificate is not signed by a CA this client trusts (${said}); ` +
        'name the CA that signed the server certificate in the scheduler file key "tls.caFile" (`dehb scheduler init --tls-ca FILE`), ' +
        'or for a rediss:// URL start dehb with NODE_EXTRA_CA_CERTS=FILE'
      );
    case 'not-valid-now':
      return `Redis at ${where}: its TLS certificate is not valid now (${said}); renew the server certificate (tls-cert-file of redis-server)`;
    case 'wrong-host':
      return (
        `Redis at ${where}: its TLS certificate does not name this host (${said}); ` +
        'connect by a name the certificate lists, or set the scheduler file key "tls.servername" to one'
      );
    case 'client-cert':
      return (
        `Redis at ${where}: the server wants a client certificate it trusts (tls-auth-clients) (${said}); ` +
        'set the scheduler file keys "tls.certFile" and "tls.keyFile" to a certificate signed by the server\'s tls-ca-cert-file and its key'
      );
    case 'not-tls':
      return `Redis at ${where}: the server does not speak TLS on this port (${said}); use a redis:// URL, or the server's tls-port`;
    case null:
      break;
  }
  if (code === 'ECONNRESET' && where.startsWith('rediss')) {
    return (
      `Redis at ${where}: the server reset the TLS connection (${said}); if it wants client certificates (tls-auth-clients), ` +
      'set the scheduler file keys "tls.certFile" and "tls.keyFile" to a certificate signed by its tls-ca-cert-file'
    );
  }
  return null;
}

/**
 * True for a failure that retrying cannot cure, by its codes anywhere in the cause chain: a TLS
 * set-up error (an untrusted, expired or misnamed certificate, a client certificate wanted, no TLS
 * on the port), or Redis refusing the credentials. A reset connection is not one (it may be an
 * outage too).
 */
export function isPermanentRedisError(err: unknown): boolean {
  return refusesCredentials(err) || errorChain(err).some((e) => tlsProblemOf(e) !== null);
}
