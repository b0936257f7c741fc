/**
 * FileJournal: round trips, seq by position, torn tails, corruption in the middle, lock handling,
 * and two child processes appending to one file at once. When FJ_CHILD is set this file acts as
 * the child appender instead of defining tests.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileJournal } from '../../src/study/file-journal.js';
import type { JournalEntry } from '../../src/study/journal-types.js';
import { isDehbError } from '../../src/errors.js';

const report = (trialId: number, step: number, value: number): JournalEntry => ({
  type: 'report',
  trialId,
  step,
  value,
});

async function childMain(): Promise<void> {
  const path = process.env.FJ_PATH as string;
  const writer = Number(process.env.FJ_WRITER);
  const batches = Number(process.env.FJ_BATCHES);
  const j = await FileJournal.open(path);
  // start together: announce readiness, then wait for the parent's go file
  process.stdout.write('ready\n');
  const go = process.env.FJ_GO as string;
  for (;;) {
    try {
      await fsp.access(go);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  for (let b = 0; b < batches; b++) {
    // a batch of 1..3 entries; trialId = writer, step = running index
    const n = 1 + (b % 3);
    const es: JournalEntry[] = [];
    for (let k = 0; k < n; k++) es.push(report(writer, b * 3 + k, b));
    await j.append(es);
  }
  await j.close();
}

async function tmp(): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), 'dehb-fj-'));
}

interface Child {
  ready: Promise<void>;
  exit: Promise<number>;
}

function runChild(path: string, writer: number, batches: number, go: string): Child {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self], {
    env: {
      ...process.env,
      FJ_CHILD: '1',
      FJ_PATH: path,
      FJ_GO: go,
      FJ_WRITER: String(writer),
      FJ_BATCHES: String(batches),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const exit = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
  return { ready, exit };
}

if (process.env.FJ_CHILD) {
  await childMain();
} else {
  test('append then read: seqs 1..n, fromSeq, at, reopen', async () => {
    const dir = await tmp();
    const path = join(dir, 'sub', 'journal.jsonl');
    const j = await FileJournal.open(path);
    assert.deepEqual(await j.read(), []);
    assert.equal(await j.append([report(0, 1, 0.5), report(0, 2, 0.25)]), 2);
    assert.equal(await j.append([{ type: 'finished', reason: 'done' }]), 3);
    const all = await j.read();
    assert.deepEqual(
      all.map((e) => [e.seq, e.type]),
      [
        [1, 'report'],
        [2, 'report'],
        [3, 'finished'],
      ],
    );
    assert.ok(all.every((e) => typeof e.at === 'number' && e.at > 0));
    assert.deepEqual((await j.read(3)).map((e) => e.seq), [3]);
    assert.deepEqual(await j.read(4), []);
    await j.close();
    const j2 = await FileJournal.open(path, { create: false });
    assert.deepEqual((await j2.read(2)).map((e) => e.seq), [2, 3]);
    assert.equal(await j2.append([report(1, 0, 1)]), 4);
    assert.equal(await j2.lastSeq(), 4);
    const raw = (await fsp.readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(raw.map((r) => r.seq), [1, 2, 3, 4]);
    assert.deepEqual(Object.keys(raw[0]).slice(0, 4), ['seq', 'at', 'v', 'type']);
    assert.ok(raw.every((r) => r.v === 1), 'every entry carries its format version');
    await j2.close();
  });

  test('a second instance sees appends of the first (incremental reads)', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const a = await FileJournal.open(path);
    const b = await FileJournal.open(path);
    await a.append([report(0, 0, 1)]);
    assert.equal((await b.read()).length, 1);
    await a.append([report(0, 1, 1), report(0, 2, 1)]);
    assert.deepEqual((await b.read(2)).map((e) => e.seq), [2, 3]);
    assert.deepEqual((await b.read(1)).map((e) => e.seq), [1, 2, 3]);
    await Promise.all([a.append([report(1, 0, 0)]), b.append([report(2, 0, 0)]), a.append([report(3, 0, 0)])]);
    const all = await b.read();
    assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(new Set(all.slice(3).map((e) => (e as { trialId: number }).trialId)), new Set([1, 2, 3]));
  });

  test('missing journal with create:false is E_JOURNAL', async () => {
    const path = join(await tmp(), 'nope.jsonl');
    await assert.rejects(FileJournal.open(path, { create: false }), (err: unknown) => {
      assert.ok(isDehbError(err, 'E_JOURNAL'));
      assert.match(err.message, /does not exist/);
      return true;
    });
  });

  test('torn last line (no newline) is ignored on read and repaired by the next append', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const j = await FileJournal.open(path);
    await j.append([report(0, 0, 1), report(0, 1, 2)]);
    await fsp.appendFile(path, '{"seq":3,"at":1,"type":"rep');
    const reader = await FileJournal.open(path);
    assert.deepEqual((await reader.read()).map((e) => e.seq), [1, 2]);
    assert.equal(await j.append([report(0, 2, 3)]), 3);
    const text = await fsp.readFile(path, 'utf8');
    assert.ok(text.endsWith('\n'));
    assert.equal(text.trim().split('\n').length, 3);
    assert.deepEqual((await reader.read()).map((e) => [e.seq, (e as { step: number }).step]), [
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
  });

  test('an invalid terminated last line is a torn tail too', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const j = await FileJournal.open(path);
    await j.append([report(0, 0, 1)]);
    await fsp.appendFile(path, '\0\0\0{"seq":2,\n');
    assert.equal((await (await FileJournal.open(path)).read()).length, 1);
    assert.equal(await j.append([report(0, 1, 1)]), 2);
    assert.equal((await (await FileJournal.open(path)).read()).length, 2);
  });

  test('corruption in the middle names file and line', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const j = await FileJournal.open(path);
    await j.append([report(0, 0, 1), report(0, 1, 1), report(0, 2, 1)]);
    const lines = (await fsp.readFile(path, 'utf8')).split('\n');
    lines[1] = lines[1]!.slice(0, 20);
    await fsp.writeFile(path, lines.join('\n'));
    const check = (err: unknown): boolean => {
      assert.ok(isDehbError(err, 'E_JOURNAL'));
      assert.ok(err.message.startsWith(`${path}:2: corrupted journal entry (invalid JSON`), err.message);
      return true;
    };
    await assert.rejects((await FileJournal.open(path)).read(), check);
    await assert.rejects(j.append([report(9, 9, 9)]), check);
  });

  test('a schema violation in the middle names the field', async () => {
    const path = join(await tmp(), 'j.jsonl');
    await fsp.writeFile(
      path,
      [
        '{"seq":1,"at":1,"type":"finished","reason":"x"}',
        '{"seq":2,"at":1,"type":"told","trialId":3}',
        '{"seq":3,"at":1,"type":"finished","reason":"y"}',
        '',
      ].join('\n'),
    );
    await assert.rejects((await FileJournal.open(path)).read(), (err: unknown) => {
      assert.ok(isDehbError(err, 'E_JOURNAL'));
      assert.match(err.message, new RegExp(`^${path.replace(/[.]/g, '\\.')}:2: corrupted journal entry \\(result: `));
      return true;
    });
    await fsp.writeFile(path, '{"seq":1,"at":1,"type":"bogus"}\n{"seq":2,"at":1,"type":"finished","reason":"y"}\n');
    await assert.rejects((await FileJournal.open(path)).read(), /j\.jsonl:1: corrupted journal entry \(type: /);
  });

  test('blank lines are skipped and do not count as seqs', async () => {
    const path = join(await tmp(), 'j.jsonl');
    await fsp.writeFile(path, '{"seq":1,"at":1,"type":"finished","reason":"x"}\n\n{"seq":7,"at":1,"type":"finished","reason":"y"}\n');
    const j = await FileJournal.open(path);
    assert.deepEqual((await j.read()).map((e) => e.seq), [1, 2]);
    assert.equal(await j.append([report(0, 0, 0)]), 3);
  });

  test('a stale lock of a dead process is broken', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = dead.pid as number;
    await new Promise((r) => dead.on('exit', r));
    await fsp.writeFile(`${path}.lock`, JSON.stringify({ pid, host: (await import('node:os')).hostname(), token: 'x', at: 0 }));
    const j = await FileJournal.open(path);
    assert.equal(await j.append([report(0, 0, 0)]), 1);
    await assert.rejects(fsp.access(`${path}.lock`));
  });

  test('a live lock is waited for and reported after the timeout', async () => {
    const path = join(await tmp(), 'j.jsonl');
    await fsp.writeFile(`${path}.lock`, JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), token: 'y', at: 0 }));
    const j = await FileJournal.open(path, { lock: { timeoutMs: 200 } });
    await assert.rejects(j.append([report(0, 0, 0)]), (err: unknown) => {
      assert.ok(isDehbError(err, 'E_JOURNAL'));
      assert.match(err.message, /could not lock .*j\.jsonl\.lock within 200 ms \(held by pid \d+/);
      return true;
    });
    // reads do not need the lock
    assert.deepEqual(await j.read(), []);
  });

  test('two child processes appending concurrently: every entry once, seqs 1..n', async () => {
    const path = join(await tmp(), 'j.jsonl');
    await (await FileJournal.open(path)).close();
    const batches = 150;
    const go = join(dirname(path), 'go');
    const children = [runChild(path, 1, batches, go), runChild(path, 2, batches, go)];
    await Promise.all(children.map((c) => c.ready));
    await fsp.writeFile(go, '');
    assert.deepEqual(await Promise.all(children.map((c) => c.exit)), [0, 0]);
    const all = await (await FileJournal.open(path)).read();
    const perWriter = batches / 3 * (1 + 2 + 3);
    assert.equal(all.length, 2 * perWriter);
    assert.deepEqual(all.map((e) => e.seq), all.map((_, i) => i + 1));
    // stored seqs equal positions too (the lock worked)
    const raw = (await fsp.readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).seq as number);
    assert.deepEqual(raw, all.map((e) => e.seq));
    for (const w of [1, 2]) {
      const steps = all.filter((e) => e.type === 'report' && e.trialId === w).map((e) => (e as { step: number }).step);
      assert.equal(steps.length, perWriter);
      assert.equal(new Set(steps).size, perWriter);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
    }
    // the two writers really did run at the same time
    let switches = 0;
    for (let i = 1; i < all.length; i++) {
      if ((all[i] as { trialId: number }).trialId !== (all[i - 1] as { trialId: number }).trialId) switches++;
    }
    assert.ok(switches > 1, `writers did not interleave (${switches} switches)`);
  });

  test('a concurrent reader only ever sees growing prefixes', async () => {
    const path = join(await tmp(), 'j.jsonl');
    const w = await FileJournal.open(path);
    const r = await FileJournal.open(path);
    let stop = false;
    const seen: number[] = [];
    const reading = (async () => {
      while (!stop) {
        const es = await r.read();
        assert.deepEqual(es.map((e) => e.seq), es.map((_, i) => i + 1));
        seen.push(es.length);
      }
    })();
    for (let i = 0; i < 100; i++) await w.append([report(0, i, i), report(1, i, i)]);
    stop = true;
    await reading;
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
    assert.equal((await r.read()).length, 200);
  });
}
