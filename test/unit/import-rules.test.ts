/**
 * The import-rule check (`npm run check:imports`) fails on each kind of forbidden import: it runs
 * the project's dependency-cruiser config and process.exit check on a small temporary src/ tree,
 * once clean (exit 0) and once with one planted violation per rule (non-zero exit, rule named).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const EXIT_CHECK = join(ROOT, 'tools/check-process-exit.mjs');

interface Run {
  code: number;
  out: string;
}

function run(cwd: string, script: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [script, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, out: `${stdout}${stderr}` });
    });
  });
}

const CLEAN: Record<string, string> = {
  'src/errors.ts': 'export class DehbError extends Error {}\n',
  'src/dehb/optimizer.ts': "import { DehbError } from '../errors.js';\nexport const e = DehbError;\n",
  'src/protocol/executor.ts': "import type { DehbError } from '../errors.js';\nexport type T = DehbError;\n",
  'src/redis/connection.ts': "import { Redis } from 'ioredis';\nexport const R = Redis;\n",
  'src/cluster/local/pool.ts': "import { Piscina } from 'piscina';\nexport const P = Piscina;\n",
  'src/cluster/bullmq/executor.ts': "import { R } from '../../redis/connection.js';\nexport const r = R;\n",
  'src/protocol/schemas.ts': "import type { z } from 'zod';\nexport type S = z.ZodString;\n",
  'src/cli/main.ts': "// process.exit is allowed here\nexport const quit = (): never => process.exit(2);\n",
};

const PLANTED: Record<string, string> = {
  // dehb-is-pure
  'src/dehb/impure.ts': "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n",
  // layer-protocol (imports upward)
  'src/protocol/upward.ts': "import { r } from '../cluster/bullmq/executor.js';\nexport const x = r;\n",
  // redis-only-in-adapter (also type-only imports count)
  'src/cluster/bullmq/direct.ts': "import type { Queue } from 'bullmq';\nexport type Q = Queue;\n",
  // piscina-only-in-local
  'src/study/pool.ts': "import { Piscina } from 'piscina';\nexport const P = Piscina;\n",
  // zod-loaded-lazily (a type-only import is fine: see CLEAN)
  'src/protocol/eager.ts': "import { z } from 'zod';\nexport const s = z.string();\n",
  // no-circular
  'src/study/a.ts': "import { b } from './b.js';\nexport const a = (): number => b() + 1;\n",
  'src/study/b.ts': "import { a } from './a.js';\nexport const b = (): number => a() + 1;\n",
  // src-folder-has-a-layer
  'src/newfolder/thing.ts': "import { DehbError } from '../errors.js';\nexport const t = DehbError;\n",
  // not-to-unresolvable
  'src/cluster/typo.ts': "import { nothing } from './does-not-exist.js';\nexport const n = nothing;\n",
  // driver-knows-no-backend
  'src/driver/loop.ts': "import { P } from '../cluster/local/pool.js';\nexport const p = P;\n",
  // thread-entry-not-imported
  'src/cluster/local/thread-worker.ts': 'export const entry = 1;\n',
  'src/cluster/local/reexport.ts': "export { entry } from './thread-worker.js';\n",
  // process-exit-only-in-cli (a mention in a comment or string does not count: see CLEAN)
  'src/cluster/quit.ts': "// process.exit(1) in a comment is fine\nexport const quit = (): void => { process.exit(1); };\n",
};

let dir = '';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(dir, 'tree-'));
  copyFileSync(join(ROOT, '.dependency-cruiser.cjs'), join(root, '.dependency-cruiser.cjs'));
  copyFileSync(join(ROOT, 'tsconfig.json'), join(root, 'tsconfig.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dehb-import-rules-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a tree that keeps the rules passes both checks', async () => {
  const root = tree(CLEAN);
  const cruise = await run(root, DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs']);
  assert.equal(cruise.code, 0, cruise.out);
  assert.match(cruise.out, /no dependency violations found/);
  const exits = await run(root, EXIT_CHECK, ['src']);
  assert.equal(exits.code, 0, exits.out);
});

test('each planted violation fails the check and names its rule', async () => {
  const root = tree({ ...CLEAN, ...PLANTED });
  const cruise = await run(root, DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs']);
  assert.notEqual(cruise.code, 0, cruise.out);
  const expected: Array<[string, string]> = [
    ['dehb-is-pure', 'src/dehb/impure.ts'],
    ['layer-protocol', 'src/protocol/upward.ts'],
    ['redis-only-in-adapter', 'src/cluster/bullmq/direct.ts'],
    ['piscina-only-in-local', 'src/study/pool.ts'],
    ['zod-loaded-lazily', 'src/protocol/eager.ts'],
    ['no-circular', 'src/study/a.ts'],
    ['src-folder-has-a-layer', 'src/newfolder/thing.ts'],
    ['not-to-unresolvable', 'src/cluster/typo.ts'],
    ['driver-knows-no-backend', 'src/driver/loop.ts'],
    ['thread-entry-not-imported', 'src/cluster/local/reexport.ts'],
  ];
  for (const [rule, file] of expected) {
    assert.match(cruise.out, new RegExp(`error ${rule}: ${file.replace(/[./]/g, '\\$&')}`), `${rule} not reported:\n${cruise.out}`);
  }
  // the allowed imports of the clean tree are not reported
  assert.doesNotMatch(cruise.out, /src\/redis\/connection\.ts →|src\/cluster\/local\/pool\.ts →/);

  const exits = await run(root, EXIT_CHECK, ['src']);
  assert.equal(exits.code, 1, exits.out);
  assert.match(exits.out, /process-exit-only-in-cli/);
  assert.match(exits.out, /src\/cluster\/quit\.ts:2/);
  assert.doesNotMatch(exits.out, /src\/cli\/main\.ts/);
});
