/**
 * A cluster worker's trial directories (src/cluster/bullmq/trial-dirs.ts): made under the root,
 * a symlink or file in the way refused (the run's directory, checked once, and the trial's), a
 * run directory removed meanwhile made again, a temporary root's trial directory removed when the
 * trial is over, files in it included. A lazy trial directory (cluster/lazy-trial-dir.ts, a module
 * objective's in a temporary root): made only when the objective reads ctx.trialDir, in the
 * objective's thread too, removed after it, and refused when a symlink is in its place.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TrialDirs } from '../../src/cluster/bullmq/trial-dirs.js';
import { LocalExecutor } from '../../src/cluster/local/local-executor.js';
import { runTask } from '../../src/cluster/run-task.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import { FIXTURE_DIR } from '../fixtures/cluster/harness.js';

const dirTask = (trialDir: string, config: Record<string, number | string>): EvalTask => ({
  v: 1,
  runId: 'lazy',
  trialId: 1,
  config,
  fidelity: 1,
  objective: { kind: 'module', path: join(FIXTURE_DIR, 'dir-objective.mjs'), exportName: 'objective' },
  timeoutMs: null,
  gpus: 0,
  trialDir,
});

const base = mkdtempSync(join(tmpdir(), 'dehb-trial-dirs-'));
after(() => rmSync(base, { recursive: true, force: true }));

describe('TrialDirs', () => {
  it('makes <root>/<run>/<trial>, again after the run directory was removed, and removes a temporary one with its files', async () => {
    const dirs = await TrialDirs.create();
    try {
      const a = await dirs.create({ runId: 'run/../x', trialId: 1 });
      assert.ok(a.startsWith(dirs.root) && lstatSync(a).isDirectory());
      assert.equal(join(a, '..', '..'), dirs.root, 'the run id is one sanitised segment');
      writeFileSync(join(a, 'out.txt'), 'x');
      await dirs.done(a);
      assert.equal(existsSync(a), false, 'a non-empty trial directory goes too');
      rmSync(join(a, '..'), { recursive: true });
      const b = await dirs.create({ runId: 'run/../x', trialId: 2 });
      assert.ok(lstatSync(b).isDirectory(), 'the run directory is made again');
      await dirs.done(b);
      assert.equal(existsSync(b), false);
    } finally {
      await dirs.close();
    }
  });

  it('refuses a symlink in place of the run directory or of a trial directory, and creates nothing outside the root', async () => {
    const root = join(base, 'kept');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const dirs = await TrialDirs.create(root);
    symlinkSync(outside, join(root, 'evil'));
    await assert.rejects(dirs.create({ runId: 'evil', trialId: 1 }), /not a directory \(a symlink or file is in the way\)/);
    assert.equal(existsSync(join(outside, '1')), false);
    // a run directory already checked: the trial's own entry is still checked
    const ok = await dirs.create({ runId: 'good', trialId: 1 });
    symlinkSync(outside, join(root, 'good', '2'));
    await assert.rejects(dirs.create({ runId: 'good', trialId: 2 }), /not a directory/);
    writeFileSync(join(root, 'good', '3'), 'a file');
    await assert.rejects(dirs.create({ runId: 'good', trialId: 3 }), /not a directory/);
    await dirs.done(ok);
    assert.ok(existsSync(ok), 'a kept (--trials-dir) trial directory stays');
  });

  it('path() makes the run directory only; a lazy trial directory is made on the first read of ctx.trialDir and removed after', async () => {
    const dirs = await TrialDirs.create();
    const pool = new LocalExecutor({ nWorkers: 1 });
    try {
      const p = await dirs.path({ runId: 'lazy', trialId: 1 });
      assert.ok(lstatSync(join(p, '..')).isDirectory() && !existsSync(p), 'the run directory, not the trial one');
      const unread = await runTask(dirTask(p, { read: 0, dir: p }), { lazyTrialDir: true });
      assert.equal(unread.status, 'ok');
      assert.deepEqual(unread.info, { before: false });
      assert.equal(existsSync(p), false, 'never made when not read');
      for (const run of [(t: EvalTask) => runTask(t, { lazyTrialDir: true }), (t: EvalTask) => pool.submitChecked(t, { lazyTrialDir: true })]) {
        const read = await run(dirTask(p, { read: 1, dir: p }));
        assert.equal(read.status, 'ok', JSON.stringify(read));
        assert.deepEqual(read.info, { before: false, dir: p, isDir: true, again: true });
        assert.equal(existsSync(p), false, 'removed after the objective, its file included');
      }
      const eager = await runTask(dirTask(p, { read: 1 }));
      assert.equal(eager.status, 'failed', 'without lazyTrialDir the caller makes the directory');
    } finally {
      await pool.close();
      await dirs.close();
    }
  });

  it('a lazy trial directory with a symlink or file in its place fails the trial and writes nothing outside', async () => {
    const root = mkdtempSync(join(base, 'lazy-'));
    const outside = join(base, 'lazy-outside');
    mkdirSync(outside);
    const link = join(root, 'link');
    symlinkSync(outside, link);
    const o = await runTask(dirTask(link, { read: 1 }), { lazyTrialDir: true });
    assert.equal(o.status, 'failed');
    assert.match(String(o.error?.message), /not a directory \(a symlink or file is in the way\)/);
    assert.equal(existsSync(join(outside, 'out.txt')), false);
    assert.equal(lstatSync(link).isSymbolicLink(), true, 'what was in the way is left alone');
  });
});
