// The one protocol (src/protocol/schemas.ts): the outcome -> TrialResult converter keeps every
// field (worker and durationMs go beside the result), the journal reads the converted result back
// unchanged, NaN reports survive JSON, and the timeoutMs and runId rules of a task are the ones
// a user meets where they type them.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadRunConfig } from '../../src/cli/run-config.js';
import { DehbError, serializeError } from '../../src/errors.js';
import type { EvalOutcome } from '../../src/protocol/executor.js';
import { toTrialResult } from '../../src/protocol/trial-result.js';
import { taskTimeout } from '../../src/protocol/executor.js';
import { checkTrialTimeout } from '../../src/protocol/schemas.js';
import { parseOutcome, parseTask } from '../../src/protocol/wire.js';
import { trialTask } from '../../src/driver/drive.js';
import { parseStoredEntry } from '../../src/protocol/journal-schemas.js';

const worker = { id: 'w1', host: 'h', pid: 42, devices: ['0'] };
const OUTCOMES: EvalOutcome[] = [
  { status: 'ok', fitness: 0.25, cost: 3, info: { acc: 0.9 }, worker, durationMs: 12 },
  {
    status: 'failed',
    error: { ...serializeError(new DehbError('E_OBJECTIVE', 'boom')), details: { exitCode: 3, stderrTail: 'Traceback ...' } },
    retryable: true,
    worker,
    durationMs: 5,
  },
  { status: 'timed-out', timeoutMs: 1500, worker, durationMs: 1501 },
  { status: 'cancelled', reason: 'cancelled by the coordinator', durationMs: 1 },
];

for (const outcome of OUTCOMES) {
  test(`toTrialResult keeps every field of a ${outcome.status} outcome`, () => {
    assert.equal(parseOutcome(outcome).ok, true);
    const result = toTrialResult(outcome);
    const { worker: _w, durationMs: _d, ...rest } = outcome;
    for (const [key, value] of Object.entries(rest)) assert.deepEqual((result as unknown as Record<string, unknown>)[key], value, key);
    if (outcome.status !== 'ok') assert.equal(typeof result.error?.message, 'string');
    if (outcome.status === 'timed-out') assert.equal(result.error?.message, 'timed out after 1500 ms');
    if (outcome.status === 'cancelled') assert.equal(result.error?.message, 'cancelled by the coordinator');
    // what the journal writes is what it reads back
    const told = { seq: 2, at: 1, type: 'told', trialId: 0, result: JSON.parse(JSON.stringify(result)) as unknown };
    const back = parseStoredEntry(told);
    assert.ok(back.ok, back.ok ? '' : back.reason);
    assert.deepEqual(back.entry.type === 'told' ? back.entry.result : null, result);
  });
}

test('the timeoutMs rule: a task refuses 0; where users type it 0 is refused naming the key; a recorded 0 (older journals) is no limit', () => {
  assert.equal(parseTask({ v: 1, runId: 'r', trialId: 0, config: {}, fidelity: 1, objective: { kind: 'function' }, timeoutMs: 0, gpus: 0 }).ok, false);
  assert.throws(() => checkTrialTimeout(0), (e: unknown) => e instanceof DehbError && e.code === 'E_CONFIG' && /^trialTimeoutMs must be a number of ms > 0 \(got 0\); leave it out for no limit$/.test(e.message));
  assert.throws(() => checkTrialTimeout(-1, 'timeout'), /timeout must be a number of ms > 0 \(got -1\)/);
  for (const fine of [undefined, null, 1, 2500.5]) checkTrialTimeout(fine);
  assert.deepEqual([0, null, undefined, 1500].map(taskTimeout), [null, null, null, 1500]);
});

test('a task the engine built is taken as it is; any other task, a copy of one included, goes through the schema', () => {
  const job = { trialId: 3, configId: 0, bracketId: 0, rung: 0, fidelity: 9, parentId: null, vector: [0.5], config: { x: 0.5 }, source: 'random' } as never;
  const built = trialTask(job, { runId: 'r', objective: { kind: 'module', path: '/o.mjs' }, trialTimeoutMs: 1500, gpus: 0 });
  const p = parseTask(built);
  assert.ok(p.ok);
  assert.equal(p.value, built, 'the same object: no schema run, no copy');
  const copy = parseTask({ ...built });
  assert.ok(copy.ok);
  assert.notEqual(copy.value, built, 'a copy is parsed (zod gives a new object)');
  // a caller's task that looks like the engine's is still checked field by field
  const forged = parseTask({ ...built, timeoutMs: 0, objective: { kind: 'module', path: 42 } });
  assert.equal(forged.ok, false);
  assert.match((forged as { message: string }).message, /timeoutMs|objective/);
});

test('an outcome with a NaN report (null after JSON) is still read, the value as NaN', () => {
  const viaJson = parseOutcome(JSON.parse(JSON.stringify({ status: 'ok', fitness: 1, reports: [[1, 0.5], [2, Number.NaN]] })));
  assert.ok(viaJson.ok);
  assert.deepEqual(viaJson.value.reports, [[1, 0.5], [2, Number.NaN]]);
  const cloned = parseOutcome({ status: 'ok', fitness: 1, reports: [[1, Number.POSITIVE_INFINITY]] });
  assert.ok(cloned.ok);
  assert.deepEqual(cloned.value.reports, [[1, Number.POSITIVE_INFINITY]]);
  assert.equal(parseOutcome({ status: 'ok', fitness: 1, reports: [[1, 'x']] }).ok, false);
});

test('--run-id follows the task rule, in the words of the flag', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-run-id-'));
  try {
    await writeFile(join(dir, 'dehb.json'), JSON.stringify({ space: { x: { type: 'float', low: 0, high: 1 } }, objective: 'o.mjs', minFidelity: 1, maxFidelity: 9 }));
    const flags = { config: join(dir, 'dehb.json') };
    assert.equal((await loadRunConfig({ ...flags, runId: 'exp.1_a-b' } as never, dir)).runId, 'exp.1_a-b');
    await assert.rejects(
      loadRunConfig({ ...flags, runId: 'my run' } as never, dir),
      (e: unknown) => e instanceof DehbError && e.code === 'E_USAGE' && /^--run-id must be letters, digits, "_", "." or "-" .*\(got "my run"\)$/.test(e.message),
    );
    assert.equal(parseTask({ v: 1, runId: 'my run', trialId: 0, config: {}, fidelity: 1, objective: { kind: 'function' }, timeoutMs: null, gpus: 0 }).ok, false);
    // a study's trials are the jobs `study.<name>-<n>`: a run may not take that name
    await assert.rejects(
      loadRunConfig({ ...flags, runId: 'study.lr-sweep' } as never, dir),
      (e: unknown) => e instanceof DehbError && e.code === 'E_USAGE' && /^--run-id "study\.lr-sweep" is taken: ids starting with "study\." name a study's trials .*dehb optimize lr-sweep/.test(e.message),
    );
    assert.equal((await loadRunConfig({ ...flags, runId: 'studyA.1' } as never, dir)).runId, 'studyA.1', 'only the "study." prefix is taken');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
