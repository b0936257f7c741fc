import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  discoverGpuPool,
  discoverGpus,
  parseCudaVisibleDevices,
  parseGpuList,
  parseNvidiaSmiCsv,
  resolveGpuPool,
} from '../../src/gpu/index.js';
import { isDehbError } from '../../src/errors.js';
import { ensureExecutable, envWithFakeSmi, envWithoutSmi, fakeSmiPath } from '../fixtures/fake-nvidia-smi/helpers.js';

const UUID0 = 'GPU-1b2c3d4e-0000-1111-2222-333344445555';
const UUID1 = 'GPU-9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff';
const H100 = 'NVIDIA H100 80GB HBM3';

let tmp = '';
before(() => {
  ensureExecutable();
  tmp = mkdtempSync(join(tmpdir(), 'dehb-gpu-discover-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

let logCounter = 0;
function logFile(): string {
  logCounter += 1;
  return join(tmp, `smi-${logCounter}.log`);
}

describe('parseNvidiaSmiCsv', () => {
  it('parses rows, tolerates CRLF, units, commas in names, headers and blank lines', () => {
    const text = [
      'index, uuid, name, memory.used [MiB], memory.total [MiB], utilization.gpu [%]',
      '',
      `1, ${UUID1}, Weird, Name, 10 MiB, 20 MiB, 30 %\r`,
      `0,${UUID0},${H100},1,2,3`,
      '   ',
    ].join('\n');
    assert.deepEqual(parseNvidiaSmiCsv(text), [
      { index: 0, uuid: UUID0, name: H100, memoryUsedMiB: 1, memoryTotalMiB: 2, utilizationPct: 3 },
      { index: 1, uuid: UUID1, name: 'Weird, Name', memoryUsedMiB: 10, memoryTotalMiB: 20, utilizationPct: 30 },
    ]);
  });

  it('returns nothing for empty or error text', () => {
    assert.deepEqual(parseNvidiaSmiCsv(''), []);
    assert.deepEqual(parseNvidiaSmiCsv('No devices were found\n'), []);
  });
});

describe('discoverGpus with nvidia-smi', () => {
  it('lists two GPUs from a normal output, with the exact query', async () => {
    const log = logFile();
    const devices = await discoverGpus({ env: envWithFakeSmi('two-gpus', { FAKE_NVIDIA_SMI_LOG: log }) });
    assert.deepEqual(devices, [
      { token: '0', index: 0, uuid: UUID0, name: H100, memoryUsedMiB: 1024, memoryTotalMiB: 81559, utilizationPct: 35 },
      { token: '1', index: 1, uuid: UUID1, name: H100, memoryUsedMiB: 80, memoryTotalMiB: 81559, utilizationPct: 0 },
    ]);
    assert.equal(
      readFileSync(log, 'utf8'),
      '--query-gpu=index,uuid,name,memory.used,memory.total,utilization.gpu --format=csv,noheader,nounits\n',
    );
  });

  it('uses UUID tokens when asked, and an explicit binary path', async () => {
    const env = { PATH: '/usr/bin:/bin' }; // the fake is a sh script; the binary comes from the option
    const pool = await discoverGpuPool({ env, nvidiaSmi: fakeSmiPath('two-gpus'), tokenKind: 'uuid' });
    assert.equal(pool.source, 'nvidia-smi', pool.notes.join('; '));
    assert.deepEqual(pool.devices.map((d) => d.token), [UUID0, UUID1]);
    assert.deepEqual(pool.devices.map((d) => d.index), [0, 1]);
  });

  it('turns N/A fields into undefined and skips blank lines', async () => {
    const devices = await discoverGpus({ env: envWithFakeSmi('na-fields') });
    assert.deepEqual(devices, [
      { token: '0', index: 0, uuid: 'GPU-aaaaaaaa-1111-2222-3333-444444444444', name: 'NVIDIA A100-SXM4-40GB', memoryTotalMiB: 40960 },
      { token: '1', index: 1, uuid: 'GPU-bbbbbbbb-1111-2222-3333-444444444444', name: 'Tesla T4', memoryTotalMiB: 15360 },
      { token: '2', index: 2, uuid: 'GPU-cccccccc-1111-2222-3333-444444444444', memoryUsedMiB: 512, utilizationPct: 7 },
    ]);
  });

  it('gives no GPUs for garbage output', async () => {
    const pool = await discoverGpuPool({ env: envWithFakeSmi('garbage') });
    assert.deepEqual(pool, { source: 'none', devices: [], notes: ['nvidia-smi listed no GPUs'] });
  });

  it('gives no GPUs when nvidia-smi exits non-zero, and says why', async () => {
    const pool = await discoverGpuPool({ env: envWithFakeSmi('fails') });
    assert.equal(pool.source, 'none');
    assert.deepEqual(pool.devices, []);
    assert.match(pool.notes[0] ?? '', /exited with code 9: NVIDIA-SMI has failed/);
  });

  it('gives no GPUs when nvidia-smi is missing (PATH or explicit path)', async () => {
    const pool = await discoverGpuPool({ env: envWithoutSmi() });
    assert.deepEqual(pool.devices, []);
    assert.match(pool.notes[0] ?? '', /nvidia-smi not found/);
    const explicit = await discoverGpus({ env: envWithoutSmi(), nvidiaSmi: join(tmp, 'no-such-nvidia-smi') });
    assert.deepEqual(explicit, []);
  });

  it('gives no GPUs when nvidia-smi hangs past the timeout', async () => {
    const pool = await discoverGpuPool({ env: envWithFakeSmi('hangs'), timeoutMs: 200 });
    assert.deepEqual(pool.devices, []);
    assert.match(pool.notes[0] ?? '', /timed out after 200 ms/);
  });
});

describe('discoverGpus with an inherited CUDA_VISIBLE_DEVICES', () => {
  it('keeps index tokens in the given order and enriches them', async () => {
    const devices = await discoverGpus({ env: envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: '1,0' }) });
    assert.deepEqual(devices.map((d) => [d.token, d.index, d.uuid, d.utilizationPct]), [
      ['1', 1, UUID1, 0],
      ['0', 0, UUID0, 35],
    ]);
  });

  it('keeps UUID tokens exactly as given (prefixes too) and enriches by UUID prefix', async () => {
    const env = envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: `GPU-9f8e7d6c, ${UUID0}` });
    const pool = await discoverGpuPool({ env });
    assert.equal(pool.source, 'CUDA_VISIBLE_DEVICES');
    assert.deepEqual(pool.devices, [
      { token: 'GPU-9f8e7d6c', index: 1, uuid: UUID1, name: H100, memoryUsedMiB: 80, memoryTotalMiB: 81559, utilizationPct: 0 },
      { token: UUID0, index: 0, uuid: UUID0, name: H100, memoryUsedMiB: 1024, memoryTotalMiB: 81559, utilizationPct: 35 },
    ]);
  });

  it('uses the tokens without stats when nvidia-smi is missing; MIG tokens stay as given', async () => {
    const mig = 'MIG-GPU-1b2c3d4e-0000-1111-2222-333344445555/1/0';
    const pool = await discoverGpuPool({ env: envWithoutSmi({ CUDA_VISIBLE_DEVICES: `3,${UUID1},${mig}` }) });
    assert.deepEqual(pool.devices, [
      { token: '3', index: 3, uuid: null },
      { token: UUID1, index: null, uuid: UUID1 },
      { token: mig, index: null, uuid: mig },
    ]);
    assert.match(pool.notes.join('\n'), /no device stats: nvidia-smi not found/);
  });

  it('means no devices when empty, -1 or NoDevFiles, without running nvidia-smi', async () => {
    for (const value of ['', ' ', '-1', 'NoDevFiles']) {
      const log = logFile();
      const pool = await discoverGpuPool({ env: envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: value, FAKE_NVIDIA_SMI_LOG: log }) });
      assert.equal(pool.source, 'CUDA_VISIBLE_DEVICES', value);
      assert.deepEqual(pool.devices, [], value);
      assert.equal(existsSync(log), false, `nvidia-smi must not run for CUDA_VISIBLE_DEVICES=${JSON.stringify(value)}`);
    }
  });

  it('stops at the first entry that is not a device, like CUDA, and drops duplicates', () => {
    assert.deepEqual(parseCudaVisibleDevices('0,-1,1')?.tokens, ['0']);
    assert.deepEqual(parseCudaVisibleDevices('0,0,2')?.tokens, ['0', '2']);
    assert.equal(parseCudaVisibleDevices(undefined), null);
  });

  it('reads the env it is given and never writes process.env', async () => {
    const before = process.env.CUDA_VISIBLE_DEVICES;
    await discoverGpus({ env: envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: '1' }) });
    assert.equal(process.env.CUDA_VISIBLE_DEVICES, before);
  });
});

describe('parseGpuList and resolveGpuPool', () => {
  it('parses auto, none and device lists', () => {
    assert.deepEqual(parseGpuList('auto'), { kind: 'auto' });
    assert.deepEqual(parseGpuList(' NONE '), { kind: 'none' });
    assert.deepEqual(parseGpuList('0, 1'), { kind: 'list', tokens: ['0', '1'] });
    assert.deepEqual(parseGpuList(`2,${UUID0}`), { kind: 'list', tokens: ['2', UUID0] });
  });

  it('rejects bad lists with E_CONFIG naming the entry', () => {
    for (const [spec, re] of [
      ['', /empty entry/],
      ['0,,1', /empty entry/],
      ['all', /"all" is not a device/],
      ['-1', /"-1" is not a device/],
      ['0,1,0', /"0" twice/],
    ] as const) {
      assert.throws(() => parseGpuList(spec), (err: unknown) => isDehbError(err, 'E_CONFIG') && re.test(err.message), spec);
    }
  });

  it('resolves a list with stats, none to nothing, auto by discovery', async () => {
    const env = envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: '0' });
    const list = await resolveGpuPool('1', { env });
    assert.equal(list.source, '--gpus');
    assert.deepEqual(list.devices.map((d) => [d.token, d.uuid]), [['1', UUID1]]);
    assert.match(list.notes.join('\n'), /overrides the inherited CUDA_VISIBLE_DEVICES=0/);
    assert.deepEqual((await resolveGpuPool('none', { env })).devices, []);
    assert.deepEqual((await resolveGpuPool('auto', { env })).devices.map((d) => d.token), ['0']);
  });
});
