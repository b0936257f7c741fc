import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';
import { parseSpace, validateConfig } from '../../src/dehb/space/index.js';
import { yahpoDir } from '../../bench/lib/yahpo-lcbench.js';

const YAHPO = join(yahpoDir(), 'config_space.json');
const FIX = join(ROOT, 'test/fixtures/spaces');
const ALL_KINDS = join(FIX, 'configspace-all-kinds.json');

test('dehb space export converts ConfigSpace JSON to ours and back', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-space-'));
  try {
    const ours = await runCli(['space', 'export', YAHPO, '--format', 'dehb']);
    assert.equal(ours.code, 0, ours.stderr);
    const expected = parseSpace(JSON.parse(await readFile(YAHPO, 'utf8')));
    assert.deepEqual(JSON.parse(ours.stdout), expected);
    await writeFile(join(dir, 'ours.json'), ours.stdout);
    const cs = await runCli(['space', 'export', join(dir, 'ours.json'), '--format', 'configspace', '-o', join(dir, 'cs.json')]);
    assert.equal(cs.code, 0, cs.stderr);
    const doc = JSON.parse(await readFile(join(dir, 'cs.json'), 'utf8'));
    assert.equal(doc.hyperparameters.length, 9);
    assert.deepEqual(parseSpace(doc), expected);
    const bad = await runCli(['space', 'export', YAHPO, '--format', 'pcs']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be configspace or dehb \(got "pcs"\)/);
    await writeFile(join(dir, 'normal.json'), JSON.stringify({ hyperparameters: [{ name: 'w', type: 'normal_float', mu: 0, sigma: 1, log: false, default: 0 }] }));
    const normal = await runCli(['space', 'export', join(dir, 'normal.json')]);
    assert.equal(normal.code, 2);
    assert.match(normal.stderr, /normal\.json: ConfigSpace JSON: hyperparameter 'w' \("normal_float"\): a normal hyperparameter needs 'lower' and 'upper'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dehb run on a ConfigSpace file with conditions and forbiddens, integer fidelities, max-fidelity incumbent; --resume keeps them', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-space-'));
  try {
    const out = join(dir, 'run');
    const args = ['--objective', join(FIX, 'objective.mjs'), '--output', out, '--quiet'];
    const r = await runCli(['run', '--space', ALL_KINDS, '--min-fidelity', '1', '--max-fidelity', '27', '--fidelity-type', 'int', '--incumbent', 'max-fidelity', '--seed', '2', '--fevals', '40', ...args]);
    assert.equal(r.code, 0, r.stderr);
    const resumed = await runCli(['run', '--resume', '--fevals', '60', ...args]);
    assert.equal(resumed.code, 0, resumed.stderr);
    const lines = (await readFile(join(out, 'journal.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const created = lines.find((e) => e.type === 'created') as { options: { fidelityType: string; incumbent: string; space: unknown } };
    assert.equal(created.options.fidelityType, 'int');
    assert.equal(created.options.incumbent, 'max-fidelity');
    const space = parseSpace(created.options.space);
    const show = await runCli(['show', out, '--format', 'json']);
    assert.equal(show.code, 0, show.stderr);
    const j = JSON.parse(show.stdout) as { trials: Array<{ config: Record<string, unknown>; fidelity: number }>; incumbent: { fidelity: number } };
    assert.equal(j.trials.length, 60);
    for (const t of j.trials) {
      assert.ok([1, 3, 9, 27].includes(t.fidelity), `fidelity ${t.fidelity}`);
      validateConfig(space, t.config); // throws on a forbidden or inconsistent configuration
    }
    assert.equal(j.incumbent.fidelity, 27);
    const badFlag = await runCli(['run', '--space', ALL_KINDS, '--min-fidelity', '1', '--max-fidelity', '27', '--fidelity-type', 'epochs', '--fevals', '1', ...args]);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /--fidelity-type must be float or int \(got "epochs"\)/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dehb show reports the incumbent under the run\'s --incumbent rule (max-fidelity: top rung only), in the table and in json', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-space-'));
  try {
    const space = join(dir, 'space.json');
    await writeFile(space, JSON.stringify({ a: { type: 'float', low: 0, high: 1 }, b: { type: 'float', low: 0, high: 1 } }));
    const common = ['--space', space, '--objective', join(FIX, 'objective-low-fidelity-best.mjs'), '--min-fidelity', '1', '--max-fidelity', '9', '--seed', '3', '--fevals', '60', '--quiet'];
    const top = join(dir, 'top');
    const any = join(dir, 'any');
    assert.equal((await runCli(['run', ...common, '--incumbent', 'max-fidelity', '--output', top])).code, 0);
    assert.equal((await runCli(['run', ...common, '--output', any])).code, 0);
    for (const [out, fidelity] of [[top, 9], [any, 1]] as const) {
      const written = JSON.parse(await readFile(join(out, 'incumbent.json'), 'utf8')) as { trialId: number; fidelity: number };
      assert.equal(written.fidelity, fidelity);
      const json = await runCli(['show', out, '--format', 'json']);
      assert.equal(json.code, 0, json.stderr);
      const j = JSON.parse(json.stdout) as { incumbent: { trialId: number; fidelity: number } };
      assert.deepEqual([j.incumbent.trialId, j.incumbent.fidelity], [written.trialId, fidelity]);
      const table = await runCli(['show', out]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, new RegExp(`incumbent: fitness \\S+ at fidelity ${fidelity} \\(trial ${written.trialId}\\)`));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dehb study create takes --fidelity-type and --incumbent and a ConfigSpace --space; study show reports them', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dehb-space-'));
  try {
    const env = { DEHB_STORAGE: `file:${join(dir, 'studies')}` };
    const c = await runCli(
      ['study', 'create', 'lc', '--space', YAHPO, '--min-fidelity', '1', '--max-fidelity', '52', '--fidelity-type', 'int', '--incumbent', 'max-fidelity', '--command', 'true', '--seed', '1'],
      { env },
    );
    assert.equal(c.code, 0, c.stderr);
    const show = await runCli(['study', 'show', 'lc'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /fidelity {5}1\.\.52, eta 3, integer rungs, incumbent from max fidelity only/);
    assert.match(show.stdout, /space {8}OpenML_task_id, batch_size, epoch, learning_rate/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
