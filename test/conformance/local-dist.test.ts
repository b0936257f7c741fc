// The local backend from compiled JavaScript: the built dist/ (`npm test` builds it; one older
// than src/ is refused) run with plain `node` (no tsx anywhere), so the worker entry is resolved
// as thread-worker.js next to the compiled executor.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { cliEntry, ROOT } from '../helpers/cli.js';
import { conformanceFixtures as fx } from './executor.conformance.js';

describe('local executor from compiled dist', { timeout: 60_000 }, () => {
  it('runs module objectives on threads without tsx', () => {
    cliEntry(); // dist/ exists and is current
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
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, res.stderr);
    const [first, second] = JSON.parse(res.stdout.trim()) as Array<[string, number | null, string | null]>;
    assert.equal(first[0], 'ok');
    assert.equal(first[1], 5);
    assert.match(String(first[2]), /^thread-\d+$/);
    assert.equal(second[0], 'timed-out');
  });
});
