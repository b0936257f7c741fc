import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunModel } from '../../src/report/model.js';
import { PayloadBuilder } from '../../src/report/build-payload.js';
import { openRunSource } from '../../src/report/source.js';
import { spearman, ranks } from '../../src/report/views/spearman.js';
import { buildImportance } from '../../src/report/views/importance.js';
import { sameToken, isLoopback, newToken } from '../../src/report/auth.js';
import { FileJournal } from '../../src/study/file-journal.js';
import type { StoredEntry, TrialRecord } from '../../src/study/journal-types.js';
import type { SpaceSpec } from '../../src/dehb/types.js';
import { writeFixtureRun } from '../../bench/report-fixture.js';

test('spearman: tied ranks are averaged; perfect, reversed and too-few cases', () => {
  assert.deepEqual(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.equal(spearman([1, 2], [1, 2]), null);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  const rho = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) as number;
  assert.ok(Math.abs(rho - 0.8) < 1e-12, String(rho));
});

function record(trialId: number, config: Record<string, number | string>, fitness: number): TrialRecord {
  return { trialId, configId: trialId, bracketId: 0, rung: 0, fidelity: 1, config, source: 'de', status: 'ok', fitness, cost: null, info: {}, error: null, worker: null, askedAt: 0, startedAt: 0, finishedAt: 1, durationMs: 1, reports: [] };
}

test('PED-ANOVA importance ranks the parameter that decides fitness first (numeric values on the unit cube their space gives)', () => {
  // x on a log scale, noise linear on another range: importance reads both through the space's encoding of the configurations
  const space: SpaceSpec = { x: { type: 'float', low: 1e-4, high: 1, log: true }, noise: { type: 'float', low: 10, high: 20 }, c: { type: 'categorical', choices: ['a', 'b'] } };
  const records: TrialRecord[] = [];
  let s = 7;
  const rnd = (): number => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 400; i++) {
    const x = rnd();
    const n = rnd();
    const c = rnd() < 0.5 ? 'a' : 'b';
    records.push(record(i, { x: 10 ** (-4 + 4 * x), noise: 10 + 10 * n, c }, (x - 0.2) ** 2));
  }
  const imp = buildImportance(records, space, 1);
  assert.match(imp.method, /PED-ANOVA/);
  assert.equal(imp.params[0]?.name, 'x');
  const total = imp.params.reduce((a, p) => a + p.importance, 0);
  assert.ok(Math.abs(total - 1) < 1e-3, String(total));
  assert.ok((imp.params.find((p) => p.name === 'x')?.importance ?? 0) > 0.6, JSON.stringify(imp.params));
});

test('the model skips entry kinds it does not know (a newer journal still renders)', () => {
  const model = new RunModel();
  const entries = [
    { seq: 1, at: 1000, type: 'created', options: { space: { a: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 5 }, meta: { runId: 'r' } },
    { seq: 2, at: 1001, type: 'snapshot', state: { anything: true } },
    { seq: 3, at: 1002, type: 'asked', trialId: 0, job: { trialId: 0, configId: 0, bracketId: 0, rung: 0, fidelity: 1, parentId: -1, vector: [0.5], config: { a: 0.5 }, source: 'de' } },
    { seq: 4, at: 1050, type: 'told', trialId: 0, result: { status: 'ok', fitness: 0.25 }, durationMs: 40 },
  ] as unknown as StoredEntry[];
  model.feed(entries);
  assert.equal(model.told, 1);
  const p = new PayloadBuilder(model, 'test').build();
  assert.equal(p.rows.length, 1);
  assert.equal(p.trajectory.incumbent?.fitness, 0.25);
  assert.deepEqual(p.info.fidelities, [1, 3, 9]);
});

test('the model reads a folded start (told startedAt) and keeps its last time when a waiting started entry comes last', () => {
  const model = new RunModel();
  const job = (trialId: number): object => ({ trialId, configId: trialId, bracketId: 0, rung: 0, fidelity: 1, parentId: -1, config: { a: 0.5 }, source: 'de' });
  model.feed([
    { seq: 1, at: 1000, type: 'created', options: { space: { a: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 5 }, meta: { runId: 'r' } },
    { seq: 2, at: 1001, type: 'asked', trialId: 0, job: job(0) },
    { seq: 3, at: 1002, type: 'asked', trialId: 1, job: job(1) },
    { seq: 4, at: 1050, type: 'told', trialId: 0, result: { status: 'ok', fitness: 0.25 }, durationMs: 40, startedAt: 1005 },
    { seq: 5, at: 1003, type: 'started', trialId: 1 },
  ] as unknown as StoredEntry[]);
  assert.equal(model.history.get(0)?.startedAt, 1005);
  assert.equal(model.history.get(1)?.status, 'running');
  assert.equal(model.lastAt, 1050);
});

test('a journal source returns only new entries on each read, and the payload covers every trial', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-report-unit-'));
  try {
    await writeFixtureRun(dir, { trials: 300, unfinished: true });
    const source = await openRunSource({ dir });
    const model = new RunModel();
    const first = await source.read();
    model.feed(first);
    assert.equal((await source.read()).length, 0);
    const journal = await FileJournal.open(join(dir, 'journal.jsonl'), { create: false });
    await journal.append([{ type: 'finished', reason: 'budget' }]);
    await journal.close();
    const next = await source.read();
    assert.deepEqual(next.map((e) => e.seq), [first.length + 1]);
    model.feed(next);
    await source.close();
    assert.equal(model.finished, 'budget');
    const p = new PayloadBuilder(model, 'x').build();
    assert.equal(p.rows.length, 300);
    assert.equal(p.scatter.trials, 300);
    assert.equal(p.timeline.trials, 300);
    assert.equal(p.scatter.rungs.reduce((a, r) => a + r.trials, 0) + p.scatter.failedTotal, 300);
    assert.equal(p.hyperband.totals.reduce((a, r) => a + r.held, 0), 300);
    assert.ok(p.scatter.failedTotal > 0);
    assert.equal(Object.keys(p.errors).length, p.scatter.failedTotal);
    assert.equal(p.live.budget?.kind, 'evaluations');
    const delta = new PayloadBuilder(model, 'x').build({ changed: [3, 4] });
    assert.deepEqual(delta.rows.map((r) => r[0]), [3, 4]);
    assert.equal(delta.delta, true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tokens: constant-time comparison of any lengths; loopback hosts', () => {
  const t = newToken();
  assert.ok(t.length >= 32);
  assert.notEqual(newToken(), t);
  assert.equal(sameToken(t, t), true);
  assert.equal(sameToken(`${t}x`, t), false);
  assert.equal(sameToken('', t), false);
  assert.equal(sameToken(null, t), false);
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('0.0.0.0'), false);
  assert.equal(isLoopback('192.168.1.5'), false);
});

test('timeline: one lane per GPU when trials were pinned, idle gaps kept, queue waits measured', async () => {
  const { buildTimeline } = await import('../../src/report/views/timeline.js');
  const t0 = 1_000_000;
  const rec = (id: number, devices: string[], start: number, end: number, asked: number): TrialRecord => ({
    ...record(id, { x: 0.5 }, 1),
    worker: { host: 'gpu-node', id: 'w1', devices },
    askedAt: t0 + asked,
    startedAt: t0 + start,
    finishedAt: t0 + end,
    durationMs: end - start,
  });
  // GPU 0: two back-to-back trials, then an idle gap, then one more; GPU 1: one trial on both devices
  const records = [rec(0, ['0'], 0, 1000, 0), rec(1, ['0'], 1000, 2000, 0), rec(2, ['0'], 5000, 6000, 100), rec(3, ['0', '1'], 7000, 9000, 3000)];
  const t = buildTimeline(records, t0, t0 + 10_000);
  assert.deepEqual(t.lanes, ['GPU 0', 'GPU 1']);
  assert.equal(t.trials, 4);
  const gpu0 = t.blocks.filter((b) => b[0] === 0).map((b) => [b[1], b[2], b[3]]);
  assert.deepEqual(gpu0, [[0, 2, 2], [5, 6, 1], [7, 9, 1]]);
  assert.deepEqual(t.blocks.filter((b) => b[0] === 1).map((b) => [b[1], b[2]]), [[7, 9]]);
  assert.equal(t.wait.max, 4.9); // trial 2: asked at 0.1 s, started at 5 s
  assert.ok(Math.max(...t.queue.map((q) => q[1])) >= 2, 'two trials were queued at once');
});

test('trajectory: with the max-fidelity incumbent rule only top-rung results count', async () => {
  const { buildTrajectory } = await import('../../src/report/views/trajectory.js');
  const low = { ...record(0, { x: 0.1 }, 0.1), rung: 0, finishedAt: 10 };
  const top = { ...record(1, { x: 0.2 }, 0.5), rung: 2, finishedAt: 20 };
  assert.equal(buildTrajectory([low, top], 0).incumbent?.trialId, 0);
  const rule = buildTrajectory([low, top], 0, 2);
  assert.equal(rule.incumbent?.trialId, 1);
  assert.deepEqual(rule.evals, [2]);
});
