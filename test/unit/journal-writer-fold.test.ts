/**
 * Group commit folds a started entry into its trial's told entry when both are posted before the
 * group goes out (journal-writer.ts): a fast trial costs two entries, and every reader still
 * sees when it started. A trial still running when the group goes out gets its started entry; a
 * started entry naming a worker (what it says matters: devices, trial directory) is never folded.
 * Both writer paths: encoded lines (a run directory's RunJournal) and entry batches (MemoryJournal).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunJournal } from '../../src/study/run-journal.js';
import { MemoryJournal } from '../../src/study/memory-journal.js';
import { JournalWriter } from '../../src/study/journal-writer.js';
import { TrialHistory } from '../../src/study/history.js';
import type { JournalBackend, JournalEntry, StoredEntry } from '../../src/study/journal-types.js';

const asked = (trialId: number): JournalEntry => ({
  type: 'asked',
  trialId,
  job: { trialId, configId: trialId, bracketId: 0, rung: 0, fidelity: 1, parentId: trialId, config: { x: 0.5 }, source: 'de' },
});
const started = (trialId: number, worker?: { id: string; devices?: string[] }): JournalEntry =>
  worker === undefined ? { type: 'started', trialId } : { type: 'started', trialId, worker };
const told = (trialId: number, worker?: { id: string }): JournalEntry => ({
  type: 'told',
  trialId,
  result: { status: 'ok', fitness: trialId },
  durationMs: 3,
  ...(worker === undefined ? {} : { worker }),
});

async function check(backend: JournalBackend & { read(from?: number): Promise<StoredEntry[]> }): Promise<void> {
  const w = new JournalWriter(backend);
  const before = Date.now();
  // one tick: all of it goes out in one group
  w.post(asked(0));
  w.post(asked(1));
  w.post(asked(2));
  w.post(started(0, { id: 'gpu-worker', devices: ['3'] }));
  const told0 = w.write(told(0));
  w.post(started(1));
  w.post(started(2));
  w.post(started(2)); // a retry starts it again: still one start, the first
  w.post(told(2, { id: 'w2' }));
  await told0; // a told entry's ticket resolves with its group
  await w.flush();
  // trial 1 is still running: its started entry went out; its told entry comes in a later group
  await w.write(told(1));
  await w.flush();
  const entries = await backend.read(1);
  const kinds = entries.map((e) => `${e.type}:${(e as { trialId?: number }).trialId}`);
  assert.deepEqual(kinds, ['asked:0', 'asked:1', 'asked:2', 'started:0', 'told:0', 'told:2', 'started:1', 'told:1']);
  assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8], 'seqs stay dense and in file order');
  const toldOf = (id: number): Extract<StoredEntry, { type: 'told' }> => entries.find((e) => e.type === 'told' && e.trialId === id) as Extract<StoredEntry, { type: 'told' }>;
  assert.deepEqual((entries[3] as Extract<StoredEntry, { type: 'started' }>).worker, { id: 'gpu-worker', devices: ['3'] }, 'a started entry naming a worker is written as it is');
  assert.equal(toldOf(0).startedAt, undefined);
  const t2 = toldOf(2);
  assert.ok(typeof t2.startedAt === 'number' && t2.startedAt >= before && t2.startedAt <= t2.at, `told 2 carries when it started: ${JSON.stringify(t2)}`);
  assert.deepEqual(t2.worker, { id: 'w2' }, 'the told entry keeps its own worker');
  assert.equal(toldOf(1).startedAt, undefined, 'a trial whose started entry was written is not folded');
  const records = new TrialHistory().absorb(entries);
  for (const id of [0, 1, 2]) {
    const r = records.get(id);
    assert.equal(r?.status, 'ok');
    assert.ok(typeof r?.startedAt === 'number' && r.startedAt >= before, `trial ${id} has a start time: ${JSON.stringify(r)}`);
  }
  assert.equal(w.backlog, 0);
}

test('a run directory journal folds a started entry into the told entry of its group', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-fold-'));
  try {
    const j = await RunJournal.open(join(dir, 'journal.jsonl'));
    await check(j);
    await j.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an entry-batch journal (memory, Redis) folds the same way', async () => {
  await check(new MemoryJournal());
});

test('a started entry alone is written by the next group (a slow trial shows as running)', async () => {
  const j = new MemoryJournal();
  const w = new JournalWriter(j);
  w.post(asked(0));
  await w.flush();
  w.post(started(0));
  assert.equal(w.backlog, 1, 'the waiting started entry counts in the backlog');
  await w.flush();
  assert.deepEqual((await j.read(1)).map((e) => e.type), ['asked', 'started']);
});
