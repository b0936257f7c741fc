// Which Redis client failures are permanent (a waiting loop stops instead of retrying) and how a
// refused login is said, decided by codes only: the code a Redis error reply starts with
// (WRONGPASS, NOAUTH, NOPERM, the ERR replies to AUTH) and the Node/OpenSSL code of a TLS error,
// anywhere in the cause chain; never by words such as "credentials" in a message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplyError } from 'ioredis';
import { DehbError } from '../../src/errors.js';
import { describeRedisError } from '../../src/redis/connection.js';
import { refusesCredentials } from '../../src/redis/error-codes.js';
import { isPermanentRedisError } from '../../src/redis/tls-errors.js';

const reply = (message: string): Error => new ReplyError(message) as Error;
const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });
const broker = (cause: unknown): DehbError => new DehbError('E_BROKER', 'Redis at redis://h:1/0 rejected the credentials (...)', { cause });

describe('permanent Redis errors', () => {
  it('a refused login is permanent by its reply code, also as the cause of an E_BROKER or a Cluster error', () => {
    for (const e of [
      reply('WRONGPASS invalid username-password pair or user is disabled.'),
      reply('NOAUTH Authentication required.'),
      reply("NOPERM this user has no permissions to run the 'info' command"),
      reply('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'),
      reply('ERR invalid password'),
      broker(reply('WRONGPASS invalid username-password pair or user is disabled.')),
      Object.assign(new Error('Failed to refresh slots cache.'), { lastNodeError: reply('NOAUTH Authentication required.') }),
    ]) {
      assert.equal(isPermanentRedisError(e), true, String(e));
      assert.equal(refusesCredentials(e), true, String(e));
    }
  });

  it('an unrelated error that merely says "credentials" (or a reply code in its text) is not permanent', () => {
    for (const e of [
      new Error('the vault refused the credentials of the backup job'),
      new DehbError('E_BROKER', 'Redis at redis://h:1/0: check the credentials'),
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6379 (credentials not tried)'),
      new Error('WRONGPASS invalid username-password pair'),
      reply('ERR unknown command `FOO`, with args beginning with: credentials NOAUTH'),
      reply('LOADING Redis is loading the dataset in memory'),
    ]) {
      assert.equal(isPermanentRedisError(e), false, String(e));
      assert.equal(refusesCredentials(e), false, String(e));
    }
  });

  it('a TLS set-up error is permanent by its Node/OpenSSL code; a reset or a refused connection is not', () => {
    for (const code of [
      'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
      'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
    ]) {
      assert.equal(isPermanentRedisError(coded(code)), true, code);
      assert.equal(isPermanentRedisError(broker(coded(code))), true, `${code} as a cause`);
    }
    const eproto = coded('EPROTO', 'write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:354:');
    assert.equal(isPermanentRedisError(eproto), true, 'an EPROTO carrying OpenSSL\'s wrong version number');
    for (const e of [coded('ECONNRESET'), coded('ECONNREFUSED'), coded('ETIMEDOUT'), new Error('wrong version number'), new Error('self-signed certificate in certificate chain')]) {
      assert.equal(isPermanentRedisError(e), false, String(e));
    }
  });

  it('describeRedisError says "rejected the credentials" for a refused login only', () => {
    assert.match(describeRedisError(reply('WRONGPASS invalid username-password pair or user is disabled.'), 'redis://h:1/0'), /rejected the credentials \(WRONGPASS/);
    assert.doesNotMatch(describeRedisError(new Error('no NOAUTH here'), 'redis://h:1/0'), /rejected the credentials/);
  });
});
