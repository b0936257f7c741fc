import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEHB } from '../../src/api/dehb.js';
import { RunJournal } from '../../src/study/run-journal.js';
import { RunSession } from '../../src/study/run-session.js';
import { replay } from '../../src/study/replay.js';
import type { StoredEntry } from '../../src/study/journal-types.js';
import { OPTIMIZER_VERSION } from '../../src/dehb/version.js';

const fixtures = fileURLToPath(new URL('../fixtures/journals/', import.meta.url));
const objective = join(fixtures, 'objective.mjs');

async function fixtureCopy(patch?: (e: StoredEntry) => StoredEntry, name = 'v0.1.0-interrupted'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-fixture-'));
  const src = join(fixtures, name, 'journal.jsonl');
  if (patch === undefined) await copyFile(src, join(dir, 'journal.jsonl'));
  else {
    const lines = (await readFile(src, 'utf8')).trim().split('\n').map((l) => JSON.stringify(patch(JSON.parse(l) as StoredEntry)));
    await writeFile(join(dir, 'journal.jsonl'), lines.join('\n') + '\n');
  }
  return dir;
}

async function entries(dir: string): Promise<StoredEntry[]> {
  return (await readFile(join(dir, 'journal.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as StoredEntry);
}

/** Every trial asked was told exactly once (0 lost, 0 doubled) and `n` results in all. */
async function assertExactlyOnce(dir: string, n: number): Promise<void> {
  const all = await entries(dir);
  const told = new Map<number, number>();
  for (const e of all) if (e.type === 'told') told.set(e.trialId, (told.get(e.trialId) ?? 0) + 1);
  const asked = new Set(all.filter((e) => e.type === 'asked').map((e) => (e as { trialId: number }).trialId));
  assert.equal(told.size, n);
  assert.deepEqual([...told.values()].filter((c) => c !== 1), [], 'no trial told twice');
  assert.deepEqual([...asked].filter((id) => !told.has(id)), [], 'no asked trial left without a result');
}

test('a journal written by dehb 0.1.0 (optimizer version 1, killed with 2 trials pending) resumes: pending trials re-run first', async () => {
  const dir = await fixtureCopy();
  try {
    const d = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s = await d.ready();
    assert.deepEqual(s.resumedPending.map((j) => j.trialId), [238, 239]);
    assert.equal(s.told, 243);
    // the parallel fixes of optimizer versions 2 and 3 ask other trials for this -n 3 run: re-told, with a warning
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0] as string, new RegExp(`optimizer version 1, this is version ${OPTIMIZER_VERSION}.*re-telling its 243 results`));
    const r = await d.run({ fevals: 300, total: true });
    assert.equal(r.trials.ok, 300);
    await d.close();
    await assertExactlyOnce(dir, 300);
    const csv = (await readFile(join(dir, 'history.csv'), 'utf8')).trim().split('\n');
    assert.equal(csv.length, 301, 'history files rebuilt from the journal, then appended');
    assert.equal(existsSync(join(dir, 'history.json')), false, 'no second copy of the records beside the journal');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a journal written by optimizer version 2 (dehb run -n 3, killed with 3 trials pending) resumes by re-telling: pending trials re-run first', async () => {
  const dir = await fixtureCopy(undefined, 'v2-interrupted');
  try {
    const d = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s = await d.ready();
    assert.deepEqual(s.resumedPending.map((j) => j.trialId), [155, 156, 157]);
    assert.equal(s.told, 155);
    // version 3's parallel selection changes what this -n 3 run asks: re-told, with a warning
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0] as string, new RegExp(`optimizer version 2, this is version ${OPTIMIZER_VERSION}.*re-telling its 155 results`));
    const r = await d.run({ fevals: 200, total: true });
    assert.equal(r.trials.ok, 200);
    await d.close();
    await assertExactlyOnce(dir, 200);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a journal of this release\'s optimizer (version 3) with format-1 asked entries (vectors) resumes exactly: no re-telling, pending trials re-run first', async () => {
  // written by DEHB.run (-n 3, 120 results), then two asks left untold and one told: trials 120 and 122 pending
  const dir = await fixtureCopy(undefined, 'v3-interrupted');
  try {
    const before = await entries(dir);
    assert.ok(before.some((e) => e.type === 'asked' && e.v === 1 && Array.isArray(e.job.vector)), 'the fixture holds format-1 asked entries');
    const d = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s = await d.ready();
    assert.deepEqual(s.warnings, [], 'replayed (its re-asks match the journaled vectors), not re-told');
    assert.deepEqual(s.resumedPending.map((j) => j.trialId), [120, 122]);
    assert.equal(s.told, 121);
    const r = await d.run({ fevals: 150, total: true });
    assert.equal(r.trials.ok, 150);
    await d.close();
    await assertExactlyOnce(dir, 150);
    const added = (await entries(dir)).slice(before.length).filter((e) => e.type === 'asked');
    assert.ok(added.length > 0 && added.every((e) => e.v === 2 && (e.job as { vector?: unknown }).vector === undefined), 'new asked entries are format 2 (no vector)');
    // and the mixed journal (format 1 then format 2 asked entries) re-opens exactly
    const again = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s2 = await again.ready();
    assert.deepEqual(s2.warnings, []);
    assert.equal(s2.told, 150);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('re-telling keeps the `external` mark of pending trials handed out by study.ask(): no run re-submits them', async () => {
  // the v2 fixture, with pending trial 156 as if study.ask() had handed it out
  const dir = await fixtureCopy((e) => (e.type === 'asked' && e.trialId === 156 ? { ...e, external: true } : e), 'v2-interrupted');
  try {
    const j = await RunJournal.open(join(dir, 'journal.jsonl'), { create: false });
    const s = await RunSession.resume(j, 'j');
    assert.equal(s.warnings.length, 1, 're-told');
    assert.deepEqual(s.resumedPending.map((x) => x.trialId), [155, 157], 'the asked trial is not re-submitted');
    assert.equal(s.history.get(156)?.status, 'running', "the asker's trial shows as running");
    await s.flush();
    await j.close();
    const snap = (await entries(dir)).filter((e) => e.type === 'snapshot').pop() as { external?: number[] } | undefined;
    assert.deepEqual(snap?.external, [156], 'the re-told snapshot records it');
    // the next re-open starts from that snapshot (exact, no warning) and still knows it
    const j2 = await RunJournal.open(join(dir, 'journal.jsonl'), { create: false });
    const s2 = await RunSession.resume(j2, 'j');
    assert.deepEqual(s2.warnings, []);
    assert.deepEqual(s2.resumedPending.map((x) => x.trialId), [155, 157]);
    await j2.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the same journal as if written by another optimizer version resumes by re-telling, with a warning', async () => {
  const dir = await fixtureCopy((e) => (e.type === 'created' ? { ...e, optimizer: 999 } : e));
  try {
    const d = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s = await d.ready();
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0] as string, /optimizer version 999.*re-telling its 243 results/);
    assert.equal(s.told, 243);
    assert.deepEqual(s.resumedPending.map((j) => j.trialId), [238, 239], 'pending trials keep their ids');
    assert.ok(s.incumbent !== null);
    await d.run({ fevals: 280, total: true });
    await d.close();
    await assertExactlyOnce(dir, 280);
    // the re-told state was snapshotted in this version: the next re-open is exact, without a warning
    const again = new DEHB({ outputDir: dir, resume: true, objective } as never);
    const s2 = await again.ready();
    assert.deepEqual(s2.warnings, []);
    assert.equal(s2.told, 280);
    await again.run({ fevals: 300, total: true });
    await again.close();
    await assertExactlyOnce(dir, 300);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('re-asks that no longer match (an optimizer change without a version bump) also re-tell', async () => {
  // stamped as this version, with trial 2's vector changed: replay finds the mismatch there
  const dir = await fixtureCopy((e) =>
    e.type === 'created'
      ? { ...e, optimizer: OPTIMIZER_VERSION }
      : e.type === 'asked' && e.trialId === 2 ? { ...e, job: { ...e.job, vector: (e.job.vector ?? []).map((x) => (x ?? 0) / 2) } } : e);
  try {
    const s = await new DEHB({ outputDir: dir, resume: true, objective } as never).ready();
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0] ?? '', /^[^:]+journal\.jsonl: entry \d+: trial 2 does not match/);
    assert.equal(s.told, 243);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('snapshots: re-opening from the last snapshot and the tail gives the state of a full replay', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-snap-'));
  try {
    const space = { x: { type: 'float' as const, low: -5, high: 5 }, y: { type: 'float' as const, low: -5, high: 5 } };
    const d = new DEHB({ space, minFidelity: 1, maxFidelity: 27, eta: 3, seed: 5, nWorkers: 4, outputDir: dir,
      objective: async (c: Record<string, unknown>) => Number(c.x) ** 2 + Number(c.y) ** 2 });
    await d.run({ fevals: 1500 });
    await d.close();
    const all = await entries(dir);
    assert.ok(all.filter((e) => e.type === 'snapshot').length >= 3, 'a snapshot every 1000 entries');
    const j = await RunJournal.open(join(dir, 'journal.jsonl'), { create: false });
    const latest = await j.latest();
    assert.ok(latest !== null && latest.fromSnapshot && latest.entries.length < 1000);
    const resumed = await RunSession.resume(j, 'j');
    const full = replay(all, 'j');
    assert.deepEqual(JSON.parse(JSON.stringify(resumed.state)), JSON.parse(JSON.stringify(full.state)));
    assert.equal(resumed.history.records().length, 1500, 'records are read back from the journal');
    await j.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an entry of a newer format version is refused with a message saying to upgrade', async () => {
  const dir = await fixtureCopy((e) => (e.seq === 5 ? { ...e, v: 7 } : e));
  try {
    await mkdir(dir, { recursive: true });
    await assert.rejects(new DEHB({ outputDir: dir, resume: true, objective } as never).ready(), (e: { code?: string; message: string }) =>
      e.code === 'E_JOURNAL' && /a "asked" entry of format version 7, newer than this dehb reads \(2\): upgrade dehb/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
