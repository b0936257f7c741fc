/**
 * `--storage` / `storage` names a place once: a scheduler file means the Redis it describes, with
 * its password and key prefix (a private, password-protected redis-server here), through the Study
 * API and the CLI (`dehb study create`, `dehb optimize`, `dehb push`, `dehb study list`, `dehb report`); a
 * directory is still a directory; a malformed scheduler file (an attacker's or a typo) is refused
 * naming the file and the field, before anything is connected or written.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { isDehbError } from '../../src/errors.js';
import { createStudy, listStudies, loadStudy } from '../../src/api/study-open.js';
import { openStorage } from '../../src/study/storage-open.js';
import { makeSchedulerFile, writeSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../fixtures/cluster/redis.js';
import { runCli } from '../helpers/cli.js';
import { makeStorage, SPACE, type TestStorage } from './study-helpers.js';

const PASSWORD = 'pa ss:w@rd/1';
let redis: PrivateRedis;
let ts: TestStorage;
let admin: Redis;
let prefix = '';
let file = '';

before(async () => {
  redis = await startPrivateRedis({ password: PASSWORD });
  ts = await makeStorage('file');
  admin = new Redis({ host: '127.0.0.1', port: redis.port, password: PASSWORD });
  prefix = uniquePrefix('sf');
  file = join(ts.dir, 'scheduler.json');
  await writeSchedulerFile(file, makeSchedulerFile({ redisUrl: `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/0`, prefix, queue: 'evals' }));
});
after(async () => {
  await admin.quit();
  await redis.stop();
  await ts.cleanup();
});

const study = (name: string) => ({
  name,
  space: SPACE,
  minFidelity: 1,
  maxFidelity: 9,
  eta: 3,
  seed: 3,
  objective: { kind: 'module' as const, path: join(ts.dir, 'objective.mjs') },
});

test('the Study API opens the Redis of a scheduler file, with its password, under its prefix', async () => {
  const st = await createStudy({ ...study('sf-api'), storage: file });
  try {
    assert.equal(st.storage.kind, 'redis');
    assert.equal(st.storage.url, file, 'messages name the scheduler file, never the password');
    const r = await st.optimize({ fevals: 5, nWorkers: 2 });
    assert.equal(r.toldTotal, 5);
  } finally {
    await st.close();
  }
  const keys = await admin.keys('*');
  assert.ok(keys.includes(`${prefix}:study:{sf-api}:journal`), `keys: ${keys.join(' ')}`);
  assert.ok(keys.every((k) => k.startsWith(`${prefix}:`)), 'nothing outside the prefix');
  // the same place named by URL: the same study
  const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}/0?prefix=${prefix}:`;
  assert.deepEqual((await listStudies({ storage: url })).map((s) => s.name), ['sf-api']);
  const again = await loadStudy('sf-api', { storage: file });
  assert.equal((await again.trials({ status: 'ok' })).length, 5);
  await again.close();
});

test('the CLI takes a scheduler file as --storage: study create, optimize, push, study list', async () => {
  const spaceFile = join(ts.dir, 'space.json');
  const created = await runCli(['study', 'create', 'sf-cli', '--storage', file, '--space', spaceFile, '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs')]);
  assert.equal(created.code, 0, created.stderr);
  const opt = await runCli(['optimize', 'sf-cli', '--storage', file, '--fevals', '4', '--json', '-q']);
  assert.equal(opt.code, 0, opt.stderr);
  const pushed = await runCli(['push', 'sf-cli', '--storage', file, '-p', 'x=0.4', '-p', 'act=relu']);
  assert.equal(pushed.code, 0, pushed.stderr);
  const list = await runCli(['study', 'list', '--storage', file, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const row = (JSON.parse(list.stdout) as Array<{ name: string; trials: number }>).find((x) => x.name === 'sf-cli');
  assert.ok(row !== undefined && row.trials >= 4, list.stdout);
  assert.ok((await admin.exists(`${prefix}:study:{sf-cli}:journal`)) === 1);
  const html = join(ts.dir, 'sf-report.html');
  const report = await runCli(['report', '--study', 'sf-cli', '--storage', file, '-o', html]);
  assert.equal(report.code, 0, report.stderr);
  assert.ok(statSync(html).size > 1000, 'dehb report read the study from the scheduler file');
  assert.ok(!`${created.stderr}${opt.stderr}${list.stdout}`.includes(PASSWORD), 'the password is never printed');
});

test('a wrong password in the scheduler file: a broker error naming the server and the file', async () => {
  const bad = join(ts.dir, 'wrong-password.json');
  await writeSchedulerFile(bad, makeSchedulerFile({ redisUrl: `redis://:nope@127.0.0.1:${redis.port}/0`, prefix, queue: 'evals' }));
  await assert.rejects(openStorage(bad), (e: unknown) => {
    assert.ok(isDehbError(e, 'E_BROKER'), String(e));
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${redis.port} \\(from scheduler file ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)`));
    return true;
  });
});

test("an attacker's or a broken scheduler file is refused naming the file and the field", async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not-json.json', '{"version": 1, "redisUrl": ', /is not valid JSON/],
    ['array.json', '[1, 2]', /field "\(root\)"/],
    ['newer.json', JSON.stringify({ version: 99, redisUrl: 'redis://127.0.0.1:1/0', prefix: 'p', queue: 'q' }), /field "version" is 99, newer/],
    ['http.json', JSON.stringify({ version: 1, redisUrl: 'http://evil.example/', prefix: 'p', queue: 'q' }), /field "redisUrl": must be a redis:\/\/ or rediss:\/\/ URL/],
    ['prefix.json', JSON.stringify({ version: 1, redisUrl: `redis://127.0.0.1:${redis.port}/0`, prefix: 'a b', queue: 'q' }), /field "prefix": must not contain whitespace/],
    ['no-prefix.json', JSON.stringify({ version: 1, redisUrl: `redis://127.0.0.1:${redis.port}/0`, queue: 'q' }), /field "prefix"/],
    ['ca.json', JSON.stringify({ version: 1, redisUrl: `rediss://127.0.0.1:${redis.port}/0`, prefix: 'p', queue: 'q', tls: { caFile: join(ts.dir, 'missing-ca.pem') } }), /field "tls\.caFile": cannot read/],
    ['empty.json', '', /is empty/],
  ];
  for (const [name, text, want] of cases) {
    const path = join(ts.dir, name);
    await writeFile(path, text);
    await assert.rejects(createStudy({ ...study('evil'), storage: path }), (e: unknown) => {
      assert.ok(isDehbError(e, 'E_SCHEDULER_FILE'), `${name}: ${String(e)}`);
      assert.match(e.message, want, name);
      assert.ok(e.message.includes(path), `${name}: the message names the file: ${e.message}`);
      return true;
    });
    assert.ok(statSync(path).isFile(), 'the file is left as it was');
  }
  const cli = await runCli(['study', 'list', '--storage', join(ts.dir, 'http.json')]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /field "redisUrl"/);
  assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(await admin.exists(`${prefix}:study:{evil}:journal`), 0, 'nothing was written');
});

test('a directory is still a directory storage (made when missing); other URL schemes are refused', async () => {
  const dir = join(ts.dir, 'new-studies');
  const s = await openStorage(dir);
  assert.equal(s.kind, 'file');
  await s.close();
  assert.ok(existsSync(dir) && statSync(dir).isDirectory());
  await assert.rejects(openStorage('http://example.com/x'), (e: unknown) => isDehbError(e, 'E_USAGE') && /scheduler file/.test(e.message));
});
