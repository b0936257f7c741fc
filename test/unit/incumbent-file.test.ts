/**
 * incumbent.json while a run improves (api/run-output.ts IncumbentFile): one write at a time, in
 * order, improvements made during a write coalesce into one write of the newest, and the file
 * ends as the newest incumbent offered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IncumbentFile, writeIncumbent } from '../../src/api/run-output.js';
import type { IncumbentSummary } from '../../src/dehb/types.js';

const inc = (trialId: number): IncumbentSummary => ({ trialId, config: { x: trialId / 100 }, fitness: 1 / (trialId + 1), fidelity: 1 });

test('improvements offered during a write are written once, as the newest; writes never overlap', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-incfile-'));
  try {
    const written: number[] = [];
    let active = 0;
    const file = new IncumbentFile(dir, async (d, i) => {
      active++;
      assert.equal(active, 1, 'one write at a time');
      await new Promise((r) => setTimeout(r, 5));
      await writeIncumbent(d, i);
      written.push(i.trialId);
      active--;
    });
    for (let t = 0; t < 50; t++) file.offer(inc(t));
    await file.settled();
    assert.deepEqual(written, [0, 49], 'the first write, then one of the newest');
    file.offer(null); // nothing to write
    file.offer(inc(60));
    file.offer(inc(61));
    await file.settled();
    assert.deepEqual(written, [0, 49, 60, 61]);
    assert.equal(JSON.parse(await readFile(join(dir, 'incumbent.json'), 'utf8')).trialId, 61);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed write does not stop later ones', async () => {
  const written: number[] = [];
  const file = new IncumbentFile('/nowhere', async (_d, i) => {
    if (i.trialId === 0) throw new Error('ENOSPC');
    written.push(i.trialId);
  });
  file.offer(inc(0));
  file.offer(inc(1));
  await file.settled();
  assert.deepEqual(written, [1]);
});
