// `dehb run --cluster --weight W` records the weight with the run (journal `created` meta.weight),
// a `--resume` without --weight serves the run with the recorded weight (it used to fall back to
// 1), a --weight given on resume is used instead (as -n is), and a journal whose recorded weight is
// not a number is refused as corrupted, naming the field (the journal is untrusted input).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanupPrefix, uniquePrefix } from '../fixtures/cluster/redis.js';
import { FIXTURE_DIR, writeFileFor } from '../fixtures/cluster/harness.js';
import { spawnCli } from '../fixtures/cluster/procs.js';

interface Created {
  type: string;
  meta: { weight?: unknown };
}

function created(out: string): Created {
  return JSON.parse(readFileSync(join(out, 'journal.jsonl'), 'utf8').split('\n')[0] as string) as Created;
}

describe('cluster: --weight is recorded with the run', { timeout: 120_000 }, () => {
  it('recorded at creation, restored on --resume, overridden by a --weight given on resume, refused when tampered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dehb-weight-'));
    const prefix = uniquePrefix('weight');
    const file = join(dir, 'sched.json');
    const out = join(dir, 'run');
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ x: { type: 'float', low: -5, high: 5 } }));
    await writeFileFor(file, prefix);
    const worker = spawnCli(['worker', '--scheduler-file', file, '--gpus', 'none', '--allow', FIXTURE_DIR, '--concurrency', '2']);
    const run = async (args: string[]): Promise<{ code: number | null; err: string }> => {
      const p = spawnCli(['run', '--cluster', '--scheduler-file', file, '--output', out, ...args]);
      const { code } = await p.exited;
      return { code, err: p.err() };
    };
    try {
      await worker.waitFor(/serving queue/);
      const first = await run([
        '--space', space, '--objective', join(FIXTURE_DIR, 'share-objective.mjs'), '--min-fidelity', '1', '--max-fidelity', '9',
        '--fevals', '4', '-n', '2', '--run-id', 'weighted', '--weight', '3',
      ]);
      assert.equal(first.code, 0, first.err);
      assert.match(first.err, /run weighted: fair-share weight 3 /);
      assert.equal(created(out).meta.weight, 3, 'the weight is in the journal');

      const resumed = await run(['--resume', '--fevals', '8']);
      assert.equal(resumed.code, 0, resumed.err);
      assert.match(resumed.err, /run weighted: fair-share weight 3 /, 'the recorded weight, not 1');

      const overridden = await run(['--resume', '--fevals', '12', '--weight', '2']);
      assert.equal(overridden.code, 0, overridden.err);
      assert.match(overridden.err, /run weighted: fair-share weight 2 /);
      assert.doesNotMatch(overridden.err, /fair-share weight 3/);

      const journalPath = join(out, 'journal.jsonl');
      const lines = readFileSync(journalPath, 'utf8').split('\n');
      const head = JSON.parse(lines[0] as string) as { meta: Record<string, unknown> };
      head.meta.weight = 'heavy';
      writeFileSync(journalPath, [JSON.stringify(head), ...lines.slice(1)].join('\n'));
      const tampered = await run(['--resume', '--fevals', '14']);
      assert.notEqual(tampered.code, 0);
      assert.match(tampered.err, /journal\.jsonl: corrupted journal \(meta\.weight: .*expected number/);
      assert.doesNotMatch(tampered.err, /\n\s+at /, 'no stack trace');
    } finally {
      worker.kill('SIGTERM');
      await worker.exited;
      await cleanupPrefix(prefix);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
