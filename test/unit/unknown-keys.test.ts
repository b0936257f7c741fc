/**
 * Unknown keys in option objects written in code are errors naming the key with a "did you
 * mean" (issue 8 §5): DEHB, run(), study and cluster options. A typo used to be ignored and the
 * run quietly used the default (one thread, nothing saved). Also: random and manual studies need
 * no fidelity range.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEHB } from '../../src/api/dehb.js';
import { createStudy, deleteStudy, listStudies, loadStudy } from '../../src/api/study-open.js';
import { createClusterClient, createClusterExecutor } from '../../src/cluster/bullmq/client.js';
import { isDehbError } from '../../src/errors.js';
import { suggestKey } from '../../src/unknown-keys.js';
import { loadRunConfig } from '../../src/cli/run-config.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

const space: SpaceSpec = { x: { type: 'float', low: -5, high: 5 } };
const base = { space, minFidelity: 1, maxFidelity: 9, seed: 1, objective: (c: Record<string, unknown>) => Number(c.x) ** 2 };
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dehb-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function unknownKey(key: string, hint: string | null, where: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isDehbError(e, 'E_CONFIG'), String(e));
    assert.match(e.message, where);
    assert.match(e.message, new RegExp(`unknown option '${key}'`));
    if (hint === null) assert.doesNotMatch(e.message, /did you mean/);
    else assert.match(e.message, new RegExp(`\\(did you mean '${hint}'\\?\\)`));
    return true;
  };
}

test('new DEHB refuses unknown keys with a suggestion, before anything is written', () => {
  assert.throws(() => new DEHB({ ...base, nworkers: 4 } as never), unknownKey('nworkers', 'nWorkers', /^new DEHB\(options\)/));
  const out = join(dir, 'x');
  assert.throws(() => new DEHB({ ...base, outputdir: out } as never), unknownKey('outputdir', 'outputDir', /new DEHB/));
  assert.throws(() => new DEHB({ ...base, minFidelty: 1 } as never), unknownKey('minFidelty', 'minFidelity', /new DEHB/));
  assert.throws(() => new DEHB({ ...base, colour: 'red' } as never), unknownKey('colour', null, /new DEHB/));
  assert.equal(existsSync(out), false);
});

test('objective objects refuse unknown keys too', () => {
  assert.throws(() => new DEHB({ ...base, objective: { command: ['true'], cdw: '/tmp' } } as never), unknownKey('cdw', 'cwd', /^objective/));
  assert.throws(() => new DEHB({ ...base, objective: { module: 'x.mjs', export: 'f' } } as never), unknownKey('export', 'exportName', /^objective/));
  assert.throws(
    () => new DEHB({ ...base, objective: { comand: ['true'] } } as never),
    (e: unknown) => isDehbError(e, 'E_CONFIG') && /\(did you mean 'command'\?\)/.test(e.message),
  );
});

test('dehb.run() refuses unknown keys', async () => {
  const dehb = new DEHB(base);
  await assert.rejects(dehb.run({ fevls: 3 } as never), unknownKey('fevls', 'fevals', /^dehb\.run\(options\)/));
  await assert.rejects(dehb.run({ fevals: 3, runtime: 5 } as never), unknownKey('runtime', 'runtimeMs', /dehb\.run/));
  assert.equal((await dehb.run({ fevals: 3 })).history.length, 3);
});

test('study functions refuse unknown keys', async () => {
  const storage = join(dir, 'studies');
  await assert.rejects(
    createStudy({ name: 's', storage, space, minFidelity: 1, maxFidelity: 9, maxFileBytez: 5 } as never),
    unknownKey('maxFileBytez', 'maxFileBytes', /^createStudy\(options\)/),
  );
  await assert.rejects(listStudies({ storag: storage } as never), unknownKey('storag', 'storage', /listStudies/));
  await assert.rejects(loadStudy('s', { storge: storage } as never), unknownKey('storge', 'storage', /loadStudy/));
  await assert.rejects(deleteStudy('s', { Storage: storage } as never), unknownKey('Storage', 'storage', /deleteStudy/));
  const st = await createStudy({ name: 's', storage, space, minFidelity: 1, maxFidelity: 9, objective: { kind: 'command', argv: ['true'] } });
  try {
    await assert.rejects(st.optimize({ fevals: 2, nworkers: 2 } as never), unknownKey('nworkers', 'nWorkers', /^study\.optimize\(options\)/));
  } finally {
    await st.close();
  }
});

test('cluster option objects refuse unknown keys before connecting', async () => {
  const file = join(dir, 'no-such-scheduler.json');
  await assert.rejects(createClusterClient(file, { brokerTimeoutMS: 5 } as never), unknownKey('brokerTimeoutMS', 'brokerTimeoutMs', /^createClusterClient/));
  // runId and capacity belong to client.executor(runId, capacity), not to the client
  await assert.rejects(createClusterClient(file, { capacity: 5 } as never), unknownKey('capacity', null, /createClusterClient/));
  await assert.rejects(
    createClusterExecutor({ schedulerFile: file, runId: 'r', capcity: 3 } as never),
    unknownKey('capcity', 'capacity', /^createClusterExecutor/),
  );
});

test('random and manual studies need no fidelity range', async () => {
  const storage = join(dir, 'single');
  for (const kind of ['random', 'manual'] as const) {
    const st = await createStudy({ name: kind, storage, space, kind, objective: { kind: 'command', argv: ['true'] } });
    try {
      const view = await st.view();
      assert.equal(view.options.minFidelity, 1);
      assert.equal(view.options.maxFidelity, 1);
    } finally {
      await st.close();
    }
  }
  const at3 = await createStudy({ name: 'at3', storage, space, kind: 'random', maxFidelity: 3 });
  try {
    assert.deepEqual([(await at3.view()).options.minFidelity, (await at3.view()).options.maxFidelity], [3, 3]);
  } finally {
    await at3.close();
  }
  // DEHB itself still needs its range
  await assert.rejects(createStudy({ name: 'd', storage, space }), (e: unknown) => isDehbError(e, 'E_CONFIG') && /minFidelity is required/.test(e.message));
});

test('a dehb run --config file with a misspelt key names it with a suggestion', async () => {
  const file = join(dir, 'dehb.json');
  await writeFile(file, JSON.stringify({ space: { x: { type: 'float', low: 0, high: 1 } }, nworkers: 2 }));
  await assert.rejects(
    loadRunConfig({ config: file }),
    (e: unknown) => isDehbError(e, 'E_CONFIG') && e.message === `${file}: unknown key "nworkers" (did you mean "nWorkers"?)`,
  );
});

test('suggestKey: case and small typos, nothing for far-off names', () => {
  const known = ['nWorkers', 'outputDir', 'trialTimeoutMs'];
  assert.equal(suggestKey('NWORKERS', known), 'nWorkers');
  assert.equal(suggestKey('outputDr', known), 'outputDir');
  assert.equal(suggestKey('trialTimeout', known), 'trialTimeoutMs');
  assert.equal(suggestKey('banana', known), undefined);
});
