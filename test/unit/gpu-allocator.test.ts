import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GpuAllocator, type DeviceAllocator, type GpuDevice } from '../../src/gpu/index.js';
import { isDehbError } from '../../src/errors.js';
import { ensureExecutable, envWithFakeSmi, envWithoutSmi } from '../fixtures/fake-nvidia-smi/helpers.js';

const TWO: GpuDevice[] = [
  { token: '0', index: 0, uuid: null },
  { token: '1', index: 1, uuid: null },
];

function counts(a: GpuAllocator): number[] {
  return a.snapshot().map((s) => s.active);
}

let tmp = '';
before(() => {
  ensureExecutable();
  tmp = mkdtempSync(join(tmpdir(), 'dehb-gpu-alloc-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('GpuAllocator', () => {
  it('satisfies the executor interface', async () => {
    const a: DeviceAllocator = await GpuAllocator.create({ devices: TWO });
    assert.deepEqual(await a.acquire(1), ['0']);
  });

  it('spreads 4 concurrent evaluations over 2 devices, 2 each, and returns to 0 on every outcome', async () => {
    const a = await GpuAllocator.create({ devices: TWO });
    const seen: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const outcomes = ['ok', 'failed', 'timed-out', 'cancelled'] as const;
    const runs = outcomes.map(async (outcome) => {
      const tokens = a.acquire();
      seen.push(tokens);
      try {
        await gate;
        if (outcome !== 'ok') throw new Error(outcome);
        return outcome;
      } finally {
        a.release(tokens);
      }
    });
    await Promise.resolve();
    assert.deepEqual(counts(a), [2, 2], 'while all four run');
    assert.deepEqual(seen.map((t) => t.join()).sort(), ['0', '0', '1', '1']);
    release();
    const settled = await Promise.allSettled(runs);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'rejected', 'rejected']);
    assert.deepEqual(counts(a), [0, 0]);
  });

  it('release twice never goes negative and never frees another evaluation’s hold', async () => {
    const a = await GpuAllocator.create({ devices: [TWO[0]] });
    const first = a.acquire();
    const second = a.acquire();
    assert.deepEqual([first, second], [['0'], ['0']]);
    assert.equal(a.activeOn('0'), 2);
    assert.equal(a.release(first), true);
    assert.equal(a.release(first), false);
    assert.equal(a.activeOn('0'), 1, 'second evaluation still holds the device');
    assert.equal(a.release([...second]), true, 'a copy of the tokens releases too');
    assert.equal(a.release(second), false);
    assert.equal(a.release(['0']), false);
    assert.equal(a.release(['nope']), false);
    assert.deepEqual(counts(a), [0]);
  });

  it('gives gpusPerTrial distinct devices, least loaded first', async () => {
    const a = await GpuAllocator.create({ devices: [...TWO, { token: '2', index: 2, uuid: null }], gpusPerTrial: 2 });
    assert.deepEqual(a.acquire(), ['0', '1']);
    assert.deepEqual(a.acquire(), ['2', '0']);
    assert.deepEqual(a.acquire(1), ['1']);
    assert.deepEqual(counts(a), [2, 2, 1]);
    assert.throws(() => a.acquire(4), (err: unknown) => isDehbError(err, 'E_NO_GPU'));
  });

  it('fails with E_NO_GPU on an empty pool only when GPUs are needed', async () => {
    const a = await GpuAllocator.create({ env: envWithoutSmi() });
    assert.equal(a.size, 0);
    assert.deepEqual(a.acquire(0), []);
    assert.throws(
      () => a.acquire(),
      (err: unknown) =>
        isDehbError(err, 'E_NO_GPU') &&
        err.message.startsWith('no GPUs found: set CUDA_VISIBLE_DEVICES or install nvidia-smi, or drop --single-node-with-gpus') &&
        /nvidia-smi not found/.test(err.message),
    );
    await assert.rejects(GpuAllocator.create({ env: envWithoutSmi(), requireGpus: true }), (err: unknown) => isDehbError(err, 'E_NO_GPU'));
    await assert.rejects(GpuAllocator.create({ devices: TWO, gpusPerTrial: 3, requireGpus: true }), (err: unknown) => isDehbError(err, 'E_NO_GPU'));
  });

  it('validates its options', async () => {
    await assert.rejects(GpuAllocator.create({ devices: TWO, gpusPerTrial: -1 }), /gpusPerTrial must be a non-negative integer \(got -1\)/);
    await assert.rejects(GpuAllocator.create({ devices: [TWO[0], TWO[0]] }), /listed twice/);
    await assert.rejects(GpuAllocator.create({ devices: [{ token: '0,1', index: null, uuid: null }] }), /without commas/);
    await assert.rejects(GpuAllocator.create({ devices: TWO, refreshStatsMs: -5 }), /refreshStatsMs/);
  });

  it('discovers through nvidia-smi and through CUDA_VISIBLE_DEVICES', async () => {
    const bySmi = await GpuAllocator.create({ env: envWithFakeSmi('two-gpus') });
    assert.deepEqual(bySmi.snapshot().map((s) => [s.device.token, s.device.utilizationPct, s.active]), [
      ['0', 35, 0],
      ['1', 0, 0],
    ]);
    assert.deepEqual(bySmi.acquire(), ['1'], 'idle GPU 1 first');
    const inherited = await GpuAllocator.create({ env: envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: '0' }) });
    assert.deepEqual(inherited.snapshot().map((s) => s.device.token), ['0']);
  });

  it('refreshes stats on demand and on an unref’d timer, and stop() ends the timer', async () => {
    const out = join(tmp, 'smi.csv');
    const write = (u0: number, u1: number): void =>
      writeFileSync(out, `0, GPU-a, Fake, 10, 100, ${u0}\n1, GPU-b, Fake, 10, 100, ${u1}\n`);
    write(0, 50);
    const env = envWithFakeSmi('from-file', { FAKE_NVIDIA_SMI_OUTPUT: out });
    const a = await GpuAllocator.create({ env });
    assert.deepEqual(a.acquire(), ['0']);
    a.release(['0']);
    write(90, 5);
    assert.equal(await a.refreshStats(), true);
    assert.deepEqual(a.acquire(), ['1'], 'choice follows the refreshed utilisation');
    writeFileSync(out, 'garbage\n');
    assert.equal(await a.refreshStats(), false);
    assert.equal(a.snapshot()[1]?.device.utilizationPct, 5, 'stats kept when nvidia-smi gives nothing');

    write(1, 2);
    const timed = await GpuAllocator.create({ env, refreshStatsMs: 20 });
    write(70, 30);
    for (let i = 0; i < 500 && timed.snapshot()[0]?.device.utilizationPct !== 70; i++) await sleep(10);
    timed.stop();
    assert.equal(timed.snapshot()[0]?.device.utilizationPct, 70, 'the timer refreshed the stats');
  });
});
