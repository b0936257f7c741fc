// Scheduler file: atomic write with mode 0600, validation naming the field, URL parsing (user,
// password, db, rediss://), and waiting for a file that appears late.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { connectionFromSchedulerFile, makeSchedulerFile, readSchedulerFile, waitForSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { formatRedisUrl, parseRedisUrl, redactRedisUrl } from '../../src/protocol/redis-url.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-sf-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const isCode = (code: string, re?: RegExp) => (err: unknown) => isDehbError(err) && err.code === code && (re === undefined || re.test(err.message));

describe('scheduler file', () => {
  it('round-trips, is written with mode 0600 and leaves no temporary file', async () => {
    const path = join(dir, 'a', 'sched.json');
    const body = makeSchedulerFile({ redisUrl: 'redis://:s3cret@10.0.0.5:6400/2', prefix: 'p1', queue: 'q1', capacity: 8 });
    await writeSchedulerFile(path, body);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'a')), ['sched.json']);
    const back = await readSchedulerFile(path);
    assert.deepEqual(back, body);
    assert.equal(back.version, 1);
    const conn = await connectionFromSchedulerFile(back);
    assert.deepEqual(conn.endpoint, { host: '10.0.0.5', port: 6400, db: 2, password: 's3cret' });
    assert.equal(conn.resultsKey, 'p1:q1:dehb:results');
    assert.equal(conn.capacity, 8);
  });

  it('overwrites atomically and keeps mode 0600 even under a permissive umask', async () => {
    const path = join(dir, 'b.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    const old = process.umask(0);
    try {
      await writeSchedulerFile(path, makeSchedulerFile({ redisUrl: 'redis://127.0.0.1:6379' }));
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal((await readSchedulerFile(path)).prefix, 'dehb');
  });

  it('names the bad field and the file', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ version: 1, redisUrl: 'http://x', prefix: 'p', queue: 'q', createdAt: 'now' }, /field "redisUrl": must be a redis:\/\/ or rediss:\/\/ URL/],
      [{ version: 1, redisUrl: 'redis://h', prefix: 'p', queue: 'a:b', createdAt: 'now' }, /field "queue": must not contain ":"/],
      [{ version: 1, redisUrl: 'redis://h', queue: 'q', createdAt: 'now' }, /field "prefix"/],
      [{ version: 1, redisUrl: 'redis://h', prefix: 'p', queue: 'q', createdAt: 'now', capacity: 0 }, /field "capacity"/],
      [{ version: 2, redisUrl: 'redis://h', prefix: 'p', queue: 'q', createdAt: 'now' }, /field "version" is 2, newer than this dehb understands/],
      [[1, 2], /field "\(root\)"/],
    ];
    for (const [i, [value, re]] of cases.entries()) {
      const path = join(dir, `bad-${i}.json`);
      writeFileSync(path, JSON.stringify(value));
      await assert.rejects(readSchedulerFile(path), isCode('E_SCHEDULER_FILE', re));
      await assert.rejects(readSchedulerFile(path), (err: unknown) => (err as Error).message.includes(path));
    }
  });

  it('reports a missing file and broken JSON with E_SCHEDULER_FILE', async () => {
    await assert.rejects(readSchedulerFile(join(dir, 'nope.json')), isCode('E_SCHEDULER_FILE', /does not exist.*dehb scheduler start/));
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"version": 1,');
    await assert.rejects(readSchedulerFile(path), isCode('E_SCHEDULER_FILE', /not valid JSON/));
  });

  it('parses URLs with user, password, db, IPv6 and TLS', () => {
    assert.deepEqual(parseRedisUrl('redis://alice:p%40ss%3Aw@redis.example:6380/3'), {
      host: 'redis.example', port: 6380, db: 3, username: 'alice', password: 'p@ss:w',
    });
    assert.deepEqual(parseRedisUrl('rediss://:pw@[::1]'), { host: '::1', port: 6379, db: 0, password: 'pw', tls: {} });
    assert.deepEqual(parseRedisUrl('redis://h'), { host: 'h', port: 6379, db: 0 });
    assert.throws(() => parseRedisUrl('redis://h/x'), isCode('E_CONFIG', /redisUrl must be a redis/));
    assert.throws(() => parseRedisUrl('h:6379', '--redis-url'), isCode('E_CONFIG', /--redis-url/));
    const url = formatRedisUrl({ host: '::1', port: 7000, username: 'u', password: 'a/b@c', db: 1, tls: true });
    assert.deepEqual(parseRedisUrl(url), { host: '::1', port: 7000, db: 1, username: 'u', password: 'a/b@c', tls: {} });
    assert.equal(redactRedisUrl('redis://u:secret@h:1/0'), 'redis://u:***@h:1/0');
    assert.equal(redactRedisUrl('redis://h:1/0'), 'redis://h:1/0');
  });

  it('reads the TLS CA file named in the file, and names tls.caFile when it is missing', async () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    const file = makeSchedulerFile({ redisUrl: 'rediss://:pw@h:6380', tls: { caFile: ca, servername: 'redis.internal' } });
    const conn = await connectionFromSchedulerFile(file);
    assert.match(conn.endpoint.tls?.ca ?? '', /BEGIN CERTIFICATE/);
    assert.equal(conn.endpoint.tls?.servername, 'redis.internal');
    await assert.rejects(
      connectionFromSchedulerFile(makeSchedulerFile({ redisUrl: 'rediss://h', tls: { caFile: join(dir, 'none.pem') } })),
      isCode('E_SCHEDULER_FILE', /tls\.caFile/),
    );
  });

  it('waits for a file that appears later (with back-off) and for one that is still being written', async () => {
    const path = join(dir, 'late.json');
    let waits = 0;
    setTimeout(() => writeFileSync(path, ''), 50); // an empty file first (slow shared filesystem)
    setTimeout(() => void writeSchedulerFile(path, makeSchedulerFile({ redisUrl: 'redis://h:1', queue: 'late' })), 300);
    const file = await waitForSchedulerFile(path, { timeoutMs: 10_000, initialDelayMs: 20, onWait: () => waits++ });
    assert.equal(file.queue, 'late');
    assert.ok(waits >= 2, `expected to wait at least twice, waited ${waits} times`);
  });

  it('gives up after the timeout with a message saying what to do', async () => {
    await assert.rejects(
      waitForSchedulerFile(join(dir, 'never.json'), { timeoutMs: 150, initialDelayMs: 20 }),
      isCode('E_SCHEDULER_FILE', /did not appear within 150 ms.*dehb scheduler start/s),
    );
  });

  it('fails at once for a file that exists but is invalid', async () => {
    const path = join(dir, 'invalid.json');
    writeFileSync(path, JSON.stringify({ version: 1 }));
    await assert.rejects(waitForSchedulerFile(path, { timeoutMs: 60_000 }), isCode('E_SCHEDULER_FILE', /field "redisUrl"/));
  });

  it('fails at once for malformed JSON (only a missing or empty file is waited for)', { timeout: 30_000 }, async () => {
    const path = join(dir, 'malformed.json');
    writeFileSync(path, '{"version": 1, "redisUrl": ');
    let waits = 0;
    await assert.rejects(waitForSchedulerFile(path, { timeoutMs: 120_000, onWait: () => waits++ }), isCode('E_SCHEDULER_FILE', /is not valid JSON/));
    assert.equal(waits, 0);
  });

  it('does not need createdAt (informational)', async () => {
    const path = join(dir, 'no-created.json');
    writeFileSync(path, JSON.stringify({ version: 1, redisUrl: 'redis://h:1/0', prefix: 'p', queue: 'q' }));
    assert.equal((await readSchedulerFile(path)).createdAt, undefined);
  });
});
