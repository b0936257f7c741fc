/**
 * LineChunks: the bytes handed out by take() are exactly the lines pushed since the last take,
 * later pushes never change bytes already handed out, and takes share chunks instead of allocating
 * one per take (the allocation churn that made a journaled run's memory grow with its length).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineChunks } from '../../src/study/line-chunks.js';

const text = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('utf8');

test('take() returns the lines since the last take, in order, and nothing twice', () => {
  const c = new LineChunks();
  assert.deepEqual(c.take(), []);
  c.push('a\n');
  c.push('bé\n');
  assert.equal(c.lines, 2);
  assert.equal(text(c.take()), 'a\nbé\n');
  assert.equal(c.lines, 0);
  assert.deepEqual(c.take(), []);
  c.push('c\n');
  assert.equal(text(c.take()), 'c\n');
});

test('bytes already taken stay as they were while more lines are pushed', () => {
  const c = new LineChunks();
  c.push('first\n');
  const first = c.take();
  for (let i = 0; i < 20_000; i++) c.push(`line ${i} ${'x'.repeat(i % 50)}\n`);
  assert.equal(text(first), 'first\n');
  const rest = text(c.take());
  assert.ok(rest.startsWith('line 0 \nline 1 x\n'));
  assert.equal(rest.split('\n').length - 1, 20_000);
});

test('many small takes share one chunk (no allocation per take)', () => {
  const c = new LineChunks();
  const backing = new Set<ArrayBufferLike>();
  for (let i = 0; i < 1000; i++) {
    c.push(`{"seq":${i}}\n`);
    for (const b of c.take()) backing.add(b.buffer);
  }
  assert.equal(backing.size, 1);
});

test('a line longer than a chunk is kept whole', () => {
  const c = new LineChunks();
  const big = 'y'.repeat(600 * 1024) + '\n';
  c.push('small\n');
  c.push(big);
  c.push('after\n');
  assert.equal(text(c.take()), 'small\n' + big + 'after\n');
});

test('a full chunk is reused once the take holding its last bytes is written, never before', () => {
  const c = new LineChunks();
  const line = 'z'.repeat(1000) + '\n';
  const backing = new Set<ArrayBufferLike>();
  const pending: Array<{ bufs: Buffer[]; text: string }> = [];
  for (let round = 0; round < 200; round++) {
    let text = '';
    for (let i = 0; i < 100; i++) {
      const l = `${round}:${i}:${line}`;
      c.push(l);
      text += l;
    }
    const bufs = c.take();
    for (const b of bufs) backing.add(b.buffer);
    pending.push({ bufs, text });
    // two takes in flight at a time: the older one is "written" (checked) before it is acknowledged
    if (pending.length === 2) {
      const w = pending.shift() as { bufs: Buffer[]; text: string };
      assert.equal(Buffer.concat(w.bufs).toString('utf8'), w.text, `take of round ${round - 1} unchanged until written`);
      c.written();
    }
  }
  // 200 rounds of ~100 KB would need ~80 chunks of 256 KiB without reuse
  assert.ok(backing.size <= 6, `${backing.size} chunks for 20 MB of lines`);
});

test('pushEntry writes the same line as a template of the numbers and the JSON members', () => {
  const c = new LineChunks();
  const cases: Array<[number, number, number, unknown]> = [
    [1, 1796195098321, 1, { type: 'asked', x: 0.1 }],
    [0, 0, 0, { type: 'told', s: 'é ✓ 😀', n: -1.5e-7 }],
    [9, 10, 99, { type: 'started', trialId: 9 }],
    [123456789, 2 ** 53 - 1, 2, { type: 'x', a: [1, 2, { b: null }] }],
    [-3, 1.5, 1, { type: 'odd numbers are written as JSON' }],
  ];
  let expected = '';
  for (const [seq, at, v, e] of cases) {
    const json = JSON.stringify(e);
    c.pushEntry(seq, at, v, json);
    expected += `{"seq":${seq},"at":${at},"v":${v},${json.slice(1)}\n`;
  }
  assert.equal(c.lines, cases.length);
  assert.equal(text(c.take()), expected);
  for (const line of expected.trim().split('\n')) JSON.parse(line);
});
