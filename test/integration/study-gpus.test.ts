/**
 * `dehb optimize` takes the evaluation flags of `dehb run`, parsed by the same code: the help of
 * both lists them alike, and `-n 4 --single-node-with-gpus` pins a study's command trials to the
 * least-loaded GPU of the (fake, two-GPU) nvidia-smi exactly like `dehb run`: every real child
 * process sees one device in CUDA_VISIBLE_DEVICES, the one the journal records, and both are used;
 * on both storages (a Redis study's trials run through the cluster worker runtime in process).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';
import { ensureExecutable, FAKE_SMI_ROOT } from '../fixtures/fake-nvidia-smi/helpers.js';
import { journalOf, makeStorage } from './study-helpers.js';

const SPACE = join(ROOT, 'test/fixtures/lead/space.json');
const TWO_GPUS = { PATH: `${join(FAKE_SMI_ROOT, 'two-gpus')}:${process.env.PATH ?? ''}` };
const EVAL_FLAGS = ['--n-workers', '--single-node-with-gpus', '--gpus-per-trial', '--trial-timeout', '--cluster', '--scheduler-file', '--wait'];
let dir = '';

before(async () => {
  ensureExecutable();
  dir = await mkdtemp(join(tmpdir(), 'dehb-study-gpus-'));
  // a command trial that overlaps the others a little and reports the device it was given
  await writeFile(
    join(dir, 'cuda.mjs'),
    `const trial = JSON.parse(process.env.DEHB_TRIAL);
await new Promise((r) => setTimeout(r, 300));
console.log('DEHB_RESULT ' + JSON.stringify({ fitness: (trial.config.x - 1) ** 2, info: { cuda: process.env.CUDA_VISIBLE_DEVICES ?? null } }));
`,
  );
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('dehb optimize and dehb run offer the same evaluation flags', { timeout: 30_000 }, async () => {
  const run = await runCli(['run', '--help']);
  const optimize = await runCli(['optimize', '--help']);
  for (const flag of EVAL_FLAGS) {
    assert.match(run.stdout, new RegExp(`${flag}\\b`), `dehb run --help lacks ${flag}`);
    assert.match(optimize.stdout, new RegExp(`${flag}\\b`), `dehb optimize --help lacks ${flag}`);
  }
});

for (const kind of ['file', 'redis'] as const) {
  test(`[${kind}] dehb optimize -n 4 --single-node-with-gpus pins each command trial to one GPU`, { timeout: 120_000 }, async () => {
    const ts = kind === 'redis' ? await makeStorage('redis') : null;
    const storage = ts?.url ?? join(dir, 'studies');
    const cmd = `${process.execPath} ${join(dir, 'cuda.mjs')}`;
    const c = await runCli(['study', 'create', 'g', '--space', SPACE, '--min-fidelity', '1', '--max-fidelity', '9', '--command', cmd, '--seed', '3', '--storage', storage]);
    assert.equal(c.code, 0, c.stderr);
    const r = await runCli(['optimize', 'g', '--fevals', '8', '-n', '4', '--single-node-with-gpus', '--storage', storage, '--json'], { env: TWO_GPUS });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).toldTotal, 8);
    const told = (await journalOf(storage, 'g')).filter((e) => e.type === 'told');
    assert.equal(told.length, 8);
    const seen = new Set<string>();
    for (const e of told) {
      if (e.type !== 'told') continue;
      assert.equal(e.result.status, 'ok', JSON.stringify(e.result));
      const cuda = e.result.info?.cuda;
      assert.ok(cuda === '0' || cuda === '1', `trial ${e.trialId} ran with CUDA_VISIBLE_DEVICES=${String(cuda)}`);
      assert.deepEqual(e.worker?.devices, [cuda], `trial ${e.trialId}: the journal records the device the child saw`);
      seen.add(cuda);
    }
    assert.equal(seen.size, 2, 'four trials at once on two GPUs use both');

    // a machine without GPUs refuses the flag in flag words, like dehb run
    const none = await runCli(['optimize', 'g', '--fevals', '9', '--single-node-with-gpus', '--storage', storage], { env: { PATH: FAKE_SMI_ROOT, CUDA_VISIBLE_DEVICES: '' } });
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /no GPUs found: .*drop --single-node-with-gpus/);
    await ts?.cleanup();
  });
}
