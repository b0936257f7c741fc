/**
 * The Study API as the one front door: in memory by default, function objectives evaluated in
 * process through the same run loop as `new DEHB(...).run()` (same seed and budget, same trials),
 * ask/tell journaled like run results (errors for unknown or twice-told trials), ask/tell mixed with
 * optimize (asked trials stay the asker's), and ask/tell surviving a re-open of a stored study
 * (directory and Redis).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { DEHB } from '../../src/api/dehb.js';
import { replay } from '../../src/study/replay.js';
import { createStudy, loadStudy } from '../../src/api/study-open.js';
import { type Study } from '../../src/api/study.js';
import { MemoryStudyStorage } from '../../src/study/storage-memory.js';
import type { Config } from '../../src/dehb/types.js';
import { journalOf, makeStorage, SPACE } from './study-helpers.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const OPTIMIZER = { space: SPACE as never, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 11 };
const fitnessOf = (c: Config, f: number): number => ((c.x as number) - 0.3) ** 2 + (c.act === 'relu' ? 0 : 0.1) + 1 / f;
const isState = (re: RegExp) => (e: unknown) => isDehbError(e, 'E_STATE') && re.test(e.message);

test('no storage: an in-memory study with a function objective gives the trials of the same DEHB run', async () => {
  const seen: number[] = [];
  const objective = (c: Config, f: number, ctx: { trialId: number }) => {
    seen.push(ctx.trialId);
    return { fitness: fitnessOf(c, f), cost: f };
  };
  const st = await createStudy({ name: 'mem', ...OPTIMIZER, objective });
  assert.equal(st.storage.kind, 'memory');
  const told: Array<{ trialId: number; result: { status: string; fitness?: number | null; cost?: number | null }; durationMs?: number }> = [];
  const r = await st.optimize({ fevals: 13, onTold: (e) => void told.push(e) });
  assert.deepEqual([r.reason, r.toldTotal, r.toldHere], ['budget', 13, 13]);
  assert.equal(seen.length, 13, 'every trial was evaluated in this process');
  const trials = await st.trials();
  assert.ok(trials.every((t) => t.status === 'ok' && t.cost === t.fidelity));
  // onTold hands over each result as journaled: status, fitness, cost and the timing
  assert.deepEqual(
    told.map((e) => [e.trialId, e.result.status, e.result.fitness, e.result.cost, typeof e.durationMs]),
    trials.map((t) => [t.trialId, 'ok', t.fitness, t.cost, 'number']),
  );

  const run = await new DEHB({ ...OPTIMIZER, objective }).run({ fevals: 13 });
  const shape = (xs: Array<{ trialId: number; config: Config; fidelity: number; fitness: number | null }>) =>
    xs.map((t) => [t.trialId, t.config, t.fidelity, t.fitness]);
  assert.deepEqual(shape(trials), shape(run.history), 'a study and a run with the same seed and budget ask the same trials');
  assert.deepEqual(r.incumbent, run.incumbent, 'one incumbent shape');
  assert.deepEqual(r.best, r.incumbent);
  assert.equal((await st.bestTrial())?.trialId, run.incumbent?.trialId);

  // the budget is the study's total: asking for 13 again evaluates nothing, 16 evaluates 3 more
  assert.equal((await st.optimize({ fevals: 13 })).toldHere, 0);
  assert.equal((await st.optimize({ fevals: 16, nWorkers: 3 })).toldTotal, 16);
  await st.close();
});

test('incumbent rule max-fidelity: the study reports the incumbent the optimizer keeps, as DEHB does', async () => {
  const objective = (c: Config, f: number) => fitnessOf(c, f) + f; // low fidelities would win if they counted
  const st = await createStudy({ name: 'top', ...OPTIMIZER, incumbent: 'max-fidelity', objective });
  const r = await st.optimize({ fevals: 13 });
  const run = await new DEHB({ ...OPTIMIZER, incumbent: 'max-fidelity', objective }).run({ fevals: 13 });
  assert.equal(r.incumbent?.fidelity, 9);
  assert.deepEqual(r.incumbent, run.incumbent);
});

test('one incumbent shape: DEHB.incumbent, run().incumbent, incumbent.json, dehb show --format json, a study summary', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-incumbent-'));
  try {
    const objective = (c: Config, f: number) => fitnessOf(c, f);
    const dehb = new DEHB({ ...OPTIMIZER, objective, outputDir: join(dir, 'run') });
    const r = await dehb.run({ fevals: 9 });
    assert.deepEqual(Object.keys(r.incumbent ?? {}).sort(), ['config', 'fidelity', 'fitness', 'trialId']);
    assert.deepEqual(dehb.incumbent, r.incumbent);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'run', 'incumbent.json'), 'utf8')), r.incumbent);
    const show = await runCli(['show', join(dir, 'run'), '--format', 'json']);
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(JSON.parse(show.stdout).incumbent, r.incumbent);
    await dehb.close();
    // with the max-fidelity rule, `dehb show` (table and JSON) reports the optimizer's incumbent
    const top = new DEHB({ ...OPTIMIZER, incumbent: 'max-fidelity', objective: (c: Config, f: number) => fitnessOf(c, f) + f, outputDir: join(dir, 'top') });
    const t = await top.run({ fevals: 13 });
    await top.close();
    assert.equal(t.incumbent?.fidelity, 9);
    const table = await runCli(['show', join(dir, 'top')]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`incumbent: fitness ${t.incumbent?.fitness} at fidelity 9 \\(trial ${t.incumbent?.trialId}\\)`));
    const json = await runCli(['show', join(dir, 'top'), '--format', 'json']);
    assert.deepEqual(JSON.parse(json.stdout).incumbent, t.incumbent);
    const st = await createStudy({ name: 'shape', ...OPTIMIZER, objective });
    await st.optimize({ fevals: 9 });
    assert.deepEqual((await st.summary()).best, r.incumbent);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('function objectives: thrown errors are failed trials; a study of a function needs the function', async () => {
  const storage = new MemoryStudyStorage();
  const st = await createStudy({
    name: 'fails',
    storage,
    ...OPTIMIZER,
    objective: (c: Config) => {
      if (c.act === 'tanh') throw new Error('tanh is broken');
      return (c.x as number) ** 2;
    },
  });
  await st.optimize({ fevals: 8, nWorkers: 2 });
  const trials = await st.trials();
  assert.ok(trials.some((t) => t.status === 'failed' && /tanh is broken/.test(t.error?.message ?? '')));
  assert.ok(trials.filter((t) => t.config.act === 'relu').every((t) => t.status === 'ok'));

  const again = await loadStudy('fails', { storage });
  await assert.rejects(again.optimize({ fevals: 10 }), (e: unknown) => isDehbError(e, 'E_CONFIG') && /evaluates a JS function, which is not stored/.test(e.message));
  const r = await again.optimize({ fevals: 10, objective: () => 1 });
  assert.equal(r.toldTotal, 10);
  await assert.rejects(loadStudy('fails'), (e: unknown) => isDehbError(e, 'E_CONFIG') && /needs options\.storage/.test(e.message));
  await assert.rejects(loadStudy('fails', { storage, objective: 'x.mjs' as never }), (e: unknown) => isDehbError(e, 'E_CONFIG'));
  const mod = await createStudy({ name: 'mod', storage, ...OPTIMIZER, objective: { kind: 'command', argv: ['true'] } });
  await assert.rejects(mod.optimize({ fevals: 1, objective: () => 1 }), (e: unknown) => isDehbError(e, 'E_CONFIG') && /a command objective/.test(e.message));
});

test('ask/tell in memory: results journaled like run results, clear errors, optimize leaves asked trials alone', async () => {
  const evaluated: number[] = [];
  const st = await createStudy({
    name: 'at',
    ...OPTIMIZER,
    objective: (c: Config, f: number, ctx: { trialId: number }) => {
      evaluated.push(ctx.trialId);
      return fitnessOf(c, f);
    },
  });
  const a = await st.ask();
  const b = await st.ask();
  const c = await st.ask();
  assert.deepEqual([a.trialId, b.trialId, c.trialId], [0, 1, 2]);
  assert.equal(typeof a.config.x, 'number');
  await st.tell(a, fitnessOf(a.config, a.fidelity));
  await st.tell(b.trialId, { fitness: 0.5, cost: 2, info: { note: 'by hand' } });
  await assert.rejects(st.tell(a, 1), isState(/trial 0 was already told/));
  await assert.rejects(st.tell(99, 1), isState(/no trial 99 to tell: it was never asked/));
  await assert.rejects(st.tell(c, { status: 'bogus' } as never), (e: unknown) => isDehbError(e, 'E_CONFIG') && /result\.status/.test(e.message));
  // the same trial told twice at once is told once
  const twice = await Promise.allSettled([st.tell(c, { status: 'timed-out', timeoutMs: 5 }), st.tell(c, 1)]);
  assert.deepEqual(twice.map((x) => x.status), ['fulfilled', 'rejected']);
  const d = await st.ask(); // pending, the asker's

  const r = await st.optimize({ fevals: 10 });
  assert.equal(r.toldTotal, 10);
  assert.ok(!evaluated.includes(d.trialId), 'optimize did not evaluate the trial handed out by ask()');
  assert.ok(!evaluated.some((id) => id <= 2), 'nor the ones told by hand');
  const byOptimize = evaluated[0] as number;
  await assert.rejects(st.tell(byOptimize, 1), isState(/already told/));
  await st.tell(d, { status: 'failed', error: { message: 'diverged' } });
  // asks of one Study run one at a time: concurrent asks get distinct trials, all journaled
  const many = await Promise.all([st.ask(), st.ask(), st.ask()]);
  assert.equal(new Set(many.map((x) => x.trialId)).size, 3);
  for (const m of many) await st.tell(m, fitnessOf(m.config, m.fidelity));
  const e = await st.ask(); // after optimize led, the asker replays and asks the next trial
  assert.ok(e.trialId > d.trialId);
  await st.tell(e, 0.25);

  const byId = new Map((await st.trials()).map((t) => [t.trialId, t]));
  assert.deepEqual([byId.get(0)?.status, byId.get(1)?.fitness, byId.get(1)?.cost, byId.get(2)?.status, byId.get(d.trialId)?.status], ['ok', 0.5, 2, 'timed-out', 'failed']);
  assert.deepEqual(byId.get(1)?.info, { note: 'by hand' });
  const entries = (await st.storage.journal('at').then((j) => j.read(1))).filter((x) => x.type === 'told');
  assert.equal(entries.length, byId.size, 'one told entry per trial');
  const rep = replay(await st.storage.journal('at').then((j) => j.read(1)));
  assert.equal(rep.pending.length, 0);
  assert.equal(rep.state.told, byId.size);
  await st.close();
});

test('ask waits for the lease of a running leader, then fails saying who holds it', async () => {
  const storage = new MemoryStudyStorage();
  const st = await createStudy({ name: 'lease', storage, ...OPTIMIZER });
  assert.equal(await storage.acquireLease('lease', 'someone-else', 60_000), true);
  await assert.rejects(st.ask({ waitMs: 150 }), (e: unknown) => isDehbError(e, 'E_STUDY') && /led by someone-else/.test(e.message));
  await storage.releaseLease('lease', 'someone-else');
  assert.equal((await st.ask()).trialId, 0);
});

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] ask/tell survives a re-open; a module optimize leaves asked trials pending`, async (t) => {
    const ts = await makeStorage(kind);
    const open: Study[] = [];
    const keep = (s: Study): Study => (open.push(s), s);
    t.after(async () => {
      for (const s of open) await s.close();
      await ts.cleanup();
    });
    const first = keep(await createStudy({ name: 'reopen', storage: ts.url, ...OPTIMIZER, objective: { kind: 'module', path: `${ts.dir}/objective.mjs` } }));
    const asked = [await first.ask(), await first.ask(), await first.ask()];
    await first.tell(asked[0] as never, 0.7);
    await first.close();

    const second = keep(await loadStudy('reopen', { storage: ts.url }));
    const pending = (await second.trials()).filter((x) => x.status === 'running').map((x) => x.trialId);
    assert.deepEqual(pending, [1, 2], 'asked, not told: pending after the re-open');
    await second.tell(1, 0.6);
    await assert.rejects(second.tell(0, 1), isState(/already told/));
    const r = await second.optimize({ fevals: 8, nWorkers: 2 });
    assert.equal(r.toldTotal, 8);
    assert.equal((await second.trial(2)).status, 'running', 'optimize left the asked trial to its asker (its asker runs it)');
    await second.tell(2, { fitness: 0.1 });
    const next = await second.ask();
    await second.tell(next, 0.2);

    const entries = await journalOf(ts.url, 'reopen');
    const rep = replay(entries);
    assert.equal(rep.state.told, 10);
    assert.deepEqual([rep.pending.length, rep.external.length], [0, 0]);
    assert.deepEqual(
      entries.filter((e) => e.type === 'asked' && e.external === true).map((e) => (e as { trialId: number }).trialId),
      [0, 1, 2, next.trialId],
    );
    assert.equal((await second.bestTrial())?.fitness, Math.min(...(await second.trials()).map((x) => x.fitness ?? Infinity)));
  });
}

test('a stored study of a JS function: dehb optimize refuses it (nothing recorded); the holder of the function optimizes it', async (t) => {
  const ts = await makeStorage('file');
  t.after(() => ts.cleanup());
  const fn = (c: Config, f: number) => fitnessOf(c, f);
  const st = await createStudy({ name: 'fn', storage: ts.url, ...OPTIMIZER, objective: fn });
  await st.close();
  const cli = await runCli(['optimize', 'fn', '--storage', ts.url, '--fevals', '3']);
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /evaluates a JS function, which is not stored: only a process holding it can optimize the study/);
  assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
  const worker = await runCli(['study', 'worker', 'fn', '--storage', ts.url, '--idle-exit', '1s']);
  assert.equal(worker.code, 2, worker.stderr);
  assert.match(worker.stderr, /evaluates a JS function, which only the process holding it can run/);
  assert.deepEqual((await journalOf(ts.url, 'fn')).filter((e) => e.type === 'told'), [], 'no failure was recorded for the refusals');
  const again = await loadStudy('fn', { storage: ts.url, objective: fn });
  const r = await again.optimize({ fevals: 3 });
  assert.equal(r.toldTotal, 3);
  assert.ok((await again.trials()).every((x) => x.status === 'ok'));
  await again.close();
});

test("tell() refuses a trial an optimize is evaluating (not handed out by ask()): its worker's result stands", async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  let started: (id: number) => void = () => undefined;
  const running = new Promise<number>((r) => (started = r));
  const st = await createStudy({
    name: 'busy',
    ...OPTIMIZER,
    objective: async (c: Config, f: number, ctx: { trialId: number }) => {
      started(ctx.trialId);
      await gate;
      return fitnessOf(c, f);
    },
  });
  const run = st.optimize({ fevals: 2 });
  const id = await running;
  await assert.rejects(st.tell(id, 0), isState(new RegExp(`trial ${id} was not handed out by ask\\(\\)`)));
  release();
  assert.equal((await run).toldTotal, 2);
  assert.notEqual((await st.trial(id)).fitness, 0, "the optimize's result was journaled, not the refused one");
  await st.close();
});

test('createStudy takes trialTimeoutMs by the one timeout rule of new DEHB: > 0 ms or null (no limit)', async () => {
  const objective = (c: Config): number => Number(c.x);
  for (const bad of [0, -5, Number.NaN, '100']) {
    await assert.rejects(
      createStudy({ name: `t${String(bad)}`, ...OPTIMIZER, objective, trialTimeoutMs: bad as number }),
      (e: unknown) => isDehbError(e) && e.code === 'E_CONFIG' && /trialTimeoutMs must be a number of ms > 0/.test(e.message),
    );
  }
  const st = await createStudy({ name: 'tnull', ...OPTIMIZER, objective, trialTimeoutMs: null });
  assert.equal((await st.optimize({ fevals: 3 })).toldTotal, 3);
});
