import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, createState, tell } from '../../src/dehb/optimizer.js';
import { replay } from '../../src/study/replay.js';
import { OPTIMIZER_VERSION } from '../../src/dehb/version.js';
import { RunSession } from '../../src/study/run-session.js';
import { MemoryJournal } from '../../src/study/memory-journal.js';
import { runLoop } from '../../src/driver/run-loop.js';
import { totalFevals } from '../helpers/budget.js';
import type { Job, OptimizerOptions, TrialResult } from '../../src/dehb/types.js';
import type { JournalEntry } from '../../src/study/journal-types.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import { FakeExecutor } from '../helpers/fake-executor.js';

const opts: OptimizerOptions = {
  space: {
    a: { type: 'float', low: 0, high: 1 },
    b: { type: 'int', low: 1, high: 100, log: true },
    c: { type: 'categorical', choices: ['x', 'y', 'z'] },
  },
  minFidelity: 1,
  maxFidelity: 9,
  eta: 3,
  seed: 42,
};
const f = (c: Record<string, unknown>, fid: number): number => (Number(c.a) - 0.3) ** 2 + Number(c.b) / 100 + (c.c === 'y' ? 0 : 0.1) + 1 / fid;
const makeTask = (job: Job): EvalTask => ({ v: 1, runId: 'r', trialId: job.trialId, config: job.config, fidelity: job.fidelity, objective: { kind: 'function' }, timeoutMs: null, gpus: 0 });
const json = (x: unknown): string => JSON.stringify(x);

test('replay of a sequential run rebuilds the exact optimizer state and history', async () => {
  const journal = new MemoryJournal();
  const live = await RunSession.create(opts, { runId: 'seq' }, journal);
  await runLoop({ session: live, executor: new FakeExecutor(1, (t) => f(t.config, t.fidelity)), budget: totalFevals(60), makeTask });
  const r = replay(await journal.read());
  assert.equal(json(r.state), json(live.state));
  assert.equal(json(r.history.records().map((x) => [x.trialId, x.status, x.fitness])), json(live.history.records().map((x) => [x.trialId, x.status, x.fitness])));
  assert.deepEqual(r.history.trajectory, live.history.trajectory);
  assert.equal(r.pending.length, 0);
});

test('replay of a parallel run (results told out of order) equals the live state', async () => {
  const journal = new MemoryJournal();
  const live = await RunSession.create(opts, { runId: 'par' }, journal);
  const ex = new FakeExecutor(4, (t) => f(t.config, t.fidelity), (t) => ((t.trialId * 7) % 5) + 1);
  await runLoop({ session: live, executor: ex, budget: totalFevals(80), makeTask });
  const entries = await journal.read();
  const toldOrder = entries.filter((e) => e.type === 'told').map((e) => (e as { trialId: number }).trialId);
  assert.notDeepEqual(toldOrder, [...toldOrder].sort((a, b) => a - b), 'the test needs out-of-order results');
  const r = replay(entries);
  assert.equal(json(r.state), json(live.state));
  // and continuing both gives the same next jobs
  for (let i = 0; i < 20; i++) {
    const a = ask(live.state);
    const b = ask(r.state);
    assert.equal(json(a), json(b));
  }
});

test('results written by other processes (told before the leader applied them) replay bit for bit', async () => {
  const journal = new MemoryJournal();
  const state = createState(opts);
  await journal.append([{ type: 'created', options: state.options, meta: { runId: 'lead' }, optimizer: OPTIMIZER_VERSION }]);
  const applied = { told: 0, pushed: 0 };
  const entries: JournalEntry[] = [];
  const asked: Job[] = [];
  const doAsk = (): void => {
    const r = ask(state);
    assert.ok('job' in r);
    asked.push(r.job);
    entries.push({ type: 'asked', trialId: r.job.trialId, job: r.job, applied: { ...applied } });
  };
  const result = (j: Job): TrialResult => ({ status: 'ok', fitness: f(j.config, j.fidelity) });
  // the leader asks 12 jobs; workers write results for 1, 3 and 5 before the leader reads them
  for (let i = 0; i < 12; i++) doAsk();
  for (const id of [1, 3, 5]) entries.push({ type: 'told', trialId: id, result: result(asked[id] as Job) });
  doAsk(); // asked while those results were already in the journal but not applied
  for (const id of [1, 3]) {
    tell(state, id, result(asked[id] as Job));
    applied.told++;
  }
  doAsk();
  entries.push({ type: 'told', trialId: 3, result: { status: 'ok', fitness: -100 } }); // a duplicate delivery: ignored
  tell(state, 5, result(asked[5] as Job));
  applied.told++;
  doAsk();
  await journal.append(entries);
  const r = replay(await journal.read());
  assert.equal(json(r.state), json(state));
  assert.equal(r.history.get(3)?.fitness, f((asked[3] as Job).config, (asked[3] as Job).fidelity), 'the first result wins');
  assert.equal(r.pending.length, 15 - 3);
});

test('a journal written with other options is rejected with E_JOURNAL naming the entry', async () => {
  const journal = new MemoryJournal();
  const live = await RunSession.create(opts, { runId: 'x' }, journal);
  await runLoop({ session: live, executor: new FakeExecutor(1, (t) => f(t.config, t.fidelity)), budget: totalFevals(5), makeTask });
  const entries = await journal.read();
  const created = entries[0] as Extract<(typeof entries)[number], { type: 'created' }>;
  created.options = { ...created.options, seed: 43 };
  assert.throws(() => replay(entries, 'j.jsonl'), (e: { code?: string; message: string }) => e.code === 'E_JOURNAL' && /j\.jsonl: entry 2: trial 0 does not match/.test(e.message));
});

test('asked entries (format 2) hold no vector; replay checks each re-ask against the journaled configuration, to the last bit', async () => {
  const journal = new MemoryJournal();
  const live = await RunSession.create(opts, { runId: 'v2' }, journal);
  await runLoop({ session: live, executor: new FakeExecutor(1, (t) => f(t.config, t.fidelity)), budget: totalFevals(12), makeTask });
  const entries = await journal.read();
  const asked = entries.filter((e) => e.type === 'asked') as Array<Extract<(typeof entries)[number], { type: 'asked' }>>;
  assert.equal(asked.length, 12);
  assert.ok(asked.every((e) => e.v === 2 && !('vector' in e.job)), 'no unit-cube vector in the journal');
  assert.equal(json(replay(entries).state), json(live.state), 'replays exactly without it');
  const seventh = asked[6] as (typeof asked)[number];
  const a = seventh.job.config.a as number;
  seventh.job.config = { ...seventh.job.config, a: a + Number.EPSILON * Math.max(1, Math.abs(a)) };
  assert.throws(() => replay(entries, 'j.jsonl'), (e: { message: string }) => new RegExp(`entry ${seventh.seq}: trial 6 does not match`).test(e.message), 'one ulp off is a mismatch');
});

test('a state survives a JSON round trip mid-run and continues identically', async () => {
  const live = RunSession.create(opts, { runId: 'rt' });
  await runLoop({ session: live, executor: new FakeExecutor(3, (t) => f(t.config, t.fidelity), (t) => (t.trialId % 3) + 1), budget: totalFevals(33), makeTask });
  const copy = JSON.parse(JSON.stringify(live.state)) as typeof live.state;
  assert.equal(json(copy), json(live.state));
  for (let i = 0; i < 30; i++) {
    const a = ask(live.state);
    const b = ask(copy);
    assert.equal(json(a), json(b));
    if ('job' in a && 'job' in b && i % 2 === 0) {
      tell(live.state, a.job.trialId, { status: 'ok', fitness: i });
      tell(copy, b.job.trialId, { status: 'ok', fitness: i });
    }
  }
});
