import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { RunJournal } from '../../src/study/run-journal.js';
import { JournalWriter } from '../../src/study/journal-writer.js';
import type { JournalBackend, JournalEntry, StoredEntry } from '../../src/study/journal-types.js';

const report = (trialId: number, step: number): JournalEntry => ({ type: 'report', trialId, step, value: step });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-runj-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('one writer per run directory: a second opener gets E_JOURNAL naming the directory and the holder pid', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const a = await RunJournal.open(path);
    await assert.rejects(RunJournal.open(path), (e: { code?: string; message: string }) =>
      e.code === 'E_JOURNAL' && e.message.includes(dir) && e.message.includes(`pid ${process.pid}`));
    await a.close();
    const b = await RunJournal.open(path); // released on close
    await b.close();
  });
});

test('another process holding the directory is named; its lock is broken once it died', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const src = new URL('../../src/study/run-journal.ts', import.meta.url).pathname;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e',
      `const { RunJournal } = await import(${JSON.stringify(src)}); await RunJournal.open(${JSON.stringify(path)}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('child did not lock within 30 s')), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('locked')) {
            clearTimeout(t);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      await assert.rejects(RunJournal.open(path), new RegExp(`being written by dehb pid ${child.pid} on `));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
    }
    const j = await RunJournal.open(path); // the holder is gone: its lock is stale
    await j.close();
  });
});

test('a lock file of a dead pid on this host is stale', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    await writeFile(`${path}.writer`, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), token: 'x', at: 0 }));
    const j = await RunJournal.open(path);
    assert.equal(JSON.parse(await readFile(`${path}.writer`, 'utf8')).pid, process.pid);
    await j.close();
  });
});

test('appends continue the seqs after a re-open and a torn last line is cut off', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const a = await RunJournal.open(path);
    assert.equal(await a.append([report(1, 1), report(1, 2)]), 2);
    await a.close();
    await appendFile(path, '{"seq":3,"at":1,"type":"rep'); // a crash mid-write
    const b = await RunJournal.open(path);
    assert.equal(b.lastSeq, 2);
    assert.equal(await b.append([report(1, 3)]), 3);
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as StoredEntry);
    assert.deepEqual(lines.map((l) => l.seq), [1, 2, 3]);
    assert.ok(lines.every((l) => l.v === 1));
    await b.close();
  });
});

test('latest() reads the last snapshot and what follows it, plus the created entry', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const j = await RunJournal.open(path);
    const created = { type: 'created', options: { space: {}, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 1 }, meta: { runId: 'r' } } as unknown as JournalEntry;
    const snap = (n: number) => ({
      type: 'snapshot', optimizer: 1, applied: { told: n, pushed: 0 }, meta: { runId: 'r' }, budget: null,
      state: { options: { space: {}, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 1 }, nextTrialId: n, pending: {}, told: n },
    }) as unknown as JournalEntry;
    await j.append([created, report(0, 1), snap(1), report(0, 2), snap(2), report(0, 3), report(0, 4)]);
    const l = await j.latest();
    assert.ok(l !== null);
    assert.equal(l.head.type, 'created');
    assert.equal(l.fromSnapshot, true);
    assert.deepEqual(l.entries.map((e) => e.seq), [5, 6, 7]);
    await j.close();
  });
});

test('group commit: entries queued while an append is under way go in ONE next append', async () => {
  const calls: number[] = [];
  let release: (() => void) | null = null;
  const backend: JournalBackend = {
    async append(entries) {
      calls.push(entries.length);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return calls.reduce((a, b) => a + b, 0);
    },
    async read() {
      return [];
    },
    async close() {},
  };
  const w = new JournalWriter(backend);
  const first = w.write(report(0, 0));
  await new Promise((r) => setImmediate(r));
  const rest = Array.from({ length: 50 }, (_, i) => w.write(report(0, i + 1)));
  assert.equal(w.backlog, 51);
  (release as unknown as () => void)();
  await Promise.all([first, ...rest]);
  assert.deepEqual(calls, [1, 50]);
});

test('dehb show\'s reader: a torn last line is skipped, a corrupted line before the end names its line', async () => {
  const { summarizeJournal } = await import('../../src/study/journal-summary.js');
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const job = { trialId: 0, configId: 0, bracketId: 0, rung: 0, fidelity: 1, parentId: 0, vector: [0.5], config: { x: 0.5 }, source: 'de' };
    const lines = [
      { seq: 1, at: 1, v: 1, type: 'created', options: { space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 1 }, meta: { runId: 'r' } },
      { seq: 2, at: 2, v: 1, type: 'asked', trialId: 0, job },
      { seq: 3, at: 3, v: 1, type: 'started', trialId: 0 },
      { seq: 4, at: 4, v: 1, type: 'told', trialId: 0, result: { status: 'ok', fitness: 0.25 } },
    ].map((l) => JSON.stringify(l));
    await writeFile(path, lines.join('\n') + '\n{"seq":5,"at":5,"v":1,"type":"to');
    const s = summarizeJournal(path, 'fitness', 20);
    assert.deepEqual([s.total, s.pending, s.counts.ok, s.incumbent?.fitness, s.rows[0]?.config.x], [1, 0, 1, 0.25, 0.5]);
    await writeFile(path, [lines[0], lines[1], '{"seq":3,"at":3,"type":"told","trialId":"zero"}', lines[3]].join('\n') + '\n');
    assert.throws(() => summarizeJournal(path, 'fitness', 20), (e: { code?: string; message: string }) =>
      e.code === 'E_JOURNAL' && e.message.includes(`${path}:3`));
  });
});

test('dehb show\'s reader ranks told lines read from their head exactly as parsed ones, whatever their shape', async () => {
  const { summarizeJournal } = await import('../../src/study/journal-summary.js');
  await withDir(async (dir) => {
    const path = join(dir, 'journal.jsonl');
    const created = { seq: 1, at: 1, v: 1, type: 'created', options: { space: { x: { type: 'float', low: 0, high: 1 } }, minFidelity: 1, maxFidelity: 9, eta: 3, seed: 1 }, meta: { runId: 'r' } };
    const results: Array<Record<string, unknown>> = [
      { status: 'ok', fitness: 0.5 },
      { status: 'failed', error: { message: 'boom' } },
      { fitness: -2.5e-7, status: 'ok' }, // another key order: parsed in full
      { status: 'ok', fitness: -1e-9, info: { status: 'failed', fitness: -100 } },
      { status: 'timed-out', timeoutMs: 5 },
      { status: 'cancelled', reason: 'stop' },
      { status: 'ok', fitness: 3 },
    ];
    const lines: unknown[] = [created];
    let seq = 2;
    results.forEach((result, i) => {
      const job = { trialId: i, configId: i, bracketId: 0, rung: 0, fidelity: 1, parentId: 0, vector: [i / 10], config: { x: i / 10 }, source: 'de' };
      lines.push({ seq: seq++, at: 100 + i, v: 1, type: 'asked', trialId: i, job });
    });
    results.forEach((result, i) => lines.push({ seq: seq++, at: 200 + (7 - i), v: 1, type: 'told', trialId: i, result }));
    lines.push({ seq: seq++, at: 300, v: 1, type: 'told', trialId: 6, result: { status: 'ok', fitness: -50 } }); // a second result: the first counts
    await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const s = summarizeJournal(path, 'fitness', 20);
    assert.deepEqual(s.counts, { ok: 4, failed: 1, 'timed-out': 1, cancelled: 1 });
    assert.deepEqual([s.incumbent?.trialId, s.incumbent?.fitness], [2, -2.5e-7]);
    assert.deepEqual(s.rows.map((r) => r.trialId), [2, 3, 0, 6, 1, 4, 5]);
    assert.deepEqual(s.rows.map((r) => r.status), ['ok', 'ok', 'ok', 'ok', 'failed', 'timed-out', 'cancelled']);
    assert.equal(s.rows[2]?.fitness, 0.5);
    const byTime = summarizeJournal(path, 'time', 3);
    assert.deepEqual(byTime.rows.map((r) => r.trialId), [0, 1, 2]);
  });
});
