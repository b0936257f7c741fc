/**
 * The executor conformance suite: one set of behavioural tests every backend must pass.
 * Usage from a backend's test file:
 *
 *   runExecutorConformance('local', (fx) => ({ executor: new LocalExecutor({ nWorkers: 2 }), objective: fx.module }));
 *
 * The fixture objective (module or command) reads `config.mode` and logs start/end lines to
 * `config.log`, so concurrency is measured from the order of events, never from timings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDehbError } from '../../src/errors.js';
import type { EvalOutcome, EvalTask, Executor, ObjectiveRef } from '../../src/protocol/executor.js';

export const FIXTURE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'objectives');

export interface ConformanceFixtures {
  /** Module objective (test/fixtures/objectives/conformance.mjs, export `objective`). */
  module: ObjectiveRef;
  /** Node command objective (test/fixtures/objectives/conformance-cmd.mjs). */
  command: ObjectiveRef;
}

export interface ConformanceSetup {
  executor: Executor;
  /** Which fixture the executor runs (fx.module, fx.command or a function ref). */
  objective: ObjectiveRef;
  cleanup?: () => Promise<void> | void;
}

export const conformanceFixtures: ConformanceFixtures = {
  module: { kind: 'module', path: join(FIXTURE_DIR, 'conformance.mjs'), exportName: 'objective' },
  command: { kind: 'command', argv: [process.execPath, join(FIXTURE_DIR, 'conformance-cmd.mjs')] },
};

type Make = (fx: ConformanceFixtures) => Promise<ConformanceSetup> | ConformanceSetup;

let nextTrial = 1;

/** Register the suite under `describe(name)`. Each test gets a fresh executor from `make`. */
export function runExecutorConformance(name: string, make: Make): void {
  describe(`executor conformance: ${name}`, { timeout: 120_000 }, () => {
    const withExec = (title: string, body: (s: Harness) => Promise<void>): void => {
      it(title, { timeout: 60_000 }, async () => {
        const setup = await make(conformanceFixtures);
        const h = new Harness(setup);
        try {
          await body(h);
        } finally {
          await setup.executor.close({ force: true }).catch(() => undefined);
          await setup.cleanup?.();
          h.dispose();
        }
      });
    };

    withExec('ok result carries fitness, cost, info and reports', async (h) => {
      const reports: Array<[number, number]> = [];
      const out = await h.submit({ mode: 'ok', x: 3.5 }, { fidelity: 9, onReport: (s, v) => reports.push([s, v]) });
      assert.equal(out.status, 'ok', JSON.stringify(out));
      if (out.status !== 'ok') return;
      assert.equal(out.fitness, 3.5);
      assert.equal(out.cost, 9);
      assert.equal((out.info as { trial: number }).trial, h.lastTrialId);
      assert.deepEqual(reports, [[1, 1.75], [2, 3.5]]);
      const num = await h.submit({ mode: 'number', x: -2 });
      assert.deepEqual(pick(num), { status: 'ok', fitness: -2 });
    });

    withExec('results are matched to their trials', async (h) => {
      const n = h.exec.capacity * 3;
      const xs = Array.from({ length: n }, (_, i) => i * 1.5 - 2);
      const outs = await Promise.all(xs.map((x) => h.submit({ mode: 'number', x })));
      assert.deepEqual(outs.map((o) => (o.status === 'ok' ? o.fitness : o.status)), xs);
    });

    withExec('a throwing objective -> failed, not retryable', async (h) => {
      const out = await h.submit({ mode: 'throw', x: 7 });
      assert.equal(out.status, 'failed', JSON.stringify(out));
      if (out.status !== 'failed') return;
      assert.match(out.error.message, /boom 7/);
      assert.equal(out.retryable, false);
    });

    withExec('ObjectiveError decides retryable', async (h) => {
      const no = await h.submit({ mode: 'objective-error', x: 1, retryable: false });
      assert.equal(no.status, 'failed');
      if (no.status === 'failed') {
        assert.match(no.error.message, /nope 1/);
        assert.equal(no.retryable, false);
      }
      const yes = await h.submit({ mode: 'objective-error', x: 2, retryable: true });
      assert.equal(yes.status, 'failed');
      if (yes.status === 'failed') assert.equal(yes.retryable, true);
    });

    withExec('NaN or a missing fitness -> failed with a clear message', async (h) => {
      const nan = await h.submit({ mode: 'nan' });
      assert.equal(nan.status, 'failed');
      if (nan.status === 'failed') assert.match(nan.error.message, /NaN/);
      const nofit = await h.submit({ mode: 'nofitness', x: 1 });
      assert.equal(nofit.status, 'failed');
      if (nofit.status === 'failed') assert.match(nofit.error.message, /fitness/);
    });

    withExec('timeout -> timed-out, and the executor keeps working', async (h) => {
      const out = await h.submit({ mode: 'sleep', ms: 30_000 }, { timeoutMs: 300 });
      assert.deepEqual(pick(out), { status: 'timed-out', timeoutMs: 300 });
      const next = await h.submit({ mode: 'number', x: 1 });
      assert.deepEqual(pick(next), { status: 'ok', fitness: 1 });
    });

    withExec('abort while queued -> cancelled, the objective never starts', async (h) => {
      const fill = Array.from({ length: h.exec.capacity }, () => h.submit({ mode: 'sleep', ms: 400, log: h.log }));
      const ac = new AbortController();
      const queued = h.submit({ mode: 'sleep', ms: 1, log: h.log }, { signal: ac.signal });
      const queuedId = h.lastTrialId;
      ac.abort('changed my mind');
      assert.equal((await queued).status, 'cancelled');
      for (const o of await Promise.all(fill)) assert.equal(o.status, 'ok');
      assert.equal(h.events().some((e) => e.trial === queuedId), false, 'queued task must not start');
    });

    withExec('abort while running -> cancelled', async (h) => {
      const ac = new AbortController();
      const p = h.submit({ mode: 'sleep', ms: 30_000, log: h.log }, { signal: ac.signal });
      await h.waitStarted(1);
      ac.abort();
      assert.equal((await p).status, 'cancelled');
      const next = await h.submit({ mode: 'number', x: 4 });
      assert.deepEqual(pick(next), { status: 'ok', fitness: 4 });
    });

    withExec('an already-aborted signal -> cancelled without running', async (h) => {
      const ac = new AbortController();
      ac.abort();
      const out = await h.submit({ mode: 'number', x: 1, log: h.log }, { signal: ac.signal });
      assert.equal(out.status, 'cancelled');
      assert.equal(h.events().length, 0);
    });

    withExec('never more than capacity evaluations at once', async (h) => {
      const n = h.exec.capacity * 2 + 1;
      const outs = await Promise.all(Array.from({ length: n }, () => h.submit({ mode: 'sleep', ms: 150, log: h.log })));
      for (const o of outs) assert.equal(o.status, 'ok', JSON.stringify(o));
      const ev = h.events();
      assert.equal(ev.length, 2 * n);
      assert.ok(maxConcurrent(ev) <= h.exec.capacity, `max concurrency ${maxConcurrent(ev)} > capacity ${h.exec.capacity}`);
    });

    withExec('capacity evaluations really run together', async (h) => {
      const cap = h.exec.capacity;
      const outs = await Promise.all(Array.from({ length: cap }, () => h.submit({ mode: 'barrier', expect: cap, log: h.log })));
      assert.deepEqual(outs.map((o) => (o.status === 'ok' ? o.fitness : o.status)), Array(cap).fill(0));
    });

    withExec('graceful close waits for running evaluations', async (h) => {
      const cap = h.exec.capacity;
      let settled = 0;
      const ps = Array.from({ length: cap }, () => h.submit({ mode: 'sleep', ms: 300, log: h.log }).finally(() => settled++));
      await h.waitStarted(cap);
      await h.exec.close();
      assert.equal(settled, cap, 'close() resolved before its evaluations');
      for (const o of await Promise.all(ps)) assert.equal(o.status, 'ok');
    });

    withExec('forced close cancels running evaluations', async (h) => {
      const cap = h.exec.capacity;
      const ps = Array.from({ length: cap }, () => h.submit({ mode: 'sleep', ms: 30_000, log: h.log }));
      await h.waitStarted(cap);
      await h.exec.close({ force: true });
      for (const o of await Promise.all(ps)) assert.equal(o.status, 'cancelled');
    });

    withExec('submit after close rejects with E_EXECUTOR', async (h) => {
      await h.exec.close();
      await assert.rejects(h.submit({ mode: 'number', x: 1 }), (err: unknown) => isDehbError(err, 'E_EXECUTOR'));
    });
  });
}

interface Event {
  kind: 'S' | 'E';
  trial: number;
}

class Harness {
  readonly exec: Executor;
  readonly log: string;
  private readonly dir: string;
  lastTrialId = 0;

  constructor(private readonly setup: ConformanceSetup) {
    this.exec = setup.executor;
    this.dir = mkdtempSync(join(tmpdir(), 'dehb-conf-'));
    this.log = join(this.dir, 'events.log');
  }

  submit(
    config: EvalTask['config'],
    o: { fidelity?: number; timeoutMs?: number; signal?: AbortSignal; onReport?: (s: number, v: number) => void } = {},
  ): Promise<EvalOutcome> {
    this.lastTrialId = nextTrial++;
    const task: EvalTask = {
      v: 1,
      runId: 'conformance',
      trialId: this.lastTrialId,
      config,
      fidelity: o.fidelity ?? 1,
      objective: this.setup.objective,
      timeoutMs: o.timeoutMs ?? null,
      gpus: 0,
    };
    return this.exec.submit(task, {
      ...(o.signal === undefined ? {} : { signal: o.signal }),
      ...(o.onReport === undefined ? {} : { onReport: o.onReport }),
    });
  }

  events(): Event[] {
    let text = '';
    try {
      text = readFileSync(this.log, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const [kind, trial] = l.split(' ');
        return { kind: kind as 'S' | 'E', trial: Number(trial) };
      });
  }

  async waitStarted(n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (this.events().filter((e) => e.kind === 'S').length < n) {
      if (Date.now() > deadline) throw new Error(`only ${this.events().length} events after 30 s, waiting for ${n} starts`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function maxConcurrent(events: Array<{ kind: 'S' | 'E' }>): number {
  let cur = 0;
  let max = 0;
  for (const e of events) {
    cur += e.kind === 'S' ? 1 : -1;
    max = Math.max(max, cur);
  }
  return max;
}

function pick(o: EvalOutcome): Record<string, unknown> {
  if (o.status === 'ok') return { status: 'ok', fitness: o.fitness };
  if (o.status === 'timed-out') return { status: 'timed-out', timeoutMs: o.timeoutMs };
  if (o.status === 'failed') return { status: 'failed', message: o.error.message };
  return { status: o.status };
}
