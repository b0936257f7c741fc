// A job on the queue carries data, never instructions. Hand-made jobs are put on the queue with
// BullMQ directly, as anyone with access to Redis could: environment overrides (PATH,
// NODE_OPTIONS, LD_PRELOAD), shell metacharacters in parameters, a shell flag, a trial directory
// and a cwd outside the worker's area, an objective outside --allow. None may run anything foreign
// or write outside the worker's --trials-dir, and a well-formed job next to them still runs.
// Batch jobs (several trials in one job) get the same checks per trial, and a forged batch (a
// trial of another run, a trial twice, too many trials) is refused whole: none of it runs.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_DIR, queueBed } from '../fixtures/cluster/harness.js';
import { ROOT } from '../fixtures/cluster/procs.js';

const ENV_OBJECTIVE = join(FIXTURE_DIR, 'env-objective.mjs');
const ARGV = ['node', ENV_OBJECTIVE, '--x', '{x}'];

interface Outcome {
  status: string;
  fitness?: number;
  info?: { PATH: string; NODE_OPTIONS: string | null; LD_PRELOAD: string | null; EVIL: string | null; cwd: string; trialDir: string; argv: string[] };
  error?: { code?: string; message: string };
  batch?: Array<{ trialId: number; outcome?: Outcome; handedBack?: true }>;
}

describe('untrusted jobs on the queue', { timeout: 120_000 }, () => {
  // the worker's arguments and files are made in the bed's before hook, from the paths below it
  const bed = queueBed(
    'untrusted',
    () => ['--command', ARGV.join(' '), '--trials-dir', area, '--concurrency', '2'],
    () => {
      for (const d of [area, outside, join(dir, 'evil-bin')]) mkdirSync(d, { recursive: true });
      // what an attacker would like to run: each writes the marker file
      writeFileSync(join(dir, 'evil-bin', 'node'), `#!/bin/sh\ntouch ${marker}-path\n`);
      chmodSync(join(dir, 'evil-bin', 'node'), 0o755);
      writeFileSync(join(dir, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(`${marker}-node-options`)}, 'x');\n`);
      writeFileSync(join(outside, 'evil.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(`${marker}-module`)}, 'x');\nexport const objective = () => 0;\n`);
    },
  );
  const { dir } = bed;
  const area = join(dir, 'area');
  const outside = join(dir, 'outside');
  const marker = join(outside, 'pwned');

  const job = (id: string, data: Record<string, unknown>) =>
    bed.queue.add('attack', { v: 1, fidelity: 1, timeoutMs: null, gpus: 0, ...data }, { jobId: id, removeOnComplete: false });
  const outcomeOf = async (id: string, data: Record<string, unknown>): Promise<Outcome> =>
    (await (await job(id, data)).waitUntilFinished(bed.events, 30_000)) as Outcome;
  const command = (extra: Record<string, unknown> = {}) => ({ kind: 'command', argv: ARGV, ...extra });

  it('a well-formed job runs in the worker\'s own trial directory, working directory and environment', async () => {
    const o = await outcomeOf('good-1', { runId: 'good', trialId: 1, config: { x: 3 }, objective: command() });
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(o.info?.trialDir, join(area, 'good', '1'));
    assert.equal(o.info?.cwd, ROOT, "the worker's own directory");
    assert.deepEqual(o.info?.argv, ['--x', '3']);
  });

  it('environment overrides in a job never reach the child', async () => {
    const env = { PATH: join(dir, 'evil-bin'), NODE_OPTIONS: `--require ${join(dir, 'evil.cjs')}`, LD_PRELOAD: join(dir, 'evil.so'), EVIL: '1' };
    const o = await outcomeOf('env-1', { runId: 'env', trialId: 1, config: { x: 1 }, objective: command({ env }) });
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(o.info?.PATH, process.env.PATH, 'PATH is the worker\'s own');
    assert.equal(o.info?.NODE_OPTIONS, process.env.NODE_OPTIONS ?? null);
    assert.equal(o.info?.LD_PRELOAD, null);
    assert.equal(o.info?.EVIL, null);
    assert.equal(existsSync(`${marker}-path`), false);
    assert.equal(existsSync(`${marker}-node-options`), false);
    await bed.worker.waitFor(/carries objective\.env: ignored/);
  });

  it('a cwd or trial directory outside the worker\'s area is ignored; nothing is written there', async () => {
    const victim = join(outside, 'victim');
    const o = await outcomeOf('dir-1', { runId: 'dir', trialId: 1, config: { x: 1 }, objective: command({ cwd: outside }), trialDir: victim });
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.equal(o.info?.cwd, ROOT, "the worker's own directory");
    assert.equal(o.info?.trialDir, join(area, 'dir', '1'));
    assert.equal(existsSync(victim), false);
  });

  it('a run id made to climb out of the trial directory is refused as invalid data', async () => {
    const o = await outcomeOf('climb-1', { runId: '../../outside', trialId: 1, config: { x: 1 }, objective: command() });
    assert.equal(o.status, 'failed');
    assert.match(o.error?.message ?? '', /invalid task: runId/);
    assert.deepEqual(readdirSync(outside).sort(), ['evil.mjs']);
  });

  it('shell metacharacters in parameters stay one argument; a job cannot switch the shell on', async () => {
    const x = `1; touch ${marker}-semi $(touch ${marker}-subst) \`touch ${marker}-tick\``;
    const o = await outcomeOf('meta-1', { runId: 'meta', trialId: 1, config: { x }, objective: command() });
    assert.equal(o.status, 'ok', JSON.stringify(o));
    assert.deepEqual(o.info?.argv, ['--x', x]);
    await job('meta-2', { runId: 'meta', trialId: 2, config: { x }, objective: command({ shell: true }) });
    await bed.worker.waitFor(/leaves job meta-2 for other workers: .*a job cannot ask for a shell/);
    assert.deepEqual(readdirSync(outside).sort(), ['evil.mjs'], 'no marker file was written');
  });

  const batchJob = (id: string, runId: string, trials: Array<Record<string, unknown>>) => ({
    v: 1,
    runId,
    batch: trials.map((t) => ({ v: 1, runId, fidelity: 1, timeoutMs: null, gpus: 0, config: { x: 1 }, objective: command(), ...t })),
  });
  const batchOutcomeOf = async (id: string, data: Record<string, unknown>): Promise<Outcome> =>
    (await (await bed.queue.add('attack', data, { jobId: id, removeOnComplete: false })).waitUntilFinished(bed.events, 30_000)) as Outcome;

  it('a batch job runs each trial in its own trial directory; its env and trial directories are ignored', async () => {
    const victim = join(outside, 'victim-batch');
    const o = await batchOutcomeOf('gb-1', batchJob('gb-1', 'goodb', [
      { trialId: 1, config: { x: 4 } },
      { trialId: 2, config: { x: 5 }, objective: command({ env: { EVIL: '1' } }), trialDir: victim },
    ]));
    assert.equal(o.batch?.length, 2, JSON.stringify(o));
    const [a, b] = o.batch ?? [];
    assert.equal(a?.outcome?.status, 'ok', JSON.stringify(o));
    assert.equal(a?.outcome?.info?.trialDir, join(area, 'goodb', '1'));
    assert.equal(b?.outcome?.status, 'ok', JSON.stringify(o));
    assert.equal(b?.outcome?.info?.trialDir, join(area, 'goodb', '2'));
    assert.equal(b?.outcome?.info?.EVIL, null);
    assert.equal(existsSync(victim), false);
  });

  for (const [what, trials, message] of [
    ['a trial of another run', [{ trialId: 1 }, { trialId: 2, runId: 'other' }], /invalid batch: batch\.1\.runId: is "other", not the job's run "forged"/],
    ['the same trial twice', [{ trialId: 3 }, { trialId: 3 }], /invalid batch: batch\.1\.trialId: trial 3 is in the job twice/],
    ['more than 256 trials', Array.from({ length: 257 }, (_, i) => ({ trialId: i })), /invalid batch: batch: must carry at most 256 trials/],
    ['an invalid trial', [{ trialId: 1 }, { trialId: 2, runId: '../../outside' }], /invalid batch: batch\.1\.runId/],
  ] as const) {
    it(`a forged batch with ${what} is refused whole; none of it runs`, async () => {
      const before = existsSync(join(area, 'forged')) ? readdirSync(join(area, 'forged')) : [];
      const o = await batchOutcomeOf(`forged-${what.replace(/\W+/g, '-')}`, batchJob('f', 'forged', trials as unknown as Array<Record<string, unknown>>));
      assert.equal(o.status, 'failed', JSON.stringify(o).slice(0, 500));
      assert.match(o.error?.message ?? '', message);
      assert.deepEqual(existsSync(join(area, 'forged')) ? readdirSync(join(area, 'forged')) : [], before, 'no trial directory made');
    });
  }

  it('a batch with one trial outside what the worker allows is left whole for other workers', async () => {
    const j = await bed.queue.add('attack', batchJob('evilb-1', 'evilb', [{ trialId: 1 }, { trialId: 2, objective: { kind: 'module', path: join(outside, 'evil.mjs') } }]), { jobId: 'evilb-1', removeOnComplete: false });
    await bed.worker.waitFor(/leaves job evilb-1/);
    const state = await bed.queue.getJobState(j.id as string);
    assert.ok(state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'active', `left on the queue (state ${state})`);
    assert.equal(existsSync(join(area, 'evilb')), false, 'not even its allowed trial ran');
    assert.deepEqual(readdirSync(outside).sort(), ['evil.mjs']);
  });

  it('an objective outside what the worker allows never runs', async () => {
    const evil = await job('evil-1', { runId: 'evil', trialId: 1, config: { x: 1 }, objective: { kind: 'module', path: join(outside, 'evil.mjs') } });
    const other = await job('evil-2', { runId: 'evil', trialId: 2, config: { x: 1 }, objective: { kind: 'command', argv: ['node', join(outside, 'evil.mjs')] } });
    // the well-formed job behind them still runs
    const o = (await (await job('good-2', { runId: 'good', trialId: 2, config: { x: 2 }, objective: command() })).waitUntilFinished(bed.events, 30_000)) as Outcome;
    assert.equal(o.status, 'ok');
    await bed.worker.waitFor(/leaves job evil-1/);
    await bed.worker.waitFor(/leaves job evil-2/);
    for (const j of [evil, other]) {
      const state = await bed.queue.getJobState(j.id as string);
      assert.ok(state === 'delayed' || state === 'waiting' || state === 'prioritized' || state === 'active', `left on the queue for another worker (state ${state})`);
    }
    assert.deepEqual(readdirSync(outside).sort(), ['evil.mjs']);
  });
});
