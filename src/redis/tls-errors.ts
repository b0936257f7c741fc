/**
 * Owns what a TLS failure talking to Redis means for the user: the server's certificate not
 * signed by a trusted CA, naming another host, expired; the server demanding a client certificate;
 * a TLS client at a plain port. Each becomes one sentence naming the scheduler file key (or, for a
 * bare rediss:// URL, the environment variable) that fixes it. These are set-up errors, not
 * outages: `isPermanentRedisError` tells waiting loops to stop instead of retrying (refused
 * credentials too: `CREDENTIALS_REFUSED`, also read by connection.ts).
 */

/** What Redis says when it refuses the credentials (or was given none it needs). */
export const CREDENTIALS_REFUSED = /WRONGPASS|invalid username-password|NOAUTH|AUTH.*without any password/i;

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** A sentence for a TLS error (`where` is the redacted URL), or null when `err` is not one. */
export function describeTlsError(err: unknown, where: string): string | null {
  const e = err as { code?: string; message?: string; reason?: string };
  const code = e?.code ?? '';
  // OpenSSL's errors carry a short `reason` next to a long message with source file names
  const msg = e?.reason ?? ((e?.message ?? String(err)).trim().split('\n')[0] as string);
  const said = code === '' ? msg : `${code}: ${msg}`;
  if (UNTRUSTED.has(code)) {
    return (
      `Redis at ${where}: its TLS certificate is not signed by a CA this client trusts (${said}); ` +
      'name the CA that signed the server certificate in the scheduler file key "tls.caFile" (`dehb scheduler init --tls-ca FILE`), ' +
      'or for a rediss:// URL start dehb with NODE_EXTRA_CA_CERTS=FILE'
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return `Redis at ${where}: its TLS certificate is not valid now (${said}); renew the server certificate (tls-cert-file of redis-server)`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return (
      `Redis at ${where}: its TLS certificate does not name this host (${said}); ` +
      'connect by a name the certificate lists, or set the scheduler file key "tls.servername" to one'
    );
  }
  if (/CERTIFICATE_REQUIRED|alert certificate required|alert handshake failure|alert bad certificate|alert unknown ca/i.test(said)) {
    return (
      `Redis at ${where}: the server wants a client certificate it trusts (tls-auth-clients) (${said}); ` +
      'set the scheduler file keys "tls.certFile" and "tls.keyFile" to a certificate signed by the server\'s tls-ca-cert-file and its key'
    );
  }
  if (/WRONG_VERSION_NUMBER|wrong version number|packet length too long|unknown protocol/i.test(said)) {
    return `Redis at ${where}: the server does not speak TLS on this port (${said}); use a redis:// URL, or the server's tls-port`;
  }
  if (code === 'ECONNRESET' && where.startsWith('rediss')) {
    return (
      `Redis at ${where}: the server reset the TLS connection (${said}); if it wants client certificates (tls-auth-clients), ` +
      'set the scheduler file keys "tls.certFile" and "tls.keyFile" to a certificate signed by its tls-ca-cert-file'
    );
  }
  return null;
}

/** True for a failure that retrying cannot cure (TLS set-up, wrong credentials). */
export function isPermanentRedisError(err: unknown): boolean {
  const cause = (err as { cause?: unknown })?.cause ?? err;
  const e = cause as { code?: string; message?: string };
  const text = `${e?.code ?? ''} ${e?.message ?? String(cause)}`;
  if (CREDENTIALS_REFUSED.test(text)) return true;
  if (/credentials/.test((err as Error)?.message ?? '')) return true;
  const tls = describeTlsError(cause, 'rediss:');
  return tls !== null && e?.code !== 'ECONNRESET';
}
