// The test command itself (test/run-tests.ts, behind `npm test`), run on fixture files from
// test/fixtures/runner/: its own redis-server on a free port for the tests and gone afterwards,
// one closing summary with a non-zero exit on failure, processes left by tests killed, a file kept
// alive by an open handle failed at the timeout instead of hanging the run, and Ctrl-C honoured.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { eventually, isDead } from '../helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): string => join(ROOT, 'test', 'fixtures', 'runner', `${name}.test.ts`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  out: string;
}

function runner(args: string[], onStderr?: (text: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  const outFile = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'run-tests.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, RUNNER_OUT: outFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, (s) => child.kill(s));
  });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      let out = '';
      try {
        out = readFileSync(outFile, 'utf8');
      } catch {
        // the fixture wrote nothing
      }
      resolve({ code, stdout, stderr, out });
    });
  });
}

/** The last `# key N` line of the output. */
function count(stdout: string, key: string): number {
  const all = [...stdout.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
  assert.equal(all.length, 1, `one closing "# ${key}" line:\n${stdout}`);
  return Number((all[0] as RegExpMatchArray)[1]);
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('test/run-tests.ts', { timeout: 120_000 }, () => {
  it('gives the tests a redis-server of its own on a free port, and stops it at the end', async () => {
    const r = await runner([fixture('env')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual([count(r.stdout, 'tests'), count(r.stdout, 'pass'), count(r.stdout, 'fail')], [1, 1, 0]);
    const port = Number(r.out);
    assert.ok(port > 0 && port !== 6379, `port ${r.out}`);
    assert.ok(await refused(port), 'the run’s redis-server is gone');
  });

  it('exits 1 when a test fails, with one closing summary', async () => {
    const r = await runner([fixture('fails'), fixture('env')]);
    assert.equal(r.code, 1);
    assert.deepEqual([count(r.stdout, 'tests'), count(r.stdout, 'pass'), count(r.stdout, 'fail')], [3, 2, 1]);
  });

  it('kills a process a test left running, also one outside its process group', async () => {
    const r = await runner([fixture('leaks')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const pid = Number(r.out);
    assert.ok(pid > 0);
    assert.ok(await eventually(() => isDead(pid), 5_000), `sleeper ${pid} still runs`);
    assert.match(r.stderr, new RegExp(`killed 1 process\\(es\\) the tests left running[\\s\\S]*${pid} sleep 600`));
  });

  it('fails a file that an open handle keeps alive once --timeout passes, instead of hanging', async () => {
    const r = await runner(['--timeout', '5', fixture('keeps-alive')]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /test timed out after 5000ms/);
  });

  it('Ctrl-C stops the tests, Redis with them, and exits 130', async () => {
    let port = 0;
    const r = await runner([fixture('slow')], (text, kill) => {
      const m = /redis-server for this run on 127\.0\.0\.1:(\d+)/.exec(text);
      if (m !== null && port === 0 && /file\(s\), concurrency/.test(text)) {
        port = Number(m[1]);
        kill('SIGINT');
      }
    });
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.ok(port > 0);
    assert.ok(await refused(port), 'the run’s redis-server is gone');
  });
});
