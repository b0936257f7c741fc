// Conformance of the local backend: module objectives on a piscina pool of 2 real threads.
import { LocalExecutor } from '../../src/cluster/local/local-executor.js';
import { runExecutorConformance } from './executor.conformance.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

runExecutorConformance('local (piscina, 2 threads)', (fx) => ({ executor: new LocalExecutor({ nWorkers: 2 }), objective: fx.module }));

test('local executor: buffered reports (liveReports false) arrive before the outcome resolves', async () => {
  const ex = new LocalExecutor({ nWorkers: 1 });
  try {
    const seen: Array<[number, number]> = [];
    const out = await ex.submit(
      {
        v: 1,
        runId: 'r',
        trialId: 1,
        config: { x: 2 },
        fidelity: 3,
        objective: { kind: 'module', path: fileURLToPath(new URL('../fixtures/lead/quadratic.mjs', import.meta.url)) },
        timeoutMs: null,
        gpus: 0,
      },
      { onReport: (s, v) => seen.push([s, v]), liveReports: false },
    );
    assert.equal(out.status, 'ok');
    assert.deepEqual(seen, [[1, 4]]);
    assert.equal('reports' in out, false);
  } finally {
    await ex.close();
  }
});
