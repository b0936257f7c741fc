// dehb over a TLS-only redis-server (certificates made with openssl at test time, see
// test/fixtures/cluster/redis-tls.ts), through the CLI:
// - a scheduler file with a rediss:// URL and "tls.caFile": `scheduler check` passes;
// - mutual TLS (tls-auth-clients yes; "tls.certFile"/"tls.keyFile"): two `dehb worker`s and a
//   `dehb run --cluster` complete, every trial told once; a study stored there (`--storage FILE`) runs;
// - a rediss:// URL as `--storage`, its CA given by NODE_EXTRA_CA_CERTS;
// - the attacker's or the misconfigured attempts fail at once with one clear sentence naming the
//   key or flag and the fix (no stack trace, no endless wait): a server certificate not signed by
//   the named CA, no client certificate for a server that demands one, a plain redis:// URL to
//   the TLS port, TLS keys of the wrong type, unknown TLS keys, half a client certificate, a CA
//   file that is not PEM.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSchedulerFile, writeSchedulerFile, type SchedulerFile } from '../../src/protocol/scheduler-file.js';
import { assertToldOnce, clusterRunArgs, withWorkers } from '../fixtures/cluster/cli-run.js';
import { FIXTURE_DIR } from '../fixtures/cluster/harness.js';
import { spawnCli } from '../fixtures/cluster/procs.js';
import { makeTlsFiles, startTlsRedis, type TlsFiles, type TlsRedis } from '../fixtures/cluster/redis-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-tls-test-'));
let files: TlsFiles;
/** tls-auth-clients optional: a client certificate is not needed. */
let open: TlsRedis;
/** tls-auth-clients yes: mutual TLS. */
let mutual: TlsRedis;

before(async () => {
  files = await makeTlsFiles();
  [open, mutual] = await Promise.all([startTlsRedis({ authClients: 'optional', files }), startTlsRedis({ authClients: 'yes', files })]);
});
after(async () => {
  await Promise.all([open?.stop(), mutual?.stop()]);
  rmSync(dir, { recursive: true, force: true });
  if (files !== undefined) rmSync(files.dir, { recursive: true, force: true });
});

let n = 0;
async function schedulerFile(redisUrl: string, tls?: SchedulerFile['tls']): Promise<string> {
  const file = join(dir, `sched-${n++}.json`);
  await writeSchedulerFile(file, makeSchedulerFile({ redisUrl, prefix: `tls${n}`, queue: 'evals', ...(tls === undefined ? {} : { tls }) }));
  return file;
}

/** A file written as raw JSON (to hold what makeSchedulerFile would refuse). */
function rawFile(body: unknown): string {
  const file = join(dir, `raw-${n++}.json`);
  writeFileSync(file, JSON.stringify(body), { mode: 0o600 });
  return file;
}

const mutualTls = (): SchedulerFile['tls'] => ({ caFile: files.ca, certFile: files.clientCert, keyFile: files.clientKey });

/** Runs the CLI to its exit (killed after 60 s: a hang fails the test instead of the suite). */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; err: string; out: string }> {
  const p = spawnCli(args, { env });
  const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  assert.equal(signal, null, `dehb ${args.join(' ')} did not exit by itself within 60 s: ${p.err()}`);
  return { code, err: p.err(), out: p.out() };
}

/** Failed with one clear sentence: non-zero, matching `re`, no stack trace. */
function assertClearFailure(r: { code: number | null; err: string }, re: RegExp): void {
  assert.notEqual(r.code, 0, r.err);
  assert.match(r.err, re);
  assert.doesNotMatch(r.err, /\n\s+at \S+ \(|node:internal/, 'no stack trace');
}

function studyArgs(storage: string, name: string): string[] {
  const space = join(dir, 'study-space.json');
  writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
  return ['study', 'create', name, '--storage', storage, '--space', space, '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(FIXTURE_DIR, 'objective.mjs'), '--seed', '5'];
}

describe('Redis over TLS', { timeout: 150_000 }, () => {
  it('scheduler check of a rediss:// scheduler file with tls.caFile passes', async () => {
    const file = await schedulerFile(`rediss://127.0.0.1:${open.port}/0`, { caFile: files.ca });
    const r = await cli(['scheduler', 'check', '--scheduler-file', file]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`ok {4}connection: reachable at rediss://127\\.0\\.0\\.1:${open.port}/0`));
    assert.match(r.err, /ok {4}queue: 0 waiting/);
  });

  it('mutual TLS: two workers and a dehb run --cluster complete, every trial told once; check sees the workers', async () => {
    const file = await schedulerFile(`rediss://127.0.0.1:${mutual.port}/0`, mutualTls());
    const out = join(dir, 'mtls-run');
    await withWorkers(file, {}, async () => {
      const run = await cli(clusterRunArgs(file, out, 16, dir));
      assert.equal(run.code, 0, run.err);
      const check = await cli(['scheduler', 'check', '--scheduler-file', file]);
      assert.equal(check.code, 0, check.err);
      assert.equal(check.err.match(/ok {4}worker \S+: /g)?.length, 2, `both workers' host facts over TLS: ${check.err}`);
    });
    assertToldOnce(out, 16);
  });

  it('a study stored on the mutual-TLS Redis (--storage SCHEDULER_FILE): create and optimize complete', async () => {
    const file = await schedulerFile(`rediss://127.0.0.1:${mutual.port}/0`, mutualTls());
    const create = await cli(studyArgs(file, 'overtls'));
    assert.equal(create.code, 0, create.err);
    const opt = await cli(['optimize', 'overtls', '--storage', file, '--fevals', '8', '-n', '2', '--json']);
    assert.equal(opt.code, 0, opt.err);
    assert.equal((JSON.parse(opt.out) as { toldTotal: number }).toldTotal, 8);
  });

  it('a rediss:// URL as --storage: works with NODE_EXTRA_CA_CERTS, and without it says how to name the CA', async () => {
    const url = `rediss://127.0.0.1:${open.port}/0?prefix=urltls:`;
    const ok = await cli(studyArgs(url, 'byurl'), { NODE_EXTRA_CA_CERTS: files.ca });
    assert.equal(ok.code, 0, ok.err);
    const refused = await cli(studyArgs(url, 'byurl2'), { NODE_EXTRA_CA_CERTS: '' });
    assertClearFailure(refused, /not signed by a CA this client trusts.*NODE_EXTRA_CA_CERTS=FILE/);
  });

  it('a server certificate not signed by the CA in tls.caFile is refused by check, worker, run and study, naming tls.caFile', async () => {
    const file = await schedulerFile(`rediss://127.0.0.1:${open.port}/0`, { caFile: files.otherCa });
    const said = /not signed by a CA this client trusts \(SELF_SIGNED_CERT_IN_CHAIN[^)]*\); name the CA that signed the server certificate in the scheduler file key "tls\.caFile"/;
    assertClearFailure(await cli(['scheduler', 'check', '--scheduler-file', file]), said);
    // a worker does not wait for a set-up error to go away (its --wait-ms is 120 s)
    assertClearFailure(await cli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR]), said);
    assertClearFailure(await cli(clusterRunArgs(file, join(dir, 'badca-run'), 4, dir)), said);
    assertClearFailure(await cli(studyArgs(file, 'badca')), said);
  });

  it('no client certificate for a server with tls-auth-clients yes: the worker and the study say to set tls.certFile and tls.keyFile', async () => {
    const file = await schedulerFile(`rediss://127.0.0.1:${mutual.port}/0`, { caFile: files.ca });
    const said = /"tls\.certFile" and "tls\.keyFile"/;
    // TLS 1.3: the server's "certificate required" alert races with its reset of the socket; a
    // reset alone is not a set-up error for sure, so the worker waits (--wait-ms) saying the fix
    assertClearFailure(await cli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--wait-ms', '3000']), said);
    assertClearFailure(await cli(studyArgs(file, 'nocert')), said);
  });

  it('a plain redis:// URL to the TLS port fails at once, hinting at rediss://', async () => {
    const file = await schedulerFile(`redis://127.0.0.1:${open.port}/0`);
    const said = /if it expects TLS, use a rediss:\/\/ URL/;
    assertClearFailure(await cli(['scheduler', 'check', '--scheduler-file', file]), said);
    assertClearFailure(await cli(clusterRunArgs(file, join(dir, 'plain-run'), 4, dir)), said);
    assertClearFailure(await cli(studyArgs(`redis://127.0.0.1:${open.port}/0`, 'plain')), said);
  });

  it('TLS keys of the wrong type, unknown TLS keys, half a client certificate, a CA file that is not PEM: refused naming the key', async () => {
    const base = { version: 1, redisUrl: `rediss://127.0.0.1:${open.port}/0`, prefix: 'bad', queue: 'evals' };
    const notPem = join(dir, 'not-pem.crt');
    writeFileSync(notPem, 'hello');
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, tls: { caFile: 5 } }, /field "tls\.caFile": .*expected string/],
      [{ ...base, tls: { caFile: files.ca, rejectUnauthorized: 'no' } }, /field "tls\.rejectUnauthorized": .*expected boolean/],
      [{ ...base, tls: 'on' }, /field "tls": .*expected object/],
      [{ ...base, tls: { ca: files.ca } }, /field "tls": Unrecognized key: "ca"/],
      [{ ...base, tls: { caFile: files.ca, certFile: files.clientCert } }, /field "tls\.keyFile": a client certificate needs both/],
      [{ ...base, tls: { caFile: notPem } }, /field "tls\.caFile": .*not a PEM file/],
      [{ ...base, tls: { caFile: join(dir, 'missing.crt') } }, /field "tls\.caFile": cannot read .*ENOENT/],
    ];
    for (const [body, re] of cases) {
      const file = rawFile(body);
      assertClearFailure(await cli(['scheduler', 'check', '--scheduler-file', file]), re);
    }
    // the same refusal from a run, with the usage exit code
    const run = await cli(clusterRunArgs(rawFile({ ...base, tls: { caFile: 5 } }), join(dir, 'type-run'), 4, dir));
    assertClearFailure(run, /field "tls\.caFile"/);
    assert.equal(run.code, 2, run.err);
  });
});
