/**
 * A cluster worker's trial directories (src/cluster/bullmq/trial-dirs.ts): made under the root,
 * a symlink or file in the way refused (the run's directory, checked once, and the trial's), a
 * run directory removed meanwhile made again, a temporary root's trial directory removed when the
 * trial is over, files in it included.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TrialDirs } from '../../src/cluster/bullmq/trial-dirs.js';

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
});
