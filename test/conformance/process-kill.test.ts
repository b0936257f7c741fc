// Process backend kills: a forced close and a timeout through the executor kill each child's whole
// process group (the fixture's grandchild `sleep 60` must die too).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, isDead } from '../helpers/processes.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import { ProcessExecutor } from '../../src/cluster/process/process-executor.js';
import { conformanceFixtures as fx } from './executor.conformance.js';

const tmp = mkdtempSync(join(tmpdir(), 'dehb-kill-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let id = 1;
const task = (config: EvalTask['config'], over: Partial<EvalTask> = {}): EvalTask => ({
  v: 1, runId: 'kill', trialId: id++, config, fidelity: 1, objective: fx.command, timeoutMs: null, gpus: 0, ...over,
});


const pidIn = (f: string): number => (existsSync(f) ? Number(readFileSync(f, 'utf8') || 0) : 0);

describe('process backend kills process groups', { timeout: 60_000 }, () => {
  it('forced close: evaluations resolve cancelled and their grandchildren die', async () => {
    const ex = new ProcessExecutor({ capacity: 2, killGraceMs: 500 });
    const files = [join(tmp, 'a.pid'), join(tmp, 'b.pid')];
    const ps = files.map((pidFile) => ex.submit(task({ mode: 'grandchild', pidFile })));
    assert.ok(await eventually(() => files.every((f) => pidIn(f) > 0)));
    await ex.close({ force: true });
    for (const o of await Promise.all(ps)) assert.equal(o.status, 'cancelled');
    for (const f of files) assert.ok(await eventually(() => isDead(pidIn(f))), `grandchild in ${f} survived`);
  });

  it('timeout through the executor: timed-out, grandchild dead, next trial runs', async () => {
    const ex = new ProcessExecutor({ capacity: 1, killGraceMs: 500 });
    const pidFile = join(tmp, 'c.pid');
    try {
      // long enough for a loaded machine to start node and the grandchild before it fires
      const out = await ex.submit(task({ mode: 'grandchild', pidFile }, { timeoutMs: 5_000 }));
      assert.equal(out.status, 'timed-out');
      assert.ok(await eventually(() => isDead(pidIn(pidFile))));
      const next = await ex.submit(task({ mode: 'number', x: 2 }));
      assert.equal(next.status === 'ok' && next.fitness, 2);
    } finally {
      await ex.close();
    }
  });
});
