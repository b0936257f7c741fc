// The local backend from compiled JavaScript: compile src/cluster/local (and what it imports) with
// tsc into a temp dir, then run it with plain `node` (no tsx anywhere), so the worker entry is
// resolved as thread-worker.js next to the compiled executor.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conformanceFixtures as fx } from './executor.conformance.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = mkdtempSync(join(tmpdir(), 'dehb-dist-'));
after(() => rmSync(out, { recursive: true, force: true }));

describe('local executor from compiled dist', { timeout: 60_000 }, () => {
  it('runs module objectives on threads without tsx', () => {
    execFileSync(process.execPath, [
      join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      join(ROOT, 'src', 'cluster', 'local', 'local-executor.ts'),
      '--outDir', join(out, 'dist'), '--rootDir', join(ROOT, 'src'),
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--skipLibCheck', '--types', 'node',
    ], { stdio: 'pipe' });
    writeFileSync(join(out, 'package.json'), '{"type":"module"}');
    symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
    const script = `
      import { LocalExecutor } from './dist/cluster/local/local-executor.js';
      const ex = new LocalExecutor({ nWorkers: 2 });
      const objective = ${JSON.stringify(fx.module)};
      const task = (trialId, config, timeoutMs = null) => ({ v: 1, runId: 'dist', trialId, config, fidelity: 1, objective, timeoutMs, gpus: 0 });
      const outs = await Promise.all([
        ex.submit(task(1, { mode: 'number', x: 5 })),
        ex.submit(task(2, { mode: 'spin', ms: 30000 }, 300)),
      ]);
      await ex.close();
      console.log(JSON.stringify(outs.map((o) => [o.status, o.fitness ?? null, o.worker?.id ?? null])));`;
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, res.stderr);
    const [first, second] = JSON.parse(res.stdout.trim()) as Array<[string, number | null, string | null]>;
    assert.equal(first[0], 'ok');
    assert.equal(first[1], 5);
    assert.match(String(first[2]), /^thread-\d+$/);
    assert.equal(second[0], 'timed-out');
  });
});
