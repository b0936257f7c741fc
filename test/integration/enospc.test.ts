/**
 * A full disk names the file (issue 8 §5): a run whose --output is on a 48 KiB tmpfs fills it and
 * `dehb run` says which file could not be written (Node's own ENOSPC error names none), with
 * exit 1 and no stack trace. Mounting the tmpfs needs root, as the test command runs here and in CI.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
let mnt = '';
let mounted = false;

before(async () => {
  mnt = await mkdtemp(join(tmpdir(), 'dehb-full-'));
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=48k', 'tmpfs', mnt], { timeout: 10_000 });
  } catch (err) {
    throw new Error(`this test mounts a tiny tmpfs and needs root (CAP_SYS_ADMIN): ${(err as Error).message}`);
  }
  mounted = true;
});

after(async () => {
  if (mounted) await exec('umount', [mnt], { timeout: 10_000 });
  await rm(mnt, { recursive: true, force: true });
});

test('ENOSPC while journaling names the journal file', { timeout: 90_000 }, async () => {
  const out = join(mnt, 'run');
  const r = await runCli([
    'run',
    '--space', join(ROOT, 'test/fixtures/lead/space.json'),
    '--objective', join(ROOT, 'test/fixtures/lead/quadratic.mjs'),
    '--min-fidelity', '1', '--max-fidelity', '9',
    '--fevals', '5000', '--output', out, '--quiet',
  ]);
  assert.equal(r.code, 1, r.stderr);
  const journal = join(out, 'journal.jsonl').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(r.stderr, new RegExp(`^dehb: cannot write ${journal}: no space left on the device; .*\\(ENOSPC\\)$`, 'm'));
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});
