/**
 * Every study command end to end through the real CLI entry (`main`, in process, see runMain;
 * the one command that needs another process, a worker picking up a push, is a real child),
 * against one storage. study-cli-file.test.ts and study-cli-redis.test.ts run it against the
 * directory and the Redis storage.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { journalOf, makeStorage, runMain, toldIds, type TestStorage } from './study-helpers.js';

export function defineStudyCliSuite(kind: 'file' | 'redis'): void {
  let ts: TestStorage;
  before(async () => {
    ts = await makeStorage(kind);
  });
  after(async () => {
    await ts.cleanup();
  });
  const cli = (args: string[]) => runMain(args, { DEHB_STORAGE: ts.url });
  const child = (args: string[]) => runCli(args, { env: { DEHB_STORAGE: ts.url } });
  const create = (name: string, extra: string[] = []) =>
    cli(['study', 'create', name, '--space', join(ts.dir, 'space.json'), '--min-fidelity', '1', '--max-fidelity', '9', '--objective', join(ts.dir, 'objective.mjs'), '--seed', '7', ...extra]);

  test(`[${kind}] create, duplicate, skip-if-exists, bad input`, async () => {
    const r = await create('alpha', ['--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'alpha', created: true, storage: ts.kind === 'file' ? ts.url : ts.url });
    assert.match(r.stderr, /created study "alpha" .*kind dehb, seed 7, fidelity 1\.\.9, eta 3/);
    const dup = await create('alpha');
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /a study named "alpha" already exists .*--skip-if-exists/);
    const skip = await create('alpha', ['--skip-if-exists', '--json']);
    assert.equal(skip.code, 0, skip.stderr);
    assert.equal(JSON.parse(skip.stdout).created, false);
    const noSpace = await cli(['study', 'create', 'beta', '--min-fidelity', '1', '--max-fidelity', '9', '--command', 'true']);
    assert.equal(noSpace.code, 2);
    assert.match(noSpace.stderr, /missing search space/);
    const badKind = await create('beta', ['--kind', 'grid']);
    assert.equal(badKind.code, 2);
    assert.match(badKind.stderr, /--kind must be one of dehb, random, manual/);
    const badName = await create('no/slash');
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /study name must be/);
  });

  test(`[${kind}] optimize: total budget, same N returns at once, larger N extends`, async () => {
    const r = await cli(['optimize', 'alpha', '--fevals', '10', '-n', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.reason, 'budget');
    assert.equal(s.toldTotal, 10);
    assert.equal(s.toldHere, 10);
    assert.equal(r.stderr.match(/^trial \d+: ok fitness/gm)?.length, 10, 'one line per trial on stderr');
    const again = await cli(['optimize', 'alpha', '--fevals', '10', '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).toldHere, 0);
    const more = await cli(['optimize', 'alpha', '--fevals', '14', '--json']);
    assert.equal(more.code, 0, more.stderr);
    assert.deepEqual([JSON.parse(more.stdout).toldTotal, JSON.parse(more.stdout).toldHere], [14, 4]);
    const told = toldIds(await journalOf(ts.url, 'alpha'));
    assert.deepEqual([...told].sort((a, b) => a - b), Array.from({ length: 14 }, (_, i) => i), 'trials 0..13 told once each');
    const none = await cli(['optimize', 'alpha']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /exactly one budget/);
    const unknown = await cli(['optimize', 'nope', '--fevals', '1']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no study named "nope"/);
  });

  test(`[${kind}] push: validated, picked up by a worker first, recorded as a manual trial`, async () => {
    const bad = await cli(['push', 'alpha', '-p', 'x=3', '-p', 'act=relu']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /parameter 'x'.*outside/);
    const badChoice = await cli(['push', 'alpha', '-p', 'x=0.5', '-p', 'act=sigmoid']);
    assert.equal(badChoice.code, 2);
    assert.match(badChoice.stderr, /parameter 'act'/);
    const badFid = await cli(['push', 'alpha', '-p', 'x=0.5', '-p', 'act=relu', '--fidelity', '50']);
    assert.equal(badFid.code, 2);
    assert.match(badFid.stderr, /--fidelity must be within \[1, 9\]/);
    const p = await cli(['push', 'alpha', '-p', 'x=0.3', '-p', 'act=relu', '--fidelity', '3', '--json']);
    assert.equal(p.code, 0, p.stderr);
    const pushed = JSON.parse(p.stdout);
    assert.deepEqual(pushed, { trialId: 14, config: { x: 0.3, act: 'relu' }, fidelity: 3 });
    const w = await child(['study', 'worker', 'alpha', '--max-trials', '1', '--idle-exit', '20s', '--json']);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(JSON.parse(w.stdout).toldHere, 1);
    const show = await cli(['trial', 'show', 'alpha', '14', '--json']);
    assert.equal(show.code, 0, show.stderr);
    const t = JSON.parse(show.stdout);
    assert.equal(t.status, 'ok');
    assert.equal(t.source, 'manual');
    assert.deepEqual(t.config, { x: 0.3, act: 'relu' });
    assert.equal(t.fitness, 1 / 3);
    assert.deepEqual(t.reports, [{ step: 1, value: 0.3 }]);
    assert.equal(typeof t.trialDir, 'string');
    const human = await cli(['trial', 'show', 'alpha', '14']);
    assert.match(human.stdout, /status\s+ok/);
    assert.match(human.stdout, /reports\s+1:0\.3/);
    assert.match(human.stdout, /logs\s+\S+14/);
    const missing = await cli(['trial', 'show', 'alpha', '999']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no trial 999/);
  });

  test(`[${kind}] trials, list, show, export`, async () => {
    const j = await cli(['trials', 'alpha', '--format', 'json']);
    assert.equal(j.code, 0, j.stderr);
    const trials = JSON.parse(j.stdout) as Array<{ trialId: number; status: string; worker: { id: string } }>;
    assert.equal(trials.length, 15);
    assert.ok(trials.every((t) => t.status === 'ok' && typeof t.worker.id === 'string'));
    const failed = await cli(['trials', 'alpha', '--status', 'failed,timed-out', '--format', 'json']);
    assert.deepEqual(JSON.parse(failed.stdout), []);
    const badStatus = await cli(['trials', 'alpha', '--status', 'weird']);
    assert.equal(badStatus.code, 2);
    const oldName = await cli(['trials', 'alpha', '--status', 'done', '--format', 'json']); // the old name of 'ok' is still read
    assert.equal((JSON.parse(oldName.stdout) as unknown[]).length, 15, oldName.stderr);
    const csv = await cli(['trials', 'alpha', '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines.length, 16);
    assert.match(lines[0] as string, /^trial_id,status,fitness,cost,fidelity/);
    const table = await cli(['trials', 'alpha']);
    assert.match(table.stdout, /^id\s+status\s+worker\s+fidelity\s+x\s+act\s+fitness\s+cost\s+duration_ms\s+last_value/);
    const list = await cli(['study', 'list', '--json']);
    const alpha = (JSON.parse(list.stdout) as Array<{ name: string; trials: number; byStatus: { ok: number }; best: { fitness: number } }>).find((s) => s.name === 'alpha');
    assert.equal(alpha?.trials, 15);
    assert.equal(alpha?.byStatus.ok, 15);
    const listTable = await cli(['study', 'list']);
    assert.match(listTable.stdout, /name\s+kind\s+trials\s+queued\s+running\s+ok\s+failed\s+timed-out\s+cancelled\s+best\s+last activity/);
    assert.match(listTable.stdout, /alpha\s+dehb\s+15\s+0\s+0\s+15/);
    const show = await cli(['study', 'show', 'alpha', '--json']);
    const s = JSON.parse(show.stdout);
    assert.equal(s.best.fitness, Math.min(...trials.map((t) => (t as unknown as { fitness: number }).fitness)));
    assert.deepEqual(s.queue, { queued: 0, claimed: 0 });
    const human = await cli(['study', 'show', 'alpha']);
    assert.match(human.stdout, /kind\s+dehb/);
    assert.match(human.stdout, /trials\s+15 \(queued 0, running 0, ok 15/);
    const ej = await cli(['study', 'export', 'alpha', '--format', 'json']);
    assert.equal(JSON.parse(ej.stdout).trials.length, 15);
    const ec = await cli(['study', 'export', 'alpha', '--format', 'csv']);
    assert.equal(ec.stdout.trim().split('\n').length, 16);
    const ex = await cli(['study', 'export', 'alpha', '--format', 'xml']);
    assert.equal(ex.code, 2);
  });

  test(`[${kind}] delete: refuses off a terminal without --yes, deletes with --yes`, async () => {
    const no = await cli(['study', 'delete', 'alpha']);
    assert.equal(no.code, 2);
    assert.match(no.stderr, /refusing to delete study "alpha" without --yes/);
    const yes = await cli(['study', 'delete', 'alpha', '--yes']);
    assert.equal(yes.code, 0, yes.stderr);
    const gone = await cli(['trials', 'alpha']);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no study named "alpha"/);
    const again = await cli(['study', 'delete', 'alpha', '--yes']);
    assert.equal(again.code, 2);
  });
}
