// runTask / loadObjectiveModule in the current process, and the local-executor factory.
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { createLocalExecutor, chooseLocalBackend } from '../../src/cluster/create-local-executor.js';
import type { EvalTask, ObjectiveContext } from '../../src/protocol/executor.js';
import { ExecutorCore } from '../../src/cluster/executor-core.js';
import { InlineExecutor } from '../../src/cluster/inline/inline-executor.js';
import { LocalExecutor } from '../../src/cluster/local/local-executor.js';
import { ProcessExecutor } from '../../src/cluster/process/process-executor.js';
import { loadObjectiveModule, runTask } from '../../src/cluster/run-task.js';
import { isDehbError } from '../../src/errors.js';
import { conformanceFixtures as fx, FIXTURE_DIR } from './executor.conformance.js';

let id = 1;
function task(over: Partial<EvalTask> = {}): EvalTask {
  return { v: 1, runId: 'rt', trialId: id++, config: { x: 2 }, fidelity: 5, objective: { kind: 'function' }, timeoutMs: null, gpus: 0, ...over };
}
const configError = (re: RegExp) => (e: unknown) => isDehbError(e, 'E_CONFIG') && re.test(e.message) && !e.message.includes('\n');

describe('loadObjectiveModule', () => {
  it('loads the named export, relative to the working directory', async () => {
    const fn = await loadObjectiveModule(relative(process.cwd(), join(FIXTURE_DIR, 'conformance.mjs')), 'objective');
    assert.equal(typeof fn, 'function');
  });

  it('falls back to a default export only when no export name is given', async () => {
    const fn = await loadObjectiveModule(join(FIXTURE_DIR, 'default-export.mjs'));
    assert.equal(await fn({ x: 4 }, 1, {} as ObjectiveContext), 8);
    await assert.rejects(loadObjectiveModule(join(FIXTURE_DIR, 'default-export.mjs'), 'objective'), configError(/has no export named 'objective'/));
  });

  it('fails with one clear E_CONFIG line', async () => {
    await assert.rejects(loadObjectiveModule('/nope/obj.mjs'), configError(/^objective module not found: \/nope\/obj\.mjs \(objective\.path\)$/));
    await assert.rejects(loadObjectiveModule(FIXTURE_DIR), configError(/objective module is not a file/));
    await assert.rejects(
      loadObjectiveModule(join(FIXTURE_DIR, 'conformance.mjs'), 'train'),
      configError(/has no export named 'train' \(exported functions: objective\); set objective\.exportName$/),
    );
    await assert.rejects(loadObjectiveModule(join(FIXTURE_DIR, 'conformance.mjs'), 'notAFunction'), configError(/export 'notAFunction' is not a function/));
    await assert.rejects(loadObjectiveModule(join(FIXTURE_DIR, 'broken.mjs')), configError(/broken\.mjs failed to load: /));
  });
});

describe('runTask', () => {
  it('runs module objectives and records where it ran', async () => {
    const out = await runTask(task({ objective: fx.module, config: { mode: 'number', x: 9 } }), { workerInfo: { id: 'w1' }, devices: ['0'] });
    assert.equal(out.status === 'ok' && out.fitness, 9);
    assert.equal(out.worker?.id, 'w1');
    assert.equal(out.worker?.pid, process.pid);
    assert.deepEqual(out.worker?.devices, ['0']);
    assert.equal(typeof out.durationMs, 'number');
  });

  it('a module that fails to load is a failed outcome, not a rejection', async () => {
    const out = await runTask(task({ objective: { kind: 'module', path: '/nope.mjs' } }));
    assert.equal(out.status, 'failed');
    assert.match(out.status === 'failed' ? out.error.message : '', /objective module not found/);
  });

  it('function objectives need allowFunction', async () => {
    const out = await runTask(task({ objective: { kind: 'function', name: 'train' } }));
    assert.match(out.status === 'failed' ? out.error.message : '', /function objective 'train' is not available here/);
    const ok = await runTask(task(), { allowFunction: () => (c) => Number(c.x) + 1 });
    assert.equal(ok.status === 'ok' && ok.fitness, 3);
  });

  it('passes a copy of the config and a context', async () => {
    const t = task({ trialDir: '/tmp/t' });
    let seen: ObjectiveContext | undefined;
    const out = await runTask(t, {
      devices: ['GPU-x'],
      allowFunction: () => (c, f, ctx) => {
        c.x = 100;
        seen = ctx;
        return f;
      },
    });
    assert.equal(out.status === 'ok' && out.fitness, 5);
    assert.equal(t.config.x, 2);
    assert.deepEqual([seen?.trialId, seen?.runId, seen?.fidelity, seen?.devices, seen?.trialDir], [t.trialId, 'rt', 5, ['GPU-x'], '/tmp/t']);
  });

  it('async timeout -> timed-out and the objective sees its signal aborted', async () => {
    let aborted = false;
    const out = await runTask(task({ timeoutMs: 100 }), {
      allowFunction: () => (_c, _f, ctx) =>
        new Promise<number>((resolve) => ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve(1);
        })),
    });
    assert.deepEqual(out.status === 'timed-out' && out.timeoutMs, 100);
    assert.equal(aborted, true);
  });

  it('a synchronous overrun cannot be interrupted but is reported timed-out', async () => {
    const out = await runTask(task({ timeoutMs: 50 }), {
      allowFunction: () => () => {
        const end = Date.now() + 200;
        while (Date.now() < end);
        return 1;
      },
    });
    assert.equal(out.status, 'timed-out');
  });

  it('abort -> cancelled with the reason', async () => {
    const ac = new AbortController();
    const p = runTask(task(), { signal: ac.signal, allowFunction: () => () => new Promise<number>(() => undefined) });
    ac.abort('user pressed ctrl-c');
    const out = await p;
    assert.deepEqual(out.status === 'cancelled' && out.reason, 'user pressed ctrl-c');
  });

  it('ctx.report checks its arguments and forwards reports', async () => {
    const got: number[][] = [];
    const ok = await runTask(task(), { onReport: (s, v) => got.push([s, v]), allowFunction: () => (_c, _f, ctx) => (ctx.report(1, 0.5), 0.5) });
    assert.equal(ok.status, 'ok');
    assert.deepEqual(got, [[1, 0.5]]);
    const bad = await runTask(task(), {
      allowFunction: () => (_c, _f, ctx) => {
        (ctx.report as (a: unknown, b: unknown) => void)('one', 1);
        return 1;
      },
    });
    assert.match(bad.status === 'failed' ? bad.error.message : '', /ctx\.report\(step, value\) expects two numbers/);
  });

  it('runs command objectives, reporting the child pid', async () => {
    const out = await runTask(task({ objective: fx.command, config: { mode: 'number', x: 1 } }), { workerInfo: { id: 'w' } });
    assert.equal(out.status, 'ok');
    assert.notEqual(out.worker?.pid, process.pid);
    assert.equal(out.worker?.id, 'w');
  });
});

describe('executor plumbing', () => {
  it('createLocalExecutor picks inline / local / process', async () => {
    const fn = () => 1;
    assert.equal(chooseLocalBackend({ objective: fn, nWorkers: 4 }), 'inline');
    assert.equal(chooseLocalBackend({ objective: fx.command, nWorkers: 1 }), 'process');
    assert.equal(chooseLocalBackend({ objective: fx.module, nWorkers: 1 }), 'inline');
    assert.equal(chooseLocalBackend({ objective: fx.module, nWorkers: 1, trialTimeoutMs: 1000 }), 'local');
    assert.equal(chooseLocalBackend({ objective: fx.module, nWorkers: 3 }), 'local');
    assert.equal(chooseLocalBackend({ objective: fx.module, nWorkers: 3, backend: 'inline' }), 'inline');
    const a = createLocalExecutor({ objective: fn, nWorkers: 2 });
    const b = createLocalExecutor({ objective: fx.module, nWorkers: 2 });
    const c = createLocalExecutor({ objective: fx.command, nWorkers: 3 });
    assert.ok(a instanceof InlineExecutor && a.capacity === 2);
    assert.ok(b instanceof LocalExecutor && b.capacity === 2);
    assert.ok(c instanceof ProcessExecutor && c.capacity === 3);
    const out = await a.submit(task());
    assert.equal(out.status === 'ok' && out.fitness, 1);
    await Promise.all([a.close(), b.close(), c.close()]);
    assert.throws(() => createLocalExecutor({ objective: fn, backend: 'local' }), configError(/can only run inline/));
    assert.throws(() => createLocalExecutor({ objective: fx.module, backend: 'process' }), configError(/command objectives only/));
    assert.throws(() => createLocalExecutor({ objective: fn, nWorkers: 0 }), configError(/nWorkers must be an integer >= 1 \(got 0\)/));
  });

  it('rejects invalid payloads and kinds a backend cannot run (E_EXECUTOR)', async () => {
    const p = new ProcessExecutor({ capacity: 1 });
    await assert.rejects(p.submit(task({ objective: fx.module })), (e: unknown) => isDehbError(e, 'E_EXECUTOR') && /command objectives only/.test(e.message));
    await p.close();
    const core = new ExecutorCore('test', 1, async () => ({ status: 'ok', fitness: 1 }));
    await assert.rejects(core.submit({ ...task(), v: 2 } as unknown as EvalTask), (e: unknown) => isDehbError(e, 'E_EXECUTOR') && /v=2/.test(e.message));
    await assert.rejects(core.submit(task({ timeoutMs: -1 })), /timeoutMs: must be null \(no limit\) or a number of ms > 0/);
    assert.throws(() => new ExecutorCore('x', 0, async () => ({ status: 'ok', fitness: 1 })), configError(/capacity must be an integer >= 1 \(got 0\)/));
  });

  it('a forced close escalates a pending graceful close', async () => {
    let started = false;
    const ex = new InlineExecutor({
      objective: (_c, _f, ctx) =>
        new Promise<number>((r) => {
          started = true;
          ctx.signal.addEventListener('abort', () => r(1));
        }),
    });
    const p = ex.submit(task());
    while (!started) await new Promise((r) => setTimeout(r, 5));
    let gracefulDone = false;
    const graceful = ex.close().then(() => (gracefulDone = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(gracefulDone, false);
    await ex.close({ force: true });
    await graceful;
    assert.equal((await p).status, 'cancelled');
  });
});
