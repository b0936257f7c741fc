import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpuAllocator } from '../../src/gpu/index.js';

// A trial process: announce start, wait until all trials have started (proves they overlap),
// sleep ~300 ms, then write the device env it sees. Exits with T_EXIT (a failing trial too).
const CHILD = `
const fs = require('node:fs'), path = require('node:path');
const dir = process.env.T_DIR, id = process.env.T_ID, n = Number(process.env.T_N);
fs.writeFileSync(path.join(dir, 'started-' + id), '');
const deadline = Date.now() + 20000;
function tick() {
  const started = fs.readdirSync(dir).filter((f) => f.startsWith('started-')).length;
  if (started < n) {
    if (Date.now() > deadline) process.exit(3);
    setTimeout(tick, 10);
    return;
  }
  setTimeout(() => {
    fs.writeFileSync(path.join(dir, 'seen-' + id + '.json'), JSON.stringify({
      cvd: process.env.CUDA_VISIBLE_DEVICES ?? null,
      order: process.env.CUDA_DEVICE_ORDER ?? null,
      started,
    }));
    process.exit(Number(process.env.T_EXIT));
  }, 300);
}
tick();
`;

interface Seen {
  cvd: string | null;
  order: string | null;
  started: number;
}

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dehb-gpu-pin-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('GPU pinning of real child processes', () => {
  it('runs 4 concurrent trials on 2 devices, 2 per device, each child pinned by its env only', async () => {
    const parentCvd = process.env.CUDA_VISIBLE_DEVICES;
    const parentOrder = process.env.CUDA_DEVICE_ORDER;
    const parentHadCvd = Object.hasOwn(process.env, 'CUDA_VISIBLE_DEVICES');

    const allocator = await GpuAllocator.create({
      devices: [
        { token: '0', index: 0, uuid: null },
        { token: '1', index: 1, uuid: null },
      ],
    });
    const peak = new Map<string, number>();
    const N = 4;
    const trials = Array.from({ length: N }, (_, i) => {
      const tokens = allocator.acquire();
      for (const s of allocator.snapshot()) peak.set(s.device.token, Math.max(peak.get(s.device.token) ?? 0, s.active));
      const child = spawn(process.execPath, ['-e', CHILD], {
        env: { ...process.env, CUDA_VISIBLE_DEVICES: tokens.join(','), CUDA_DEVICE_ORDER: 'PCI_BUS_ID', T_DIR: dir, T_ID: String(i), T_N: String(N), T_EXIT: i === N - 1 ? '1' : '0' },
        stdio: 'ignore',
      });
      return new Promise<{ id: number; tokens: string[]; code: number | null }>((resolve, reject) => {
        child.once('error', (err) => {
          allocator.release(tokens);
          reject(err);
        });
        child.once('exit', (code) => {
          allocator.release(tokens);
          resolve({ id: i, tokens, code });
        });
      });
    });
    assert.deepEqual(allocator.snapshot().map((s) => s.active), [2, 2], 'both devices carry 2 trials while all run');

    const results = await Promise.all(trials);
    assert.deepEqual(results.map((r) => r.code), [0, 0, 0, 1], 'a failing trial releases too');
    assert.deepEqual(allocator.snapshot().map((s) => s.active), [0, 0], 'all released on exit');
    assert.deepEqual(Object.fromEntries(peak), { '0': 2, '1': 2 });

    const perDevice = new Map<string, number>();
    for (const r of results) {
      const seen = JSON.parse(readFileSync(join(dir, `seen-${r.id}.json`), 'utf8')) as Seen;
      assert.equal(seen.cvd, r.tokens.join(','), `trial ${r.id} sees its own device`);
      assert.equal(seen.order, 'PCI_BUS_ID');
      assert.equal(seen.started, N, `trial ${r.id} overlapped with all others`);
      perDevice.set(seen.cvd, (perDevice.get(seen.cvd) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(perDevice), { '0': 2, '1': 2 });

    assert.equal(process.env.CUDA_VISIBLE_DEVICES, parentCvd, 'parent CUDA_VISIBLE_DEVICES unchanged');
    assert.equal(process.env.CUDA_DEVICE_ORDER, parentOrder, 'parent CUDA_DEVICE_ORDER unchanged');
    assert.equal(Object.hasOwn(process.env, 'CUDA_VISIBLE_DEVICES'), parentHadCvd);
  });
});
