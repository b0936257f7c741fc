// Local (piscina) backend beyond the shared suite: hard timeouts of synchronous objectives,
// crashing and out-of-memory threads, commands and devices through the pool, close semantics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalExecutor } from '../../src/cluster/local/local-executor.js';
import type { EvalOutcome, EvalTask, ObjectiveRef } from '../../src/protocol/executor.js';
import { isDehbError } from '../../src/errors.js';
import { conformanceFixtures as fx } from './executor.conformance.js';

let id = 1000;
function task(config: EvalTask['config'], over: Partial<EvalTask> = {}, objective: ObjectiveRef = fx.module): EvalTask {
  return { v: 1, runId: 'local-failures', trialId: id++, config, fidelity: 1, objective, timeoutMs: null, gpus: 0, ...over };
}

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 20 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('local executor: failures and extras', { timeout: 120_000 }, () => {
  it('a synchronous busy loop is stopped at its timeout; the thread is replaced', async () => {
    const ex = new LocalExecutor({ nWorkers: 2 });
    try {
      const out = await ex.submit(task({ mode: 'spin', ms: 60_000 }, { timeoutMs: 400 }));
      assert.deepEqual(out.status === 'timed-out' && out.timeoutMs, 400);
      const next = await Promise.all([ex.submit(task({ mode: 'number', x: 1 })), ex.submit(task({ mode: 'number', x: 2 }))]);
      assert.deepEqual(next.map((o) => o.status), ['ok', 'ok']);
      await waitFor(() => ex.threadCount === 2);
    } finally {
      await ex.close({ force: true });
    }
  });

  it('process.exit() in an objective fails that trial only', async () => {
    const ex = new LocalExecutor({ nWorkers: 2 });
    try {
      const out = await ex.submit(task({ mode: 'exit', code: 5 }));
      assert.equal(out.status, 'failed');
      if (out.status === 'failed') {
        assert.match(out.error.message, /exited with code 5/);
        assert.equal(out.retryable, false);
      }
      const next = await ex.submit(task({ mode: 'number', x: 3 }));
      assert.equal(next.status === 'ok' && next.fitness, 3);
    } finally {
      await ex.close();
    }
  });

  it('an out-of-memory thread fails the trial with the reason', async () => {
    const ex = new LocalExecutor({ nWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 48 } });
    try {
      const out = await ex.submit(task({ mode: 'oom' }));
      assert.equal(out.status, 'failed');
      if (out.status === 'failed') assert.match(out.error.message, /out of memory/i);
      const next = await ex.submit(task({ mode: 'number', x: 1 }));
      assert.equal(next.status, 'ok');
    } finally {
      await ex.close();
    }
  });

  it('a missing module or export is a failed trial with a clear message', async () => {
    const ex = new LocalExecutor({ nWorkers: 1 });
    try {
      const missing = await ex.submit(task({}, {}, { kind: 'module', path: '/nonexistent/obj.mjs' }));
      assert.equal(missing.status, 'failed');
      if (missing.status === 'failed') assert.match(missing.error.message, /objective module not found: \/nonexistent\/obj\.mjs/);
      const noExport = await ex.submit(task({}, {}, { kind: 'module', path: fx.module.kind === 'module' ? fx.module.path : '', exportName: 'nope' }));
      assert.equal(noExport.status, 'failed');
      if (noExport.status === 'failed') assert.match(noExport.error.message, /has no export named 'nope' \(exported functions: objective\)/);
    } finally {
      await ex.close();
    }
  });

  it('runs command objectives as child processes and rejects JS functions', async () => {
    const ex = new LocalExecutor({ nWorkers: 2 });
    try {
      const out = await ex.submit(task({ mode: 'number', x: 8 }, {}, fx.command));
      assert.equal(out.status === 'ok' && out.fitness, 8);
      assert.notEqual(out.worker?.pid, process.pid);
      await assert.rejects(ex.submit(task({}, {}, { kind: 'function' })), (e: unknown) => isDehbError(e, 'E_EXECUTOR'));
    } finally {
      await ex.close();
    }
  });

  it('gives acquired devices to ctx.devices and releases them on every outcome', async () => {
    const held: string[][] = [];
    const released: string[][] = [];
    const alloc = {
      acquire: (n: number) => {
        const d = Array.from({ length: n }, (_, i) => `GPU-${held.length}-${i}`);
        held.push(d);
        return d;
      },
      release: (d: string[]) => void released.push(d),
    };
    const ex = new LocalExecutor({ nWorkers: 2, gpuAllocator: alloc });
    try {
      const outs: EvalOutcome[] = await Promise.all([
        ex.submit(task({ mode: 'env', x: 1 }, { gpus: 1 })),
        ex.submit(task({ mode: 'throw' }, { gpus: 2 })),
        ex.submit(task({ mode: 'spin', ms: 10_000 }, { gpus: 1, timeoutMs: 200 })),
        ex.submit(task({ mode: 'number', x: 1 })),
      ]);
      assert.deepEqual(outs.map((o) => o.status), ['ok', 'failed', 'timed-out', 'ok']);
      const ok = outs[0];
      if (ok.status === 'ok') {
        assert.deepEqual((ok.info as { devices: string[] }).devices, ok.worker?.devices);
        // Threads cannot pin: the thread's environment is left alone.
        assert.equal((ok.info as { cuda: string | null }).cuda, process.env.CUDA_VISIBLE_DEVICES ?? null);
      }
      assert.equal(held.length, 3);
      assert.deepEqual([...released].sort(), [...held].sort());
    } finally {
      await ex.close();
    }
  });

  it('graceful close: running evaluations finish, queued ones are cancelled', async () => {
    const ex = new LocalExecutor({ nWorkers: 1 });
    const running = ex.submit(task({ mode: 'sleep', ms: 300 }));
    const queued = ex.submit(task({ mode: 'number', x: 1 }));
    await ex.close();
    assert.equal((await running).status, 'ok');
    assert.equal((await queued).status, 'cancelled');
  });

  it('reports worker info from the thread', async () => {
    const ex = new LocalExecutor({ nWorkers: 1 });
    try {
      const out = await ex.submit(task({ mode: 'number', x: 1 }));
      assert.match(String(out.worker?.id), /^thread-\d+$/);
      assert.equal(out.worker?.pid, process.pid);
      assert.equal(typeof out.durationMs, 'number');
    } finally {
      await ex.close();
    }
  });
});
