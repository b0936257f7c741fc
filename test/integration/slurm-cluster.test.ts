/**
 * The one-node SLURM cluster itself (.ci/slurm-setup.sh): a job array asking for fake GRES GPUs
 * runs, and SLURM gives each element its own CUDA_VISIBLE_DEVICES in the batch step and in an
 * `srun` step. If this fails, the dehb end-to-end test (slurm.test.ts) cannot pass either.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelJobs, dumpOutputs, requireSlurm, sbatch, waitForJobs } from './slurm-helpers.js';

let dir = '';
const submitted: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-slurm-cluster-'));
});
after(async () => {
  await cancelJobs(submitted);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('one-node SLURM cluster with fake GRES GPUs', () => {
  it('gives each array element its own GPUs through CUDA_VISIBLE_DEVICES', { timeout: 60_000 }, async () => {
    await requireSlurm(); // fails (never skips) with the setup hint when SLURM is missing
    const script = join(dir, 'gres.sbatch');
    await writeFile(
      script,
      [
        '#!/bin/bash',
        `#SBATCH --output=${dir}/gres-%A_%a.out`,
        'echo "batch=$CUDA_VISIBLE_DEVICES"',
        'srun -n1 -c1 --overlap bash -c \'echo "step=$CUDA_VISIBLE_DEVICES"\'',
        '',
      ].join('\n'),
    );
    const id = await sbatch(['--array=0-1', '--gres=gpu:2', '-n1', '-c1', '-t', '2', '-J', 'dehb-test-gres', script]);
    submitted.push(id);
    const states = await waitForJobs([id], 45_000, () => dumpOutputs(dir));
    assert.deepEqual([...states.values()], ['COMPLETED', 'COMPLETED'], await dumpOutputs(dir));

    const seen: string[][] = [];
    for (const task of [0, 1]) {
      const text = await readFile(join(dir, `gres-${id}_${task}.out`), 'utf8');
      const batch = /^batch=(.*)$/m.exec(text)?.[1] ?? '';
      const step = /^step=(.*)$/m.exec(text)?.[1] ?? '';
      assert.match(batch, /^\d+,\d+$/, `array task ${task} batch step saw CUDA_VISIBLE_DEVICES='${batch}'`);
      assert.equal(step, batch, `array task ${task}: the srun step sees the job's GPUs`);
      seen.push(batch.split(','));
    }
    for (const gpus of seen) {
      for (const g of gpus) assert.ok(Number(g) >= 0 && Number(g) < 4, `GPU index ${g} is not one of the node's 4`);
      assert.notEqual(gpus[0], gpus[1], `one element got the same GPU twice: ${JSON.stringify(gpus)}`);
    }
  });
});
