/**
 * ExecutorCore shares one derived signal among the evaluations submitted with the same caller
 * signal (no AbortSignal per evaluation): a caller's abort still cancels only its own evaluations,
 * a forced close cancels every running one, and an objective's ctx.signal (made only when read)
 * reports both.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { InlineExecutor } from '../../src/cluster/inline/inline-executor.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import type { ObjectiveFn } from '../../src/objective.js';

const task = (trialId: number): EvalTask => ({
  v: 1,
  runId: 'r',
  trialId,
  config: { x: trialId },
  fidelity: 1,
  objective: { kind: 'function' },
  timeoutMs: null,
  gpus: 0,
});

/** An objective that runs until its ctx.signal aborts (then rejects), or returns at once for x >= 100. */
const untilAborted: ObjectiveFn = (config, _fidelity, ctx) => {
  if (Number(config.x) >= 100) return Number(config.x);
  return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
};

test("aborting one caller's signal cancels its evaluations only", async () => {
  const ex = new InlineExecutor({ objective: untilAborted, capacity: 3 });
  const a = new AbortController();
  const b = new AbortController();
  const pa = ex.submit(task(1), { signal: a.signal });
  const pb = ex.submit(task(2), { signal: b.signal });
  const pa2 = ex.submit(task(3), { signal: a.signal });
  a.abort('stop a');
  assert.equal((await pa).status, 'cancelled');
  assert.equal((await pa2).status, 'cancelled');
  // b's evaluation still runs; a later one of b and one without a signal complete
  assert.equal((await ex.submit(task(100), { signal: b.signal })).status, 'ok');
  assert.equal((await ex.submit(task(101))).status, 'ok');
  b.abort('stop b');
  assert.equal((await pb).status, 'cancelled');
  await ex.close();
});

test('a forced close cancels running evaluations, with or without a caller signal', async () => {
  const ex = new InlineExecutor({ objective: untilAborted, capacity: 2 });
  const s = new AbortController();
  const p1 = ex.submit(task(1), { signal: s.signal });
  const p2 = ex.submit(task(2));
  await new Promise((r) => setImmediate(r));
  await ex.close({ force: true });
  assert.deepEqual([(await p1).status, (await p2).status], ['cancelled', 'cancelled']);
});

test('many evaluations with a signal each leave no listener behind on those signals', async () => {
  const ex = new InlineExecutor({ objective: () => 1 });
  const signals: AbortSignal[] = [];
  for (let i = 0; i < 50; i++) {
    const c = new AbortController();
    signals.push(c.signal);
    assert.equal((await ex.submit(task(100 + i), { signal: c.signal })).status, 'ok');
  }
  // only the latest signal may still be watched (the next submit will likely reuse it)
  const watched = signals.filter((sig) => getEventListeners(sig, 'abort').length > 0);
  assert.ok(watched.length <= 1, `${watched.length} signals still have listeners`);
  await ex.close();
});

test("an objective's ctx.signal is a live AbortSignal; a synchronous objective may read it", async () => {
  let seen: AbortSignal | undefined;
  const ex = new InlineExecutor({
    objective: (_c, _f, ctx) => {
      seen = ctx.signal;
      const { report } = ctx; // destructured, as objectives do
      report(1, 0.5);
      return ctx.signal.aborted ? 0 : 1;
    },
  });
  const reports: number[] = [];
  const out = await ex.submit(task(100), { onReport: (_s, v) => reports.push(v) });
  assert.equal(out.status, 'ok');
  assert.ok(out.status === 'ok' && out.fitness === 1);
  assert.ok(seen instanceof AbortSignal);
  assert.deepEqual(reports, [0.5]);
  await ex.close();
});
