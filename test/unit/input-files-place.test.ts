// Study input file names are checked where the files are placed (a trial directory), not only where
// they are stored: no `..`, absolute, `.`/empty or backslash parts, and no symlink on the way out.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { placedPath } from '../../src/study/input-files.js';

describe('placing study input files', () => {
  const root = mkdtempSync(join(tmpdir(), 'dehb-place-'));
  const trial = join(root, 'trial');
  const outside = join(root, 'outside');
  mkdirSync(outside);
  after(() => rmSync(root, { recursive: true, force: true }));

  it('places plain names and relative sub-paths inside the trial directory', async () => {
    assert.equal(await placedPath(trial, 'job.py'), join(trial, 'job.py'));
    assert.equal(await placedPath(trial, 'scripts/train.py'), join(trial, 'scripts', 'train.py'));
    assert.ok(existsSync(join(trial, 'scripts')));
  });

  it('refuses names that leave the directory or are absolute', async () => {
    for (const name of ['../x.py', 'a/../../x.py', '/etc/x.py', '..', '.', '', 'a//b', 'a\\..\\x', 'a/./b', 'x\0y']) {
      await assert.rejects(placedPath(trial, name), (err: unknown) => isDehbError(err, 'E_STUDY'), JSON.stringify(name));
    }
  });

  it('never follows a symlink out of the trial directory', async () => {
    symlinkSync(outside, join(trial, 'link'));
    symlinkSync(join(outside, 'f.py'), join(trial, 'f.py'));
    await assert.rejects(placedPath(trial, 'link/x.py'), /is a symlink/);
    await assert.rejects(placedPath(trial, 'f.py'), /is a symlink/);
    assert.deepEqual(readdirSync(outside), []);
  });
});
