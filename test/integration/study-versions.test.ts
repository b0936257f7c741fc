/**
 * A directory study whose journal was written by another optimizer version: its leader re-tells
 * the results instead of refusing, journals a snapshot of that state, and the study completes
 * its budget with every trial told exactly once; trials handed out by ask() stay the asker's.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createStudy, loadStudy } from '../../src/api/study-open.js';
import { OPTIMIZER_VERSION } from '../../src/dehb/version.js';
import { journalOf, makeStorage, SPACE, toldIds } from './study-helpers.js';

/** Rewrites a journal as if another optimizer version had written it. */
async function stampOtherVersion(file: string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  (lines[0] as Record<string, unknown>).optimizer = OPTIMIZER_VERSION + 100;
  await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

test('[file] a study journal of another optimizer version resumes by re-telling its results', async (t) => {
  const ts = await makeStorage('file');
  t.after(() => ts.cleanup());
  const st = await createStudy({
    name: 'ver', storage: ts.url, space: SPACE, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 5,
    objective: { kind: 'module', path: join(ts.dir, 'objective.mjs') },
  });
  assert.equal((await st.optimize({ fevals: 8, nWorkers: 2 })).toldTotal, 8);
  await st.close();

  await stampOtherVersion(join(ts.url, 'ver', 'journal.jsonl'));

  const again = await loadStudy('ver', { storage: ts.url });
  try {
    const r = await again.optimize({ fevals: 14, nWorkers: 2 });
    assert.equal(r.toldTotal, 14);
  } finally {
    await again.close();
  }
  const entries = await journalOf(ts.url, 'ver');
  const ids = toldIds(entries);
  assert.equal(ids.length, 14);
  assert.equal(new Set(ids).size, 14, 'no trial told twice');
  const snaps = entries.filter((e) => e.type === 'snapshot');
  assert.equal(snaps.length, 1, 'the re-told state is journaled once');
  assert.equal((snaps[0] as { optimizer: number }).optimizer, OPTIMIZER_VERSION);
});

test('[file] re-told: trials handed out by ask() stay the asker\'s (external), not re-run by optimize', async (t) => {
  const ts = await makeStorage('file');
  t.after(() => ts.cleanup());
  const st = await createStudy({
    name: 'ext', storage: ts.url, space: SPACE, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 5,
    objective: { kind: 'module', path: join(ts.dir, 'objective.mjs') },
  });
  assert.equal((await st.optimize({ fevals: 4, nWorkers: 2 })).toldTotal, 4);
  const mine = await st.ask(); // handed out, not told
  const told = await st.ask();
  await st.tell(told, 0.5);
  await st.close();

  await stampOtherVersion(join(ts.url, 'ext', 'journal.jsonl'));

  const again = await loadStudy('ext', { storage: ts.url });
  try {
    const r = await again.optimize({ fevals: 10, nWorkers: 2 });
    assert.equal(r.toldTotal, 10);
    assert.equal((await again.trial(mine.trialId)).status, 'running', 'optimize left the asked trial to its asker');
    await again.tell(mine, 0.25); // still the asker's to tell
  } finally {
    await again.close();
  }
  const entries = await journalOf(ts.url, 'ext');
  const snaps = entries.filter((e) => e.type === 'snapshot') as Array<{ external?: number[] }>;
  assert.equal(snaps.length, 1, 'the re-told state is journaled once');
  assert.deepEqual(snaps[0]?.external, [mine.trialId], 'the re-told snapshot keeps the external mark');
  const ids = toldIds(entries);
  assert.equal(new Set(ids).size, ids.length, 'no trial told twice');
  assert.ok(ids.includes(mine.trialId));
});
