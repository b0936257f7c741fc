/**
 * The one definition of journal entries (protocol/journal-schemas.ts): every entry kind has a
 * format version and a schema, stored entries round-trip, hostile or broken values are refused
 * naming the field, a newer format asks for an upgrade, JSON's null for NaN reads back as dehb
 * expects, and `tell()` inputs use the same four status names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDehbError } from '../../src/errors.js';
import { resolveOptimizerOptions } from '../../src/dehb/optimizer.js';
import { createState } from '../../src/dehb/state.js';
import { ENTRY_VERSION, FINISHED_STATUSES, parseStoredEntry, parseStoredLine, withVersion, type JournalEntry } from '../../src/protocol/journal-schemas.js';
import { normaliseResult } from '../../src/api/result-input.js';
import { TRIAL_STATUSES } from '../../src/study/study-records.js';

const options = resolveOptimizerOptions({ space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 1 });
const job = { trialId: 3, configId: 2, bracketId: 0, rung: 0, fidelity: 1, parentId: -1, vector: [0.5], config: { x: 0.5 }, source: 'de' as const };
const meta = { runId: 'r', objective: { kind: 'function' as const, name: 'f' }, trialTimeoutMs: null };
const one: { [K in JournalEntry['type']]: Extract<JournalEntry, { type: K }> } = {
  created: { type: 'created', options, meta, optimizer: 2 },
  pushed: { type: 'pushed', config: { x: 0.1 }, fidelity: 9 },
  asked: { type: 'asked', trialId: 3, job, applied: { told: 1, pushed: 0 }, external: true },
  started: { type: 'started', trialId: 3, worker: { id: 'w', host: 'h', pid: 1 } },
  report: { type: 'report', trialId: 3, step: 1, value: 0.25 },
  told: { type: 'told', trialId: 3, result: { status: 'ok', fitness: 0.5, cost: 1 }, durationMs: 4 },
  budget: { type: 'budget', budget: { fevals: 10 } },
  finished: { type: 'finished', reason: 'budget' },
  snapshot: { type: 'snapshot', optimizer: 2, state: createState(options), applied: { told: 0, pushed: 0 }, meta, budget: null, external: [3] },
};

test('every entry kind has a version and a schema; stored entries round-trip through JSON', () => {
  assert.deepEqual(Object.keys(one).sort(), Object.keys(ENTRY_VERSION).sort());
  for (const [i, entry] of Object.values(one).entries()) {
    const stored = JSON.parse(JSON.stringify({ ...withVersion(entry), seq: i + 1, at: 1_700_000_000_000 }));
    assert.equal(stored.v, ENTRY_VERSION[entry.type]);
    const r = parseStoredEntry(stored);
    assert.ok(r.ok, `${entry.type}: ${r.ok ? '' : r.reason}`);
    assert.deepEqual(r.entry, stored, `${entry.type} reads back as written (unknown-free)`);
  }
});

test('unknown fields are kept (a newer writer of the same version); a newer version asks for an upgrade', () => {
  const r = parseStoredEntry({ ...one.finished, seq: 1, at: 1, v: 1, extra: { a: 1 } });
  assert.ok(r.ok);
  assert.deepEqual((r.entry as unknown as { extra: unknown }).extra, { a: 1 });
  const newer = parseStoredEntry({ ...one.told, seq: 1, at: 1, v: 2 });
  assert.ok(!newer.ok && newer.newer === true && /format version 2, newer than this dehb reads \(1\): upgrade dehb/.test(newer.reason));
});

test('hostile or broken entries are refused naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...one.told, seq: 1, at: 1, result: { status: 'done', fitness: 1 } }, /^result\.status: /],
    [{ ...one.asked, seq: 1, at: 1, trialId: -1 }, /^trialId: /],
    [{ ...one.asked, seq: 1, at: 1, external: 'yes' }, /^external: /],
    [{ ...one.created, seq: 1, at: 1, meta: { runId: 'r', objective: { kind: 'shell', argv: ['rm'] } } }, /^meta\.objective/],
    [{ ...one.snapshot, seq: 1, at: 1, external: [1.5] }, /^external\.0: /],
    [{ ...one.pushed, seq: 0, at: 1 }, /^seq: /],
    [{ type: 'nope', seq: 1, at: 1 }, /^type: /],
    [[1, 2], /invalid/i],
  ];
  for (const [value, want] of cases) {
    const r = parseStoredEntry(value);
    assert.ok(!r.ok, JSON.stringify(value));
    assert.match(r.reason, want);
  }
  const torn = parseStoredLine('{"seq":1,"at":1,"type":"fini');
  assert.ok(!torn.ok && /^invalid JSON/.test(torn.reason));
});

test("JSON's null for NaN: a result's null fitness/cost is dropped, a report's null value reads as NaN", () => {
  const told = parseStoredEntry({ ...one.told, seq: 1, at: 1, result: { status: 'failed', fitness: null, cost: null, error: { message: 'x' } } });
  assert.ok(told.ok && told.entry.type === 'told');
  assert.deepEqual(told.entry.result, { status: 'failed', error: { message: 'x' } });
  const rep = parseStoredEntry({ ...one.report, seq: 1, at: 1, value: null });
  assert.ok(rep.ok && rep.entry.type === 'report' && Number.isNaN(rep.entry.value));
});

test('one set of status names: journals, study views and tell() inputs', () => {
  assert.deepEqual([...FINISHED_STATUSES], ['ok', 'failed', 'timed-out', 'cancelled']);
  assert.deepEqual(TRIAL_STATUSES, ['queued', 'running', ...FINISHED_STATUSES]);
  for (const status of FINISHED_STATUSES) assert.equal(normaliseResult({ status, fitness: 1 }).status, status);
  assert.throws(() => normaliseResult({ status: 'done', fitness: 1 } as never), (e: unknown) => isDehbError(e, 'E_CONFIG') && /result\.status must be ok, failed, timed-out or cancelled/.test(e.message));
  assert.throws(() => normaliseResult({ status: 'ok' } as never), (e: unknown) => isDehbError(e, 'E_CONFIG') && /needs a finite numeric fitness/.test(e.message));
  assert.deepEqual(normaliseResult(Number.NaN), { status: 'failed', error: { message: 'objective returned NaN' } });
  assert.deepEqual(normaliseResult({ fitness: 2, cost: 3 }), { status: 'ok', fitness: 2, cost: 3 });
});
