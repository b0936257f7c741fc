// `dehb scheduler start|init|check` against real redis-server processes: the started server is
// configured for the job (AOF everysec, noeviction, password, bind), the file is 0600 and removed
// on SIGTERM; init writes a file for a running Redis; check says exactly what is wrong.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import { isDehbError } from '../../src/errors.js';
import { registerSchedulerCommand } from '../../src/cli/commands/scheduler.js';
import { readSchedulerFile } from '../../src/protocol/scheduler-file.js';
import { parseRedisUrl } from '../../src/protocol/redis-url.js';
import { freePort, SHARED_REDIS_URL, startPrivateRedis } from '../fixtures/cluster/redis.js';
import { spawnCli } from '../fixtures/cluster/procs.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-sched-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `dehb scheduler ...` in this process; returns output and the error, if any. */
async function scheduler(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string; err: string; error: unknown }> {
  let out = '';
  let err = '';
  const program = new Command().exitOverride();
  const cmd = registerSchedulerCommand(program, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env });
  for (const c of [program, cmd, ...cmd.commands]) c.exitOverride();
  let error: unknown = null;
  try {
    await program.parseAsync(['scheduler', ...args], { from: 'user' });
  } catch (e) {
    error = e;
  }
  return { out, err, error };
}

describe('dehb scheduler', { timeout: 60_000 }, () => {
  it('start: runs a redis-server suited for the job, writes the file (0600), and cleans up on SIGTERM', async () => {
    const file = join(dir, 'start', 'sched.json');
    const p = spawnCli(['scheduler', 'start', '--scheduler-file', file, '--json', '--capacity', '12']);
    try {
      await p.waitFor(/Ctrl-C stops Redis/);
      const summary = JSON.parse(p.out().trim().split('\n')[0] as string) as { port: number; pid: number; redisUrl: string };
      assert.match(summary.redisUrl, /^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0$/);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const sf = await readSchedulerFile(file);
      assert.equal(sf.capacity, 12);
      assert.equal(sf.server?.port, summary.port);
      const ep = parseRedisUrl(sf.redisUrl);
      assert.ok((ep.password ?? '').length >= 32, 'a generated password');
      assert.equal(statSync(join(`${file}.redis`, 'redis.conf')).mode & 0o777, 0o600);

      const anon = new Redis({ host: '127.0.0.1', port: summary.port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      anon.on('error', () => undefined);
      await anon.connect().catch(() => undefined);
      await assert.rejects(anon.ping(), /NOAUTH/);
      anon.disconnect();

      const r = new Redis({ host: '127.0.0.1', port: summary.port, password: ep.password as string, lazyConnect: true });
      await r.connect();
      const cfg = async (k: string): Promise<string> => ((await r.config('GET', k)) as string[])[1] as string;
      assert.equal(await cfg('appendonly'), 'yes');
      assert.equal(await cfg('appendfsync'), 'everysec');
      assert.equal(await cfg('maxmemory-policy'), 'noeviction');
      assert.equal(await cfg('bind'), '127.0.0.1');
      r.disconnect();

      const check = await scheduler(['check', '--scheduler-file', file]);
      assert.equal(check.error, null, check.err);
      assert.match(check.err, /ok {4}connection: reachable/);
      assert.match(check.err, /ok {4}maxmemory-policy: maxmemory-policy noeviction/);
      assert.match(check.err, /ok {4}appendonly: AOF persistence on/);
      assert.match(check.err, /0 waiting, 0 active/);

      // a second start on the same file refuses: that Redis is alive
      const again = await scheduler(['start', '--scheduler-file', file]);
      assert.ok(isDehbError(again.error, 'E_USAGE'), String(again.error));
      assert.match((again.error as Error).message, /already names a Redis that answers/);
    } finally {
      p.kill('SIGTERM');
    }
    const { code } = await p.exited;
    assert.equal(code, 0, p.err());
    assert.match(p.err(), /Redis stopped; removed/);
    assert.equal(existsSync(file), false, 'the scheduler file is removed when Redis stops');
  });

  it('start: honours --port and --bind and reports a port in use', async () => {
    const port = await freePort();
    const file = join(dir, 'port.json');
    const p = spawnCli(['scheduler', 'start', '--scheduler-file', file, '--port', String(port), '--bind', '127.0.0.1']);
    try {
      await p.waitFor(/Ctrl-C stops Redis/);
      assert.equal(parseRedisUrl((await readSchedulerFile(file)).redisUrl).port, port);
      const clash = await scheduler(['start', '--scheduler-file', join(dir, 'clash.json'), '--port', String(port)]);
      assert.ok(isDehbError(clash.error, 'E_BROKER'), String(clash.error));
      assert.match((clash.error as Error).message, /Address already in use|exited/);
    } finally {
      p.kill('SIGINT');
    }
    assert.equal((await p.exited).code, 0);
  });

  it('start after a crash: the same password, port and AOF data come back, so running workers reconnect', async () => {
    const file = join(dir, 'crash', 'sched.json');
    const first = spawnCli(['scheduler', 'start', '--scheduler-file', file]);
    await first.waitFor(/Ctrl-C stops Redis/);
    const before = await readSchedulerFile(file);
    const ep = parseRedisUrl(before.redisUrl);
    const r = new Redis({ host: '127.0.0.1', port: ep.port, password: ep.password as string });
    await r.set('dehbtest:k', 'kept');
    r.disconnect();
    await new Promise((res) => setTimeout(res, 1_200)); // appendfsync everysec
    first.kill('SIGKILL'); // the job dies with its Redis: the file stays behind
    await first.exited;
    process.kill(before.server?.pid as number, 'SIGKILL');
    while (isAlive(before.server?.pid as number)) await new Promise((res) => setTimeout(res, 20));
    const second = spawnCli(['scheduler', 'start', '--scheduler-file', file]);
    try {
      await second.waitFor(/Ctrl-C stops Redis/);
      assert.match(second.err(), /with its previous password and port; running workers reconnect by themselves/);
      assert.equal((await readSchedulerFile(file)).redisUrl, before.redisUrl);
      const r2 = new Redis({ host: '127.0.0.1', port: ep.port, password: ep.password as string });
      assert.equal(await r2.get('dehbtest:k'), 'kept');
      r2.disconnect();
    } finally {
      second.kill('SIGTERM');
    }
    assert.equal((await second.exited).code, 0);
  });

  it('init: writes a file for a running Redis, refuses to overwrite, takes the password from the environment', async () => {
    const file = join(dir, 'init.json');
    const r = await scheduler(['init', '--redis-url', SHARED_REDIS_URL, '--scheduler-file', file, '--prefix', 'myp', '--queue', 'myq']);
    assert.equal(r.error, null, r.err);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const sf = await readSchedulerFile(file);
    assert.deepEqual([sf.prefix, sf.queue, sf.redisUrl], ['myp', 'myq', SHARED_REDIS_URL]);
    assert.match(r.err, /ok {4}version: Redis/);

    const again = await scheduler(['init', '--redis-url', SHARED_REDIS_URL, '--scheduler-file', file]);
    assert.ok(isDehbError(again.error, 'E_USAGE') && /--force/.test((again.error as Error).message));

    const env = await scheduler(['init', '--redis-url', 'redis://u@10.1.2.3:7000/4', '--scheduler-file', file, '--force', '--no-check'], {
      DEHB_REDIS_PASSWORD: 'from env',
    });
    assert.equal(env.error, null);
    assert.deepEqual(parseRedisUrl((await readSchedulerFile(file)).redisUrl), { host: '10.1.2.3', port: 7000, db: 4, username: 'u', password: 'from env' });

    const bad = await scheduler(['init', '--redis-url', 'localhost:6379', '--scheduler-file', join(dir, 'x.json')]);
    assert.ok(isDehbError(bad.error, 'E_CONFIG') && /--redis-url must be a redis:\/\//.test((bad.error as Error).message));
  });

  it('check: says exactly what is wrong', async () => {
    const missing = await scheduler(['check', '--scheduler-file', join(dir, 'missing.json')]);
    assert.ok(isDehbError(missing.error, 'E_SCHEDULER_FILE'), String(missing.error));
    assert.match(missing.err, /ERROR scheduler file: .*does not exist/);

    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ version: 1, redisUrl: 'redis://h', prefix: 'p', queue: 'q:x', createdAt: 'x' }));
    const inv = await scheduler(['check', '--scheduler-file', invalid]);
    assert.match(inv.err, /field "queue"/);

    const port = await freePort();
    const refused = join(dir, 'refused.json');
    await scheduler(['init', '--redis-url', `redis://127.0.0.1:${port}`, '--scheduler-file', refused, '--no-check']);
    const ref = await scheduler(['check', '--scheduler-file', refused]);
    assert.ok(isDehbError(ref.error, 'E_BROKER'));
    assert.match(ref.err, /ERROR connection: nothing listens at .*connection refused/);

    const redis = await startPrivateRedis({ password: 'right' });
    try {
      const wrong = join(dir, 'wrong.json');
      await scheduler(['init', '--redis-url', `redis://:wrong@127.0.0.1:${redis.port}`, '--scheduler-file', wrong, '--no-check']);
      const w = await scheduler(['check', '--scheduler-file', wrong]);
      assert.match(w.err, /ERROR connection: .*rejected the credentials/);

      const evicting = join(dir, 'evict.json');
      await scheduler(['init', '--redis-url', `redis://:right@127.0.0.1:${redis.port}`, '--scheduler-file', evicting, '--no-check']);
      const admin = new Redis({ host: '127.0.0.1', port: redis.port, password: 'right' });
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      chmodSync(evicting, 0o644);
      const e = await scheduler(['check', '--scheduler-file', evicting, '--json']);
      assert.ok(isDehbError(e.error, 'E_BROKER'));
      assert.match(e.err, /ERROR maxmemory-policy: maxmemory-policy is allkeys-lru.*set it to noeviction/);
      assert.match(e.err, /WARN\s+appendonly: AOF persistence is off/);
      assert.match(e.err, /WARN\s+file mode: scheduler file .* has mode 644: other users can read the Redis password in it; chmod 600/);
      const json = JSON.parse(e.out) as { ok: boolean; facts: { maxmemoryPolicy: string } };
      assert.equal(json.ok, false);
      assert.equal(json.facts.maxmemoryPolicy, 'allkeys-lru');
    } finally {
      await redis.stop();
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
