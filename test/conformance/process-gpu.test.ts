// GPU pinning through the process backend: 2 fake devices, 4 concurrent command trials. Each
// child must see exactly its device in CUDA_VISIBLE_DEVICES (with CUDA_DEVICE_ORDER=PCI_BUS_ID),
// no device may be used by two trials at once (exclusive allocator), and every device is released
// on every outcome (ok, failed, timed-out, cancelled).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DeviceAllocatorLike } from '../../src/cluster/executor-core.js';
import type { EvalOutcome, EvalTask } from '../../src/protocol/executor.js';
import { ProcessExecutor } from '../../src/cluster/process/process-executor.js';
import { GpuAllocator } from '../../src/gpu/allocator.js';

const tmp = mkdtempSync(join(tmpdir(), 'dehb-gpu-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Exclusive allocator: one evaluation per device; acquire waits for a free device. */
class FakeAllocator implements DeviceAllocatorLike {
  readonly free: string[];
  private readonly waiters: Array<() => void> = [];
  acquired = 0;
  released = 0;
  constructor(devices: string[]) {
    this.free = [...devices];
  }
  async acquire(n: number): Promise<string[]> {
    while (this.free.length < n) await new Promise<void>((r) => this.waiters.push(r));
    this.acquired++;
    return this.free.splice(0, n);
  }
  release(devices: string[]): void {
    this.released++;
    this.free.push(...devices);
    this.waiters.shift()?.();
  }
}

const SCRIPT = `
const fs = require('fs');
const t = JSON.parse(process.env.DEHB_TRIAL);
const log = t.config.log;
const dev = process.env.CUDA_VISIBLE_DEVICES;
fs.appendFileSync(log, 'S ' + dev + ' ' + t.trialId + '\\n');
setTimeout(() => {
  fs.appendFileSync(log, 'E ' + dev + ' ' + t.trialId + '\\n');
  if (t.config.fail) process.exit(2);
  console.log('DEHB_RESULT ' + JSON.stringify({ fitness: t.trialId, info: { cuda: dev, order: process.env.CUDA_DEVICE_ORDER, devices: t.devices } }));
}, t.config.ms);`;

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let id = 1;
function gpuTask(config: EvalTask['config'], over: Partial<EvalTask> = {}): EvalTask {
  return {
    v: 1, runId: 'gpu', trialId: id++, config, fidelity: 1, gpus: 1, timeoutMs: null,
    objective: { kind: 'command', argv: [process.execPath, '-e', SCRIPT] },
    ...over,
  };
}

describe('process backend GPU pinning', { timeout: 60_000 }, () => {
  it('4 concurrent trials on 2 devices: each child sees only its device, never shared', async () => {
    const cudaBefore = process.env.CUDA_VISIBLE_DEVICES;
    const alloc = new FakeAllocator(['GPU-aaaa', 'GPU-bbbb']);
    const ex = new ProcessExecutor({ capacity: 4, gpuAllocator: alloc });
    const log = join(tmp, 'pin.log');
    try {
      const outs = await Promise.all([1, 2, 3, 4].map(() => ex.submit(gpuTask({ log, ms: 150 }))));
      for (const o of outs) {
        assert.equal(o.status, 'ok', JSON.stringify(o));
        if (o.status !== 'ok') continue;
        const info = o.info as { cuda: string; order: string; devices: string[] };
        assert.ok(['GPU-aaaa', 'GPU-bbbb'].includes(info.cuda));
        assert.deepEqual(o.worker?.devices, [info.cuda]);
        assert.deepEqual(info.devices, [info.cuda]);
        assert.equal(info.order, 'PCI_BUS_ID');
      }
      // Exclusive use: per device, starts and ends alternate.
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '));
      assert.equal(lines.length, 8);
      for (const dev of ['GPU-aaaa', 'GPU-bbbb']) {
        const seq = lines.filter((l) => l[1] === dev).map((l) => l[0]).join('');
        assert.match(seq, /^(SE)+$/, `device ${dev} was shared: ${seq}`);
      }
      assert.equal(process.env.CUDA_VISIBLE_DEVICES, cudaBefore, 'process.env must not change');
      assert.equal(alloc.acquired, 4);
      assert.equal(alloc.released, 4);
      assert.deepEqual([...alloc.free].sort(), ['GPU-aaaa', 'GPU-bbbb']);
    } finally {
      await ex.close({ force: true });
    }
  });

  it('releases devices on failed, timed-out and cancelled outcomes; trials without GPUs skip the allocator', async () => {
    const alloc = new FakeAllocator(['0', '1']);
    const ex = new ProcessExecutor({ capacity: 4, gpuAllocator: alloc, killGraceMs: 300 });
    const log = join(tmp, 'release.log');
    try {
      const ac = new AbortController();
      const cancelMe = gpuTask({ log, ms: 20_000 });
      const ps: Array<Promise<EvalOutcome>> = [
        ex.submit(gpuTask({ log, ms: 50, fail: true })),
        ex.submit(gpuTask({ log, ms: 20_000 }, { timeoutMs: 300 })),
        ex.submit(cancelMe, { signal: ac.signal }),
        ex.submit(gpuTask({ log, ms: 10 }, { gpus: 0 })),
      ];
      // Abort the third trial once it runs on a device (it waited for one to be released).
      const startedLine = new RegExp(`^S \\d+ ${cancelMe.trialId}$`, 'm');
      while (!startedLine.test(readLog(log))) await new Promise((r) => setTimeout(r, 20));
      ac.abort();
      const outs = await Promise.all(ps);
      assert.deepEqual(outs.map((o) => o.status), ['failed', 'timed-out', 'cancelled', 'ok']);
      const noGpu = outs[3];
      assert.equal(noGpu.status === 'ok' && (noGpu.info as { cuda?: string }).cuda, process.env.CUDA_VISIBLE_DEVICES);
      assert.equal(alloc.acquired, 3);
      assert.equal(alloc.released, 3);
      assert.deepEqual([...alloc.free].sort(), ['0', '1']);
    } finally {
      await ex.close({ force: true });
    }
  });

  it('works with the real GpuAllocator (least-loaded sharing)', async () => {
    const alloc = await GpuAllocator.create({ devices: [0, 1].map((i) => ({ token: String(i), index: i, uuid: null })) });
    const ex = new ProcessExecutor({ capacity: 4, gpuAllocator: alloc });
    const log = join(tmp, 'real.log');
    try {
      const outs = await Promise.all([1, 2, 3, 4].map(() => ex.submit(gpuTask({ log, ms: 200 }))));
      const seen = outs.map((o) => (o.status === 'ok' ? (o.info as { cuda: string }).cuda : o.status)).sort();
      assert.deepEqual(seen, ['0', '0', '1', '1']);
      assert.equal(alloc.activeOn('0') + alloc.activeOn('1'), 0);
    } finally {
      await ex.close({ force: true });
    }
  });
});
