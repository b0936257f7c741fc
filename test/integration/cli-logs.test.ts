/**
 * Worker and coordinator logs go through pino: `--log-format json` prints one JSON object per line
 * (level, time, pid, hostname, name, msg) on stderr, `--log-level` filters, the default `pretty`
 * keeps the human lines (`dehb worker: ...`), and a bad value is a usage error naming the flag.
 * Real `dehb worker` processes on the shared Redis under a unique prefix.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { writeFileFor, FIXTURE_DIR } from '../fixtures/cluster/harness.js';
import { spawnCli, type CliProc } from '../fixtures/cluster/procs.js';
import { cleanupPrefix, SHARED_REDIS, uniquePrefix } from '../fixtures/cluster/redis.js';

interface LogLine {
  level: number;
  time: string;
  pid: number;
  hostname: string;
  name: string;
  msg: string;
}

function jsonLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${l}\n--- all stderr:\n${text}`);
      }
    });
}

describe('worker logs (--log-format, --log-level)', { timeout: 120_000 }, () => {
  const prefix = uniquePrefix('logs');
  const dir = mkdtempSync(join(tmpdir(), 'dehb-logs-'));
  const file = join(dir, 'scheduler.json');
  const procs: CliProc[] = [];
  const redis = new Redis({ ...SHARED_REDIS, maxRetriesPerRequest: 1 });

  const worker = (args: string[]): CliProc => {
    const p = spawnCli(['worker', '--scheduler-file', file, '--gpus', 'none', '--wait-ms', '20000', '--grace-ms', '0', ...args]);
    procs.push(p);
    return p;
  };
  /** Up for sure: its host facts are in Redis (gathered and published in the background once it started). */
  const started = async (p: CliProc): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while ((await redis.keys(`${prefix}:evals:worker-host:${hostname()}:${p.proc.pid}`)).length === 0) {
      assert.ok(Date.now() < deadline, `worker did not publish its host facts:\n${p.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (p: CliProc): Promise<number | null> => {
    await started(p);
    p.kill('SIGTERM');
    return (await p.exited).code;
  };

  before(async () => {
    await writeFileFor(file, prefix, SHARED_REDIS.port);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    redis.disconnect();
    await cleanupPrefix(prefix, SHARED_REDIS.port);
    rmSync(dir, { recursive: true, force: true });
  });

  it('--log-format json: every stderr line is a pino object of the worker', async () => {
    const p = worker(['--allow', FIXTURE_DIR, '--log-format', 'json']);
    await p.waitFor(/serving queue/);
    assert.equal(await stop(p), 0, p.err());
    const lines = jsonLines(p.err());
    const serving = lines.find((l) => /serving queue/.test(l.msg));
    assert.ok(serving !== undefined, p.err());
    assert.equal(serving.level, 30);
    assert.equal(serving.name, 'dehb worker');
    assert.equal(serving.pid, p.proc.pid);
    assert.equal(serving.hostname, hostname());
    assert.ok(!Number.isNaN(Date.parse(serving.time)), serving.time);
    assert.doesNotMatch(serving.msg, /^dehb worker: /, 'the name is a field, not part of the message');
    assert.ok(lines.some((l) => /^stopped \(/.test(l.msg)), p.err());
  });

  it('--log-level warn keeps warnings (at level 40) and drops info lines', async () => {
    // no --allow: the worker warns that every trial would fail
    const p = worker(['--log-format', 'json', '--log-level', 'warn']);
    await p.waitFor(/no objective is allowed/);
    assert.equal(await stop(p), 0, p.err());
    const lines = jsonLines(p.err());
    assert.deepEqual(lines.map((l) => l.level), [40], p.err());
    assert.match(lines[0]?.msg ?? '', /^no objective is allowed/);
  });

  it('the default pretty format prints the human lines', async () => {
    const p = worker(['--allow', FIXTURE_DIR]);
    await p.waitFor(/^dehb worker: .* serving queue/m);
    assert.equal(await stop(p), 0, p.err());
    assert.match(p.err(), /^dehb worker: stopped \(/m);
    assert.doesNotMatch(p.err(), /^\{/m);
  });

  it('a bad --log-format is a usage error naming the flag', async () => {
    const p = spawnCli(['worker', '--scheduler-file', file, '--log-format', 'xml']);
    procs.push(p);
    const { code } = await p.exited;
    assert.equal(code, 2, p.err());
    assert.match(p.err(), /--log-format <format>' argument 'xml' is invalid\. Allowed choices are pretty, json/);
  });
});
