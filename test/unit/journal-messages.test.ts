/**
 * The message for a duplicated journal line says what happened (issue 8 §5): it used to read
 * backwards ("trial 0 was asked after 0 results, but only 4 precede it") or blame other options
 * or versions. Also: a write error that names no file (ENOSPC & co.) is reworded to name it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEHB } from '../../src/api/dehb.js';
import { FileJournal } from '../../src/study/file-journal.js';
import { replay } from '../../src/study/replay.js';
import { isDehbError } from '../../src/errors.js';
import { writeError } from '../../src/io-errors.js';

let dir = '';
let lines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-dup-'));
  const dehb = new DEHB({
    space: { x: { type: 'float', low: -5, high: 5 } },
    minFidelity: 1,
    maxFidelity: 9,
    seed: 2,
    objective: (c) => Number(c.x) ** 2,
    outputDir: join(dir, 'run'),
  });
  await dehb.run({ fevals: 6 });
  lines = (await readFile(join(dir, 'run', 'journal.jsonl'), 'utf8')).trim().split('\n');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function replayLines(name: string, text: string[]): Promise<unknown> {
  const path = join(dir, `${name}.jsonl`);
  await writeFile(path, text.join('\n') + '\n');
  const journal = await FileJournal.open(path, { create: false });
  try {
    replay(await journal.read(1), path);
    return null;
  } catch (err) {
    return err;
  } finally {
    await journal.close();
  }
}

test('a duplicated "asked" line is named as such, next to the original or far from it', async () => {
  const first = lines.findIndex((l) => (JSON.parse(l) as { type: string }).type === 'asked');
  const asked = lines[first] as string;
  const adjacent = [...lines.slice(0, first + 1), asked, ...lines.slice(first + 1)];
  const atEnd = [...lines, asked];
  for (const [name, text, seq] of [['adjacent', adjacent, first + 2], ['at-end', atEnd, lines.length + 1]] as const) {
    const err = await replayLines(name, [...text]);
    assert.ok(isDehbError(err, 'E_JOURNAL'), `${name}: ${String(err)}`);
    assert.match(err.message, new RegExp(`${name}\\.jsonl: entry ${seq}: trial 0 is asked a second time \\(a duplicated journal line\\?\\); delete this entry`));
  }
});

test('the intact journal replays', async () => {
  assert.equal(await replayLines('intact', lines), null);
});

test('writeError names the file and the fix for errno errors, and leaves others alone', () => {
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const e = writeError(enospc, '/data/run/journal.jsonl');
  assert.ok(isDehbError(e, 'E_JOURNAL'));
  assert.equal(e.message, 'cannot write /data/run/journal.jsonl: no space left on the device; free space (or choose another directory) and resume (ENOSPC)');
  const plain = new Error('boom');
  assert.equal(writeError(plain, '/x'), plain);
});
