/**
 * HistoryFiles: batches appended while earlier ones are still being written keep history.csv whole
 * (one row per trial, in order), across a close and a re-open; the file stays open between
 * batches (one descriptor) and none is left after close(); a history.json left by dehb 0.1 is
 * removed at the open.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HistoryFiles } from '../../src/api/run-output.js';
import { TrialHistory } from '../../src/study/history.js';
import type { TrialRecord } from '../../src/study/journal-types.js';

const record = (trialId: number): TrialRecord => {
  const r = TrialHistory.recordOf(
    { trialId, configId: trialId, bracketId: 0, rung: 0, fidelity: 1, parentId: 0, vector: [0.5], config: { x: trialId / 7 }, source: 'random' },
    trialId,
  );
  TrialHistory.finish(r, { status: 'ok', fitness: trialId / 3 }, { at: trialId + 1 });
  return r;
};

/** Descriptors of this process open on a file under `dir` (others, of the test runner, come and go). */
const openFdsUnder = async (dir: string): Promise<string[]> => {
  const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.filter((l) => l.startsWith(dir));
};

test('overlapping batches, a close and a re-open: history.csv whole and in order, no descriptor left open, no stale history.json', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-history-'));
  try {
    await writeFile(join(dir, 'history.json'), '[\n{"trialId":0}\n]\n'); // what dehb 0.1 left
    const files = await HistoryFiles.open(dir, ['x'], 0, () => []);
    assert.equal(existsSync(join(dir, 'history.json')), false);
    for (let i = 0; i < 1000; i++) files.add(record(i)); // a batch every 256 rows, none awaited
    await files.flush();
    assert.deepEqual(await openFdsUnder(dir), [join(dir, 'history.csv')], 'one descriptor kept between batches');
    await files.close();
    assert.deepEqual(await openFdsUnder(dir), []);
    const again = await HistoryFiles.open(dir, ['x'], 1000, () => assert.fail('the files agree with the journal: no rebuild'));
    for (let i = 1000; i < 1300; i++) again.add(record(i));
    await again.close();
    assert.deepEqual(await openFdsUnder(dir), []);
    const rows = (await readFile(join(dir, 'history.csv'), 'utf8')).trim().split('\n');
    assert.equal(rows.length, 1301);
    assert.deepEqual(rows.slice(1).map((l) => Number(l.split(',')[0])), Array.from({ length: 1300 }, (_, i) => i));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
