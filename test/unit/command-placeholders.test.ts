/**
 * Command placeholders (issue 8 §5): an unknown `{name}` is refused before any trial runs, and an
 * inactive conditional parameter never reaches the command as literal text — `--momentum
 * {momentum}` is left out when `opt` is `adam` (checked with a real python3 argparse script).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudy } from '../../src/api/study-open.js';
import { DEHB } from '../../src/api/dehb.js';
import { checkPlaceholders, expandArgv } from '../../src/cluster/command-placeholders.js';
import { parseSpace } from '../../src/dehb/space/index.js';
import { isDehbError } from '../../src/errors.js';
import type { SpaceSpec } from '../../src/dehb/types.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/install/argparse_train.py', import.meta.url));
const space: SpaceSpec = {
  opt: { type: 'categorical', choices: ['sgd', 'adam'] },
  lr: { type: 'float', low: 0.001, high: 0.1, log: true },
  momentum: { type: 'float', low: 0.1, high: 0.99, condition: { parent: 'opt', in: ['sgd'] } },
  seed: { type: 'int', low: 0, high: 9, condition: { parent: 'opt', in: ['sgd'] } },
};
const ARGV = ['python3', SCRIPT, '--opt', '{opt}', '--lr', '{lr}', '--momentum', '{momentum}', '--epochs', '{fidelity}', '--seed={seed}'];

test('an unknown placeholder is refused at construction, naming it and listing the parameters', () => {
  assert.throws(
    () => new DEHB({ space, minFidelity: 1, maxFidelity: 9, objective: { command: [...ARGV, '--wd', '{weight_decay}'] } }),
    (e: unknown) =>
      isDehbError(e, 'E_CONFIG') &&
      /^objective\.command: unknown placeholder \{weight_decay\} in "\{weight_decay\}"; the parameters are \{opt\}, \{lr\}, \{momentum\}, \{seed\} and the built-ins \{fidelity\}/.test(e.message),
  );
});

test('a study with a command objective is checked the same way when it is created', async () => {
  const storage = await mkdtemp(join(tmpdir(), 'dehb-ph-'));
  try {
    await assert.rejects(
      createStudy({ name: 's', storage, space, minFidelity: 1, maxFidelity: 9, objective: { kind: 'command', argv: ['train', '{lr}', '{epochs}'] } }),
      (e: unknown) => isDehbError(e, 'E_CONFIG') && /^objective\.argv: unknown placeholder \{epochs\}/.test(e.message),
    );
  } finally {
    await rm(storage, { recursive: true, force: true });
  }
});

test('a conditional parameter inside other text is refused: it could not be left out cleanly', () => {
  assert.throws(
    () => checkPlaceholders(['train', '--hp=lr:{lr},m:{momentum}'], parseSpace(space), 'objective.command'),
    (e: unknown) => isDehbError(e, 'E_CONFIG') && /mentions the conditional parameter \{momentum\}/.test(e.message),
  );
  // unconditional parameters may sit anywhere
  checkPlaceholders(['train', '--hp=lr:{lr},opt:{opt}', 'x{fidelity}y'], parseSpace(space), 'objective.command');
});

test('expandArgv drops an inactive parameter with its bare flag, and a --flag={p} element whole', () => {
  const vars = new Map([['opt', 'adam'], ['lr', '0.01'], ['fidelity', '3']]);
  assert.deepEqual(expandArgv(ARGV, vars, (a) => a.replace(/\{(\w+)\}/g, (_w, k: string) => vars.get(k) ?? _w)), [
    'python3', SCRIPT, '--opt', 'adam', '--lr', '0.01', '--epochs', '3',
  ]);
  // a placeholder not introduced by a flag goes alone; the flag before a kept value stays
  assert.deepEqual(expandArgv(['run', '{momentum}', '--lr', '{lr}'], vars, (a) => a), ['run', '--lr', '{lr}']);
  assert.deepEqual(expandArgv(['run', '--x=1', '{momentum}'], vars, (a) => a), ['run', '--x=1']);
});

test('with a real argparse script, trials with opt=adam get no --momentum and no literal {momentum}', { timeout: 120_000 }, async () => {
  const dehb = new DEHB({ space, minFidelity: 1, maxFidelity: 9, seed: 5, nWorkers: 2, objective: { command: ARGV } });
  const r = await dehb.run({ fevals: 16 });
  assert.equal(r.history.length, 16);
  const failures = r.history.filter((t) => t.status !== 'ok').map((t) => t.error?.message);
  assert.deepEqual(failures, [], 'every trial parses its argv');
  const byOpt = { sgd: 0, adam: 0 };
  for (const t of r.history) {
    const args = (t.info as { argv: Record<string, unknown> }).argv;
    assert.equal(args.opt, t.config.opt);
    byOpt[t.config.opt as 'sgd' | 'adam']++;
    if (t.config.opt === 'adam') {
      assert.equal(args.momentum, null);
      assert.equal(args.seed, null);
    } else {
      assert.equal(args.momentum, t.config.momentum);
      assert.equal(args.seed, t.config.seed);
    }
  }
  assert.ok(byOpt.sgd > 0 && byOpt.adam > 0, `both branches ran: ${JSON.stringify(byOpt)}`);
});
