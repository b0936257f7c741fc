import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseDevices, type GpuDeviceLoad } from '../../src/gpu/index.js';
import { isDehbError } from '../../src/errors.js';

function dev(token: string, active: number, util?: number, mem?: number): GpuDeviceLoad {
  const d: GpuDeviceLoad = { token, index: /^\d+$/.test(token) ? Number(token) : null, uuid: null, active };
  if (util !== undefined) d.utilizationPct = util;
  if (mem !== undefined) d.memoryUsedMiB = mem;
  return d;
}

describe('chooseDevices', () => {
  const table: Array<{ name: string; devices: GpuDeviceLoad[]; n: number; want: string[] }> = [
    { name: 'all equal: lowest position', devices: [dev('0', 0), dev('1', 0), dev('2', 0)], n: 1, want: ['0'] },
    { name: 'position, not index, breaks ties (pool order as given)', devices: [dev('3', 0), dev('1', 0)], n: 1, want: ['3'] },
    { name: 'fewest active first', devices: [dev('0', 2), dev('1', 1), dev('2', 3)], n: 1, want: ['1'] },
    { name: 'active beats utilisation', devices: [dev('0', 1, 0), dev('1', 0, 99)], n: 1, want: ['1'] },
    { name: 'tie on active: lower utilisation', devices: [dev('0', 1, 50), dev('1', 1, 10)], n: 1, want: ['1'] },
    { name: 'tie on utilisation: lower memory used', devices: [dev('0', 0, 10, 900), dev('1', 0, 10, 100)], n: 1, want: ['1'] },
    { name: 'utilisation beats memory', devices: [dev('0', 0, 5, 9000), dev('1', 0, 10, 100)], n: 1, want: ['0'] },
    { name: 'unknown stats rank after known', devices: [dev('0', 0), dev('1', 0, 80)], n: 1, want: ['1'] },
    { name: 'gpusPerTrial 2: two least loaded, least first', devices: [dev('0', 2), dev('1', 1), dev('2', 0)], n: 2, want: ['2', '1'] },
    { name: 'gpusPerTrial 2 with ties', devices: [dev('0', 0), dev('1', 0), dev('2', 0)], n: 2, want: ['0', '1'] },
    { name: 'all devices', devices: [dev('a', 1), dev('b', 0)].map((d) => ({ ...d, token: `GPU-${d.token}` })), n: 2, want: ['GPU-b', 'GPU-a'] },
    { name: 'zero requested', devices: [dev('0', 0)], n: 0, want: [] },
    { name: 'zero requested from an empty pool', devices: [], n: 0, want: [] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const input = structuredClone(row.devices);
      const got = chooseDevices(input, row.n);
      assert.deepEqual(got, row.want);
      assert.equal(new Set(got).size, got.length, 'tokens are distinct');
      assert.deepEqual(input, row.devices, 'input is not modified');
    });
  }

  it('throws E_NO_GPU with a clear message when more are requested than exist', () => {
    assert.throws(
      () => chooseDevices([dev('0', 0), dev('1', 0)], 3),
      (err: unknown) =>
        isDehbError(err, 'E_NO_GPU') && /needs 3 GPUs but the pool has only 2 \(0, 1\)/.test(err.message) && /gpusPerTrial/.test(err.message),
    );
    assert.throws(() => chooseDevices([], 1), (err: unknown) => isDehbError(err, 'E_NO_GPU') && /pool is empty/.test(err.message));
  });

  it('rejects a bad count with E_CONFIG', () => {
    for (const n of [-1, 1.5, Number.NaN]) {
      assert.throws(() => chooseDevices([dev('0', 0)], n), (err: unknown) => isDehbError(err, 'E_CONFIG'), String(n));
    }
  });
});
