// The bundled Python helper (python/dehb_objective.py) driven by the real command runner and
// python3: results, reports, failures with tracebacks, retryable errors, NaN, stdin fallback.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PYTHON_HELPER_DIR } from '../../src/cluster/command-env.js';
import { runCommand } from '../../src/cluster/command-runner.js';
import type { EvalTask } from '../../src/protocol/executor.js';
import { FIXTURE_DIR } from '../conformance/executor.conformance.js';

const tmp = mkdtempSync(join(tmpdir(), 'dehb-py-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let id = 1;
function pyTask(config: EvalTask['config'], over: Partial<EvalTask> = {}): EvalTask {
  return {
    v: 1,
    runId: 'py',
    trialId: id++,
    config,
    fidelity: 4,
    objective: { kind: 'command', argv: ['python3', join(FIXTURE_DIR, 'train.py')] },
    timeoutMs: 30_000,
    gpus: 0,
    ...over,
  };
}

describe('python helper dehb_objective.run', { timeout: 60_000 }, () => {
  it('returns fitness/cost/info, streams reports and writes the result file', async () => {
    const reports: Array<[number, number]> = [];
    const trialDir = join(tmp, 'ok');
    const out = await runCommand(pyTask({ lr: 0.3 }, { trialDir }), { devices: ['GPU-1234'], onReport: (s, v) => reports.push([s, v]) });
    assert.equal(out.status, 'ok', JSON.stringify(out));
    if (out.status !== 'ok') return;
    const loss = (0.3 - 0.1) ** 2 + 1 / 4;
    assert.ok(Math.abs(out.fitness - loss) < 1e-12);
    assert.equal(out.cost, 4);
    assert.deepEqual(out.info, { devices: ['GPU-1234'], cuda: 'GPU-1234', trial: id - 1, stdin_was_used: false });
    assert.equal(reports.length, 2);
    assert.deepEqual(reports.map((r) => r[0]), [1, 2]);
    assert.ok(Math.abs(reports[0][1] - 2 * loss) < 1e-12);
    assert.equal(JSON.parse(readFileSync(join(trialDir, 'result.json'), 'utf8')).fitness, out.fitness);
  });

  it('an exception -> non-zero exit, failed trial with the traceback', async () => {
    const out = await runCommand(pyTask({ lr: 0.5, mode: 'crash' }));
    assert.equal(out.status, 'failed');
    if (out.status !== 'failed') return;
    assert.match(out.error.message, /exited with code 1/);
    assert.match(out.error.message, /Traceback[\s\S]*ValueError: bad learning rate 0\.5/);
    assert.equal(out.retryable, false);
  });

  it('ObjectiveError(retryable=True) -> exit 75 -> retryable failure', async () => {
    const out = await runCommand(pyTask({ lr: 0.5, mode: 'retry' }));
    assert.equal(out.status === 'failed' && out.retryable, true);
    assert.match(out.status === 'failed' ? out.error.message : '', /CUDA busy/);
  });

  it('NaN -> failed trial naming NaN', async () => {
    const out = await runCommand(pyTask({ lr: 0.5, mode: 'nan' }));
    assert.equal(out.status, 'failed');
    assert.match(out.status === 'failed' ? out.error.message : '', /NaN/);
  });

  it('a trial too large for the environment arrives on stdin only', async () => {
    const big = 'x'.repeat(200 * 1024);
    const out = await runCommand(pyTask({ lr: 0.1, blob: big }));
    assert.equal(out.status, 'ok', JSON.stringify(out).slice(0, 500));
    assert.equal(out.status === 'ok' && (out.info as { stdin_was_used: boolean }).stdin_was_used, true);
  });

  it('reads the trial from stdin when DEHB_TRIAL is absent; 2-argument functions work', () => {
    const code = [
      'from dehb_objective import run',
      'def f(config, fidelity): return {"fitness": config["a"] * fidelity, "info": {"k": [1, 2]}}',
      'run(f)',
    ].join('\n');
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: PYTHON_HELPER_DIR };
    delete env.DEHB_TRIAL;
    delete env.DEHB_RESULT_FILE;
    const res = spawnSync('python3', ['-c', code], { env, input: JSON.stringify({ config: { a: 2 }, fidelity: 3 }), encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^DEHB_RESULT \{"fitness": 6\.0, "info": \{"k": \[1, 2\]\}\}$/m);
  });
});
