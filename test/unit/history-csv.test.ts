/** history.csv cells: numbers read exactly as String(n) gives them; text quoted per RFC 4180. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvRow } from '../../src/study/history-csv.js';
import type { TrialRecord } from '../../src/study/journal-types.js';

const record = (config: Record<string, unknown>, fitness: number | null): TrialRecord => ({
  trialId: 7,
  configId: 3,
  bracketId: 0,
  rung: 1,
  fidelity: 9,
  config: config as TrialRecord['config'],
  source: 'de',
  status: fitness === null ? 'failed' : 'ok',
  fitness,
  cost: null,
  info: {},
  error: fitness === null ? { name: 'Error', message: 'boom, "quoted"\nline' } : null,
  worker: { host: 'h,1', pid: 1 },
  askedAt: 1,
  startedAt: 2,
  finishedAt: 3,
  durationMs: 1,
  reports: [{ step: 1, value: -0 }],
});

test('numbers of every kind are written as String(n); text is quoted when it must be', () => {
  const nums = [0.1 + 0.2, 1e-7, 1e21, -123.456, -0, 2 ** 53, 5e-324, Infinity, -Infinity, NaN];
  const params = nums.map((_, i) => `p${i}`);
  const config = Object.fromEntries([...nums.map((n, i) => [`p${i}`, n]), ['c', 'a,b'], ['d', 'plain'], ['e', true]]);
  const row = csvRow(record(config, 0.5), [...params, 'c', 'd', 'e', 'missing']);
  assert.equal(row, ['7', 'ok', '0.5', '', '9', '0', '3', 'de', '1', '"h,1"', '0', '', ...nums.map(String), '"a,b"', 'plain', 'true', ''].join(','));
  const failed = csvRow(record({}, null), []);
  assert.equal(failed, ['7', 'failed', '', '', '9', '0', '3', 'de', '1', '"h,1"', '0', '"boom, ""quoted""\nline"'].join(','));
});
