// What the test command does about missing machine packages (test/runner/prerequisites.ts):
// nothing when redis-server and python3 are on PATH; otherwise, when it may not install them
// (not root, or root without apt-get), it names what is missing and the exact install command.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensurePackages } from '../runner/prerequisites.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-prereq-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const noInstall = (m: string): void => assert.fail(`nothing may be installed here: ${m}`);

/** A directory holding executables with these names (to be the whole PATH). */
function pathWith(name: string, commands: string[]): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const c of commands) {
    writeFileSync(join(d, c), '#!/bin/sh\n');
    chmodSync(join(d, c), 0o755);
  }
  return d;
}

test('redis-server and python3 on PATH: nothing to do', () => {
  assert.equal(ensurePackages(noInstall, { path: pathWith('both', ['redis-server', 'python3']), root: false }), null);
});

test('one missing and not root: the exact apt-get command for it', () => {
  assert.equal(
    ensurePackages(noInstall, { path: pathWith('python-only', ['python3']), root: false }),
    "the test suite needs redis-server, missing here; install with:\n  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends redis-server'",
  );
});

test('both missing, root but no apt-get: the command for both', () => {
  assert.equal(
    ensurePackages(noInstall, { path: pathWith('empty', []), root: true }),
    "the test suite needs redis-server and python3, missing here; install with:\n  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends redis-server python3'",
  );
});
