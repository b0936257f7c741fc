import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerGpusCommand } from '../../src/cli/commands/gpus.js';
import { isDehbError } from '../../src/errors.js';
import { ensureExecutable, envWithFakeSmi, envWithoutSmi } from '../fixtures/fake-nvidia-smi/helpers.js';

before(() => ensureExecutable());

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = new Command('dehb').exitOverride();
  registerGpusCommand(program, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  await program.parseAsync(['gpus', ...args], { from: 'user' });
  return { stdout, stderr };
}

describe('dehb gpus', () => {
  it('prints JSON on stdout with --json', async () => {
    const { stdout, stderr } = await run(['--json'], envWithFakeSmi('two-gpus'));
    assert.equal(stderr, '');
    const pool = JSON.parse(stdout) as { source: string; devices: Array<{ token: string; utilizationPct: number }> };
    assert.equal(pool.source, 'nvidia-smi');
    assert.deepEqual(pool.devices.map((d) => [d.token, d.utilizationPct]), [
      ['0', 35],
      ['1', 0],
    ]);
  });

  it('prints a human listing on stderr only', async () => {
    const { stdout, stderr } = await run(['--tokens', 'uuid'], envWithFakeSmi('two-gpus'));
    assert.equal(stdout, '');
    assert.match(stderr, /^2 GPUs \(source: nvidia-smi\)/);
    assert.match(stderr, /GPU-1b2c3d4e-0000-1111-2222-333344445555 {2}index 0 {2}NVIDIA H100 80GB HBM3 {2}util 35% {2}mem 1024\/81559 MiB/);
  });

  it('says why there are none, and honours --gpus', async () => {
    const none = await run([], envWithoutSmi());
    assert.match(none.stderr, /no GPUs found \(source: none\)\nnote: nvidia-smi not found/);
    const listed = await run(['--gpus', '1', '--json'], envWithFakeSmi('two-gpus', { CUDA_VISIBLE_DEVICES: '0,1' }));
    const pool = JSON.parse(listed.stdout) as { source: string; devices: Array<{ token: string }> };
    assert.equal(pool.source, '--gpus');
    assert.deepEqual(pool.devices.map((d) => d.token), ['1']);
  });

  it('rejects bad flags with a DehbError', async () => {
    await assert.rejects(run(['--gpus', 'all'], envWithoutSmi()), (err: unknown) => isDehbError(err, 'E_CONFIG'));
    await assert.rejects(run(['--timeout', '0'], envWithoutSmi()), (err: unknown) => isDehbError(err, 'E_USAGE'));
  });
});
