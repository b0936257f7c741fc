/** `dehb run --schedule` / config key `schedule`: passed to the optimizer options (then validated there). */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRunConfig, type RunFlags } from '../../src/cli/run-config.js';
import { resolveOptimizerOptions } from '../../src/dehb/options.js';

const dir = mkdtempSync(join(tmpdir(), 'dehb-schedule-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'space.json'), JSON.stringify({ x: { type: 'float', low: 0, high: 1 } }));
writeFileSync(join(dir, 'objective.mjs'), 'export function objective() { return 1; }\n');
writeFileSync(join(dir, 'dehb.json'), JSON.stringify({ space: 'space.json', objective: 'objective.mjs', minFidelity: 1, maxFidelity: 9, schedule: 'async', fevals: 5 }));

test('the config file key schedule and the --schedule flag reach the optimizer options', async () => {
  const fromFile = await loadRunConfig({ config: join(dir, 'dehb.json') } as RunFlags, dir);
  assert.equal(fromFile.optimizer.schedule, 'async');
  const fromFlag = await loadRunConfig({ config: join(dir, 'dehb.json'), schedule: 'sync' } as RunFlags, dir);
  assert.equal(fromFlag.optimizer.schedule, 'sync', 'the flag wins over the file');
  const bad = await loadRunConfig({ config: join(dir, 'dehb.json'), schedule: 'fifo' } as RunFlags, dir);
  assert.throws(() => resolveOptimizerOptions({ ...bad.optimizer, space: { x: { type: 'float', low: 0, high: 1 } } } as never), /schedule must be 'sync'/);
});
